"""Organizations, users and signing in; and the actors every other service call starts with.

The sign-in calls (``needs_setup``, ``create_organization`` at first run, ``sign_in``,
``sign_in_needs_organization``) come before anybody is signed in: they take no actor. The
others make actors (``user_context``, ``api_actor``, ``gateway_caller``, ``operator``,
``scheduler``; each checks that the organization exists, and a user that they are active,
and marks the actor as checked: ``core.services.actors.checked``) or act as one.

Usernames are unique within an organization: a user signs in with their organization
(asked only when the installation has more than one) and username. A user's *login key*,
``"<org id>/<username>"`` (``UserContext.login_key``), names them across organizations: the
dashboard keeps it in its session and its cookie.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from core.db.accounts import (
    OrganizationRepo,
    UserLookup,
    UserRepo,
    UserView,
    hash_password,
    password_matches,
    valid_id,
)
from core.db.clock import utcnow
from core.db.models import Organization, User
from core.db.tenancy import system_session, tenant_session
from core.db.throttle import ThrottleRows
from core.errors import InvalidRequest, NotFoundError, SignInRefused
from core.services import signin
from core.services.actors import (
    ADD_USERS,
    CHANGE_ROLES,
    DEACTIVATE_USERS,
    MANAGE_USERS,
    RESET_PASSWORDS,
    Actor,
    ApiCaller,
    Operator,
    Scheduler,
    UserContext,
    authorize,
    checked,
)
from core.services.events import (
    OrganizationSetUp,
    PasswordReset,
    RoleChanged,
    SignedIn,
    SignedOut,
    SignInFailed,
    UserActivated,
    UserAdded,
    UserDeactivated,
    UserUnlocked,
    record,
)
from core.services.inputs import (
    all_or_nothing,
    check_email,
    check_org_name,
    check_password,
    check_person_name,
    check_username,
)

#: Compared against when the account does not exist, so that a wrong username takes as long
#: as a wrong password (the answer's timing reveals nothing either).
_NOBODY_HASH = hash_password("no such user: nothing matches this")


def slugify(name: str) -> str:
    """A short lower-case name for URLs and the CLI's --org."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64] or "org"


def _context(user: User, org: Organization) -> UserContext:
    return checked(
        UserContext(user.id, user.username, user.name, user.role, org.id, org.name, org.slug)
    )


