"""Organizations and their users (bcrypt-hashed passwords)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import bcrypt
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db.models import Organization, User
from core.db.scope import current_org
from core.errors import InvalidRequest, NotFoundError

ROLES = ("admin", "editor", "viewer")


def hash_password(password: str) -> str:
    """A bcrypt hash of ``password`` (the format streamlit-authenticator checks)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=12)).decode()


def check_password(password: str, hashed: str) -> bool:
    """True when ``password`` matches the bcrypt ``hashed``."""
    try:
        return bcrypt.checkpw(password.encode(), hashed.encode())
    except ValueError:
        return False


@dataclass(frozen=True)
class UserView:
    """A user as shown on screen (never the hash)."""

    id: int
    org_id: int
    username: str
    name: str
    email: str
    role: str
    active: bool


def _view(u: User) -> UserView:
    return UserView(u.id, u.org_id, u.username, u.name, u.email, u.role, u.active)


class OrganizationRepo:
    """Organizations: created at setup, looked up by id or slug."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, name: str, slug: str) -> Organization:
        org = Organization(name=name.strip(), slug=slug.strip().lower())
        try:
            with self.session.begin_nested():
                self.session.add(org)
                self.session.flush()
        except IntegrityError as exc:
            raise InvalidRequest(f"An organization with the short name '{slug}' exists.") from exc
        return org

    def get(self, id_or_slug: int | str) -> Organization:
        key = str(id_or_slug).strip()
        stmt = select(Organization).where(
            or_(
                Organization.slug == key.lower(),
                Organization.id == (int(key) if key.isdigit() else -1),
            )
        )
        org = self.session.scalars(stmt).first()
        if org is None:
            raise NotFoundError(f"There is no organization '{id_or_slug}'.")
        return org

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(Organization)) or 0)


class UserLookup:
    """The login lookup: users by username across organizations (hashes stay server-side)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _select(self) -> Select[User]:
        return select(User).execution_options(cross_org=True)

    def any_user(self) -> bool:
        stmt = select(func.count(User.id)).execution_options(cross_org=True)
        return bool(self.session.scalar(stmt))

    def find(self, username: str) -> User | None:
        stmt = self._select().where(User.username == username.strip().lower())
        return self.session.scalars(stmt).first()

    def active_users(self) -> Sequence[User]:
        return self.session.scalars(self._select().where(User.active.is_(True))).all()

    def member(self, org_id: int, username: str) -> tuple[Organization, User | None] | None:
        """The organization ``org_id`` and its active user ``username`` (None when there is no
        such user), in one statement; None when there is no such organization."""
        stmt = (
            select(Organization, User)
            .outerjoin(
                User,
                and_(
                    User.org_id == Organization.id,
                    User.username == username.strip().lower(),
                    User.active.is_(True),
                ),
            )
            .where(Organization.id == org_id)
            .execution_options(cross_org=True)
        )
        row = self.session.execute(stmt).first()
        return None if row is None else (row[0], row[1])


class UserRepo:
    """The users of the session's organization."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, username: str, name: str, email: str, password: str, role: str) -> UserView:
        username = username.strip().lower()
        if (
            not username
            or not username.replace("_", "").replace(".", "").replace("-", "").isalnum()
        ):
            raise InvalidRequest("A username uses letters, digits, '.', '_' or '-' only.")
        if role not in ROLES:
            raise InvalidRequest(f"Invalid role. Must be one of: {', '.join(ROLES)}")
        if len(password) < 8:
            raise InvalidRequest("A password needs at least 8 characters.")
        user = User(
            org_id=current_org(self.session),
            username=username,
            name=name.strip() or username,
            email=email.strip().lower(),
            password_hash=hash_password(password),
            role=role,
        )
        try:
            with self.session.begin_nested():
                self.session.add(user)
                self.session.flush()
        except IntegrityError as exc:
            raise InvalidRequest(f"The username '{username}' is taken.") from exc
        return _view(user)

    def list(self) -> list[UserView]:
        return [_view(u) for u in self.session.scalars(select(User).order_by(User.username))]

    def _get(self, username: str) -> User:
        user = self.session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFoundError(f"There is no user '{username}' in this organization.")
        return user

    def get(self, username: str) -> UserView:
        return _view(self._get(username))

    def set_password(self, username: str, password: str) -> None:
        """A new password; it also unlocks an account locked by failed logins."""
        if len(password) < 8:
            raise InvalidRequest("A password needs at least 8 characters.")
        user = self._get(username)
        user.password_hash = hash_password(password)
        user.failed_logins = 0

    def clear_failed_logins(self, username: str) -> None:
        self._get(username).failed_logins = 0

    def set_role(self, username: str, role: str) -> None:
        if role not in ROLES:
            raise InvalidRequest(f"Invalid role. Must be one of: {', '.join(ROLES)}")
        self._get(username).role = role

    def set_active(self, username: str, active: bool) -> None:
        self._get(username).active = active
