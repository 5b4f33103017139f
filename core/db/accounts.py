"""Organizations and their users (bcrypt-hashed passwords)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import bcrypt
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db.models import ApiToken, Organization, User
from core.db.scope import current_org
from core.errors import InvalidRequest, NotFoundError

ROLES = ("admin", "editor", "viewer")
#: The longest organization id (the column is a 32-bit integer): larger ones name nothing.
MAX_ID = 2**31 - 1


def _name(username: str) -> str:
    return username.strip().lower()


def valid_id(value: int) -> bool:
    """True for an id our tables can hold (1 .. 2**31-1)."""
    return 0 < value <= MAX_ID


def hash_password(password: str) -> str:
    """A bcrypt hash of ``password`` (the format streamlit-authenticator checks)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=12)).decode()


def password_matches(password: str, hashed: str) -> bool:
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
        org = self.find(id_or_slug)
        if org is None:
            raise NotFoundError(f"There is no organization '{str(id_or_slug)[:64]}'.")
        return org

    def find(self, id_or_slug: int | str) -> Organization | None:
        """The organization with this id or short name (or, for sign-in, this exact name)."""
        key = str(id_or_slug).strip()
        number = int(key) if key.isdigit() and len(key) < 12 else -1
        stmt = select(Organization).where(
            or_(
                Organization.slug == key.lower(),
                Organization.id == (number if valid_id(number) else -1),
                func.lower(Organization.name) == key.lower(),
            )
        )
        return self.session.scalars(stmt.order_by(Organization.id)).first()

    def only(self) -> Organization | None:
        """The organization when there is exactly one (a single-organization install)."""
        orgs = self.session.scalars(select(Organization).limit(2)).all()
        return orgs[0] if len(orgs) == 1 else None

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(Organization)) or 0)


class UserLookup:
    """The sign-in lookup: users across organizations (hashes stay server-side)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _select(self) -> Select[User]:
        return select(User).execution_options(cross_org=True)

    def any_user(self) -> bool:
        stmt = select(func.count(User.id)).execution_options(cross_org=True)
        return bool(self.session.scalar(stmt))

    def in_org(self, org_id: int, username: str) -> User | None:
        """The user ``username`` of the organization ``org_id`` (active or not)."""
        stmt = self._select().where(User.org_id == org_id, User.username == _name(username))
        return self.session.scalars(stmt).first()

    def named(self, username: str) -> Sequence[User]:
        """Every user called ``username``, in any organization."""
        return self.session.scalars(
            self._select().where(User.username == _name(username)).limit(2)
        ).all()

    def member(
        self, org_id: int, username: str, token_id: str | None = None
    ) -> tuple[Organization, User | None, bool] | None:
        """The organization ``org_id``, its active user ``username`` (None when there is no
        such user) and whether ``token_id`` is an unrevoked token of it, in one statement;
        None when there is no such organization."""
        stmt = (
            select(Organization, User, ApiToken.id)
            .outerjoin(
                User,
                and_(
                    User.org_id == Organization.id,
                    User.username == _name(username),
                    User.active.is_(True),
                ),
            )
            .outerjoin(
                ApiToken,
                and_(
                    ApiToken.org_id == Organization.id,
                    ApiToken.token_id == (token_id or ""),
                    ApiToken.revoked_at.is_(None),
                ),
            )
            .where(Organization.id == org_id)
            .execution_options(cross_org=True)
        )
        row = self.session.execute(stmt).first()
        return None if row is None else (row[0], row[1], row[2] is not None)


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
            raise InvalidRequest(
                f"This organization has a user '{username}' already; choose another username."
            ) from exc
        return _view(user)

    def list(self) -> list[UserView]:
        return [_view(u) for u in self.session.scalars(select(User).order_by(User.username))]

    def _get(self, username: str) -> User:
        user = self.session.scalars(select(User).where(User.username == _name(username))).first()
        if user is None:
            raise NotFoundError(f"There is no user '{username}' in this organization.")
        return user

    def get(self, username: str) -> UserView:
        return _view(self._get(username))

    def set_password(self, username: str, password: str) -> None:
        """A new password (the caller also clears the account's failed sign-ins)."""
        if len(password) < 8:
            raise InvalidRequest("A password needs at least 8 characters.")
        user = self._get(username)
        user.password_hash = hash_password(password)

    def set_role(self, username: str, role: str) -> None:
        if role not in ROLES:
            raise InvalidRequest(f"Invalid role. Must be one of: {', '.join(ROLES)}")
        self._get(username).role = role

    def set_active(self, username: str, active: bool) -> None:
        self._get(username).active = active