class AccountService:
    """First-run setup, signing in, the actors, and the admin's user management."""

    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], datetime] | None = None
    ) -> None:
        self.sessions = sessions
        self.clock = clock or utcnow

    # --- before anybody is signed in ----------------------------------------------------------

    def needs_setup(self) -> bool:
        """True until the first user exists (the dashboard then shows the setup form)."""
        with system_session(self.sessions) as s:
            return not UserLookup(s).any_user()

    def sign_in_needs_organization(self) -> bool:
        """True when there is more than one organization (the sign-in form then asks which)."""
        with system_session(self.sessions) as s:
            return OrganizationRepo(s).only() is None

    def create_organization(
        self,
        org_name: str,
        *,
        admin_username: str,
        admin_name: str,
        admin_email: str,
        admin_password: str,
        slug: str | None = None,
    ) -> UserContext:
        """Create an organization and its first admin; returns the admin's context.

        Every input is checked first (lengths, the username's characters, the e-mail
        address); one ``InvalidRequest`` names every problem."""
        org_name, admin_username, admin_name, admin_email, _ = all_or_nothing(
            lambda: check_org_name(org_name),
            lambda: check_username(admin_username),
            lambda: check_person_name(admin_name or admin_username),
            lambda: check_email(admin_email),
            lambda: check_password(admin_password),
        )
        with system_session(self.sessions) as s:
            org = OrganizationRepo(s).create(org_name, slug or slugify(org_name))
            org_id = org.id
        try:
            with tenant_session(self.sessions, org_id) as s:
                admin = UserRepo(s).create(
                    admin_username, admin_name, admin_email, admin_password, "admin"
                )
                record(s, OrganizationSetUp(org_name), by=admin.username)
        except Exception:
            with system_session(self.sessions) as s:  # no half-made organization
                s.delete(OrganizationRepo(s).get(org_id))
            raise
        return self.user_context(f"{org_id}/{admin.username}")

    def sign_in(
        self,
        username: str,
        password: str,
        *,
        organization: str | None = None,
        client: str | None = None,
    ) -> UserContext:
        """The user whose password this is, signed in (logged); SignInRefused otherwise.

        ``organization`` (id, short name or name) may be left out when there is only one;
        ``client`` is the caller's address. Failures slow further sign-ins of the account
        and of the address down (``core.services.signin``); the answer never says whether
        the account exists.
        """
        now = self.clock()
        name = username.strip().lower()
        ctx: UserContext | None = None
        with system_session(self.sessions) as s:
            orgs = OrganizationRepo(s)
            typed = (organization or "").strip()
            org = orgs.find(typed) if typed else orgs.only()
            if org is None and not typed:
                raise SignInRefused("Enter your organization's short name as well.")
            account = signin.account_key(str(org.id) if org else "?" + typed.lower(), name)
            addresses = [signin.client_key(client)] if client else []
            throttle = ThrottleRows(s)
            until = throttle.blocked_until([account, *addresses], now)
            if until is not None:
                wait = (until - now).total_seconds()
                raise SignInRefused(signin.slowed_down(wait), retry_after=wait)
            user = UserLookup(s).in_org(org.id, name) if org is not None and name else None
            matches = password_matches(password, user.password_hash if user else _NOBODY_HASH)
            if org is not None and user is not None and user.active and matches:
                throttle.clear(account)
                ctx = _context(user, org)
            else:
                failures, blocked = throttle.fail(
                    account, now, signin.ACCOUNT.wait, signin.FORGET_AFTER
                )
                for key in addresses:
                    _, by_address = throttle.fail(key, now, signin.CLIENT.wait, signin.FORGET_AFTER)
                    blocked = max(filter(None, (blocked, by_address)), default=None)
                failed_in = user.org_id if user is not None else None
                reason = "Wrong password." if user is None or user.active else "Deactivated."
        if ctx is not None:
            with tenant_session(self.sessions, ctx.org_id) as s:
                record(s, SignedIn(client), by=ctx.log_name)
            return ctx
        wait = (blocked - now).total_seconds() if blocked is not None else 0.0
        if failed_in is not None:
            with tenant_session(self.sessions, failed_in) as s:
                event = SignInFailed(reason, failures, int(wait) or None, client)
                record(s, event, by=name)
        if wait > 0:
            raise SignInRefused(
                f"{signin.WRONG} Too many failed sign-ins: the next one waits "
                f"{signin.wait_words(wait)}.",
                retry_after=wait,
            )
        raise SignInRefused(signin.WRONG)

    # --- actors -------------------------------------------------------------------------------

    def user_context(self, login: str) -> UserContext:
        """The context of an active user by login key (``"<org id>/<username>"``), or by a
        username that only one organization has; NotFoundError when unknown or
        deactivated."""
        org_part, slash, name = login.rpartition("/")
        with system_session(self.sessions) as s:
            lookup = UserLookup(s)
            if slash:
                org_id = int(org_part) if org_part.isdigit() and len(org_part) < 12 else 0
                user = lookup.in_org(org_id, name) if valid_id(org_id) else None
            else:
                named = lookup.named(name)
                user = named[0] if len(named) == 1 else None
            if user is None or not user.active:
                raise NotFoundError("This account does not exist or was deactivated.")
            return _context(user, OrganizationRepo(s).get(user.org_id))

    def api_actor(
        self,
        org_id: int,
        subject: str | None,
        *,
        kind: str = "user",
        token_id: str | None = None,
    ) -> UserContext | ApiCaller:
        """Who an API token of ``org_id`` speaks for: a user token its subject, an active
        user of the organization (their role applies); a service token the service it
        names. Either must be a token this server issued and did not revoke
        (``ApiTokenService.issue``); SignInRefused otherwise."""
        if not valid_id(org_id):
            raise SignInRefused("The token is not valid for this server.")
        name = subject.strip() if isinstance(subject, str) else ""
        with system_session(self.sessions) as s:
            found = UserLookup(s).member(org_id, name if kind == "user" else "", token_id)
            if found is None:
                raise NotFoundError(f"There is no organization '{org_id}'.")
            org, user, issued = found
            if not issued:
                raise SignInRefused(
                    "This token was revoked, or was not issued by this server; ask for a new one."
                )
            if kind == "service":
                return checked(ApiCaller(org.id, name))
            if user is None:
                raise SignInRefused(
                    f"The token's user '{name[:64]}' was deactivated or no longer exists."
                )
            return _context(user, org)

    def gateway_caller(self, org_id: int) -> ApiCaller:
        """A request a trusted gateway passed on for ``org_id`` (logged as api:gateway)."""
        if not valid_id(org_id):
            raise SignInRefused("X-Org-Id must name an organization by its id.")
        with system_session(self.sessions) as s:
            return checked(ApiCaller(OrganizationRepo(s).get(org_id).id, "gateway"))

    def operator(self, org: int | str, *, name: str | None = None) -> Operator:
        """The operator acting in the organization with this id or short name (the CLI's
        ``--org``); ``name`` is what the activity log shows."""
        with system_session(self.sessions) as s:
            return checked(Operator(OrganizationRepo(s).get(org).id, name))

    def scheduler(self, org_id: int) -> Scheduler:
        """Timed work in the organization ``org_id``."""
        with system_session(self.sessions) as s:
            return checked(Scheduler(OrganizationRepo(s).get(org_id).id))

    def job_actor(self, org_id: int, kind: str, ref: str | None) -> Actor:
        """Who a job acts for, made again where it runs (a worker): ``kind`` and ``ref`` as
        ``job_identity`` gave them. A user deactivated since is refused (NotFoundError)."""
        if kind == "user":
            actor = self.user_context(ref or "")
            if actor.org_id != org_id:
                raise NotFoundError("This account does not exist or was deactivated.")
            return actor
        with system_session(self.sessions) as s:
            org = OrganizationRepo(s).get(org_id).id
        if kind == "api":
            return checked(ApiCaller(org, ref or ""))
        if kind == "scheduler":
            return checked(Scheduler(org))
        return checked(Operator(org, ref))

    def record_logout(self, actor: UserContext) -> None:
        """Write a sign-out to the activity log."""
        with tenant_session(self.sessions, actor.org_id) as s:
            record(s, SignedOut(), by=actor.log_name)

    # --- user management (admins) -------------------------------------------------------------

    def list_users(self, actor: Actor) -> list[UserView]:
        authorize(actor, MANAGE_USERS)
        with tenant_session(self.sessions, actor.org_id) as s:
            return UserRepo(s).list()

    def add_user(
        self, actor: Actor, username: str, name: str, email: str, password: str, role: str
    ) -> UserView:
        """A new user of the actor's organization (inputs checked as at setup)."""
        authorize(actor, ADD_USERS)
        username, name, email, _ = all_or_nothing(
            lambda: check_username(username),
            lambda: check_person_name(name or username),
            lambda: check_email(email),
            lambda: check_password(password),
        )
        with tenant_session(self.sessions, actor.org_id) as s:
            view = UserRepo(s).create(username, name, email, password, role)
            record(s, UserAdded(view.username, role), by=actor.log_name)
            return view

    def reset_password(self, actor: Actor, username: str, password: str) -> None:
        """A new password for ``username``; it also clears the account's failed sign-ins."""
        authorize(actor, RESET_PASSWORDS)
        with tenant_session(self.sessions, actor.org_id) as s:
            UserRepo(s).set_password(username, password)
            record(s, PasswordReset(username), by=actor.log_name)
        self._clear_failures(actor.org_id, username)

    def unlock(self, actor: Actor, username: str) -> bool:
        """Clear the failed sign-ins of ``username`` (the wait ends now); True when it had
        any."""
        authorize(actor, RESET_PASSWORDS)
        with tenant_session(self.sessions, actor.org_id) as s:
            name = UserRepo(s).get(username).username
        cleared = self._clear_failures(actor.org_id, name)
        with tenant_session(self.sessions, actor.org_id) as s:
            record(s, UserUnlocked(name, cleared), by=actor.log_name)
        return cleared

    def _clear_failures(self, org_id: int, username: str) -> bool:
        with system_session(self.sessions) as s:
            return bool(ThrottleRows(s).clear(signin.account_key(str(org_id), username)))

    def set_role(self, actor: Actor, username: str, role: str) -> None:
        authorize(actor, CHANGE_ROLES)
        if _is_self(actor, username) and role != "admin":
            raise InvalidRequest("You cannot remove your own admin role.")
        with tenant_session(self.sessions, actor.org_id) as s:
            UserRepo(s).set_role(username, role)
            record(s, RoleChanged(username, role), by=actor.log_name)

    def set_active(self, actor: Actor, username: str, active: bool) -> None:
        authorize(actor, DEACTIVATE_USERS)
        if _is_self(actor, username) and not active:
            raise InvalidRequest("You cannot deactivate your own account.")
        with tenant_session(self.sessions, actor.org_id) as s:
            UserRepo(s).set_active(username, active)
            event = UserActivated(username) if active else UserDeactivated(username)
            record(s, event, by=actor.log_name)


def _is_self(actor: Actor, username: str) -> bool:
    return isinstance(actor, UserContext) and actor.username == username


def job_identity(actor: Actor) -> tuple[str, str | None]:
    """How a job remembers its actor: a kind and a reference (``job_actor`` reads them)."""
    if isinstance(actor, UserContext):
        return "user", actor.login_key
    if isinstance(actor, ApiCaller):
        return "api", actor.subject
    if isinstance(actor, Scheduler):
        return "scheduler", None
    return "operator", actor.name
