"""Organizations, users and logins."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.db.accounts import OrganizationRepo, UserLookup, UserRepo, UserView
from core.db.audit import ActivityStore
from core.db.tenancy import system_session, tenant_session
from core.errors import InvalidRequest, NotFoundError
from core.services.context import UserContext, require

MAX_FAILED_LOGINS = 5


def slugify(name: str) -> str:
    """A short lower-case name for URLs and the CLI's --org."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64] or "org"


class AccountService:
    """First-run setup, the login lookup, and the admin's user management."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

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
        """Create an organization and its first admin; returns the admin's context."""
        if not org_name.strip():
            raise InvalidRequest("Give the organization a name.")
        with system_session(self.sessions) as s:
            org = OrganizationRepo(s).create(org_name, slug or slugify(org_name))
            org_id = org.id
        try:
            with tenant_session(self.sessions, org_id) as s:
                UserRepo(s).create(admin_username, admin_name, admin_email, admin_password, "admin")
                ActivityStore(s).add(
                    "setup", user=admin_username.strip().lower(), details={"org": org_name}
                )
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

    def user_context(self, username: str) -> UserContext:
        """The context of an active user; NotFoundError when unknown or deactivated."""
        with system_session(self.sessions) as s:
            user = UserLookup(s).find(username)
            if user is None or not user.active:
                raise NotFoundError("This account does not exist or was deactivated.")
            org = OrganizationRepo(s).get(user.org_id)
            return UserContext(
                user.id, user.username, user.name, user.role, org.id, org.name, org.slug
            )

    def record_login(self, actor: UserContext, *, status: str = "ok") -> None:
        """Write a login (or a logout, with status="logout") to the activity log.

        A successful login also clears the user's count of failed attempts.
        """
        with tenant_session(self.sessions, actor.org_id) as s:
            if status == "ok":
                UserRepo(s).clear_failed_logins(actor.username)
            ActivityStore(s).add("login" if status == "ok" else status, user=actor.username)

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
        with tenant_session(self.sessions, org_id) as s:
            ActivityStore(s).add(
                "login",
                user=name,
                status="failed",
                error="Wrong password."
                if count < MAX_FAILED_LOGINS
                else f"Wrong password; the account is locked after {count} attempts.",
            )
        return count

    def list_users(self, actor: UserContext) -> list[UserView]:
        require(actor, "admin", "manage users")
        with tenant_session(self.sessions, actor.org_id) as s:
            return UserRepo(s).list()

    def add_user(
        self, actor: UserContext, username: str, name: str, email: str, password: str, role: str
    ) -> UserView:
        require(actor, "admin", "add users")
        with tenant_session(self.sessions, actor.org_id) as s:
            view = UserRepo(s).create(username, name, email, password, role)
            ActivityStore(s).add(
                "user_added", user=actor.username, details={"username": view.username, "role": role}
            )
            return view

    def reset_password(self, actor: UserContext, username: str, password: str) -> None:
        require(actor, "admin", "reset passwords")
        with tenant_session(self.sessions, actor.org_id) as s:
            UserRepo(s).set_password(username, password)
            ActivityStore(s).add(
                "password_reset", user=actor.username, details={"username": username}
            )

    def set_role(self, actor: UserContext, username: str, role: str) -> None:
        require(actor, "admin", "change roles")
        if username == actor.username and role != "admin":
            raise InvalidRequest("You cannot remove your own admin role.")
        with tenant_session(self.sessions, actor.org_id) as s:
            UserRepo(s).set_role(username, role)
            ActivityStore(s).add(
                "role_changed", user=actor.username, details={"username": username, "role": role}
            )

    def set_active(self, actor: UserContext, username: str, active: bool) -> None:
        require(actor, "admin", "deactivate users")
        if username == actor.username and not active:
            raise InvalidRequest("You cannot deactivate your own account.")
        with tenant_session(self.sessions, actor.org_id) as s:
            UserRepo(s).set_active(username, active)
            ActivityStore(s).add(
                "user_activated" if active else "user_deactivated",
                user=actor.username,
                details={"username": username},
            )
