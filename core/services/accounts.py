"""Organizations, users and signing in; and the actors every other service call starts with.

The sign-in calls (``needs_setup``, ``create_organization`` at first run, ``login_credentials``,
``record_failed_login``) come before anybody is signed in: they take no actor. The others
make actors (``user_context``, ``api_actor``, ``operator``, ``scheduler``; each checks that
the organization exists) or act as one.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.db.accounts import OrganizationRepo, UserLookup, UserRepo, UserView
from core.db.models import Organization, User
from core.db.tenancy import system_session, tenant_session
from core.errors import InvalidRequest, NotFoundError
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

MAX_FAILED_LOGINS = 5


def slugify(name: str) -> str:
    """A short lower-case name for URLs and the CLI's --org."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64] or "org"


def _context(user: User, org: Organization) -> UserContext:
    return UserContext(user.id, user.username, user.name, user.role, org.id, org.name, org.slug)


class AccountService:
    """First-run setup, signing in, the actors, and the admin's user management."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    # --- before anybody is signed in ----------------------------------------------------------

    def needs_setup(self) -> bool:
        """True until the first user exists (the dashboard then shows the setup form)."""
        with system_session(self.sessions) as s:
            return not UserLookup(s).any_user()

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
        return self.user_context(admin_username)

    def login_credentials(self) -> dict[str, Any]:
        """The credentials dict streamlit-authenticator expects (bcrypt hashes, active users)."""
        with system_session(self.sessions) as s:
            users = UserLookup(s).active_users()
            return {
                "usernames": {
                    u.username: {
                        "name": u.name,
                        "email": u.email,
                        "password": u.password_hash,
                        "roles": [u.role],
                        "failed_login_attempts": u.failed_logins,
                        "logged_in": False,
                    }
                    for u in users
                }
            }

    def record_failed_login(self, username: str) -> int:
        """Count a wrong password for ``username`` (kept across sessions); returns the count.

        At MAX_FAILED_LOGINS the account is locked until an admin resets its password.
        Unknown usernames are not recorded (there is nobody to lock).
        """
        with system_session(self.sessions) as s:
            user = UserLookup(s).find(username)
            if user is None:
                return 0
            user.failed_logins += 1
            org_id, count, name = user.org_id, user.failed_logins, user.username
        error = (
            "Wrong password."
            if count < MAX_FAILED_LOGINS
            else f"Wrong password; the account is locked after {count} attempts."
        )
        with tenant_session(self.sessions, org_id) as s:
            record(s, SignInFailed(error), by=name)
        return count

    # --- actors -------------------------------------------------------------------------------

    def user_context(self, username: str) -> UserContext:
        """The context of an active user; NotFoundError when unknown or deactivated."""
        with system_session(self.sessions) as s:
            user = UserLookup(s).find(username)
            if user is None or not user.active:
                raise NotFoundError("This account does not exist or was deactivated.")
            return _context(user, OrganizationRepo(s).get(user.org_id))

    def api_actor(self, org_id: int, subject: str | None) -> UserContext | ApiCaller:
        """Who an API token of ``org_id`` speaks for: its subject when that is an active user
        of the organization (their role applies), else a service named by the subject."""
        name = subject.strip() if isinstance(subject, str) else ""
        with system_session(self.sessions) as s:
            found = UserLookup(s).member(org_id, name)
            if found is None:
                raise NotFoundError(f"There is no organization '{org_id}'.")
            org, user = found
            return ApiCaller(org.id, name) if user is None else _context(user, org)

    def gateway_caller(self, org_id: int) -> ApiCaller:
        """A request a trusted gateway passed on for ``org_id`` (logged as api:gateway)."""
        with system_session(self.sessions) as s:
            return ApiCaller(OrganizationRepo(s).get(org_id).id, "gateway")

    def operator(self, org: int | str, *, name: str | None = None) -> Operator:
        """The operator acting in the organization with this id or short name (the CLI's
        ``--org``); ``name`` is what the activity log shows."""
        with system_session(self.sessions) as s:
            return Operator(OrganizationRepo(s).get(org).id, name)

    def scheduler(self, org_id: int) -> Scheduler:
        """Timed work in the organization ``org_id``."""
        with system_session(self.sessions) as s:
            return Scheduler(OrganizationRepo(s).get(org_id).id)

    def record_login(self, actor: UserContext) -> None:
        """Write a sign-in to the activity log and clear the user's failed attempts."""
        with tenant_session(self.sessions, actor.org_id) as s:
            UserRepo(s).clear_failed_logins(actor.username)
            record(s, SignedIn(), by=actor.log_name)

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
        authorize(actor, RESET_PASSWORDS)
        with tenant_session(self.sessions, actor.org_id) as s:
            UserRepo(s).set_password(username, password)
            record(s, PasswordReset(username), by=actor.log_name)

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
