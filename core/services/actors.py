"""Who acts, and what each role may do: the one place where permissions are checked.

Every service call names its actor first. There are four kinds, each acting in one
organization:

    actor          who                                        role           activity log
    UserContext    a signed-in user (the dashboard, or an     their own      their username
                   API token whose subject is that user)
    ApiCaller      another service with an API token, or a    editor         api:<subject>
                   trusted gateway
    Scheduler      work that runs on a timer                  editor         scheduler
    Operator       the command line, on the server itself     admin          as the command
                                                                             says (none: blank)

Actors are made by ``AccountService`` (``user_context``, ``api_actor``, ``operator``,
``scheduler``), which checks that the organization exists and that a user is active, and
marks each actor it made as checked (:func:`checked`). The services call :func:`authorize`
with one of the permissions below before they do anything; it refuses an actor that was not
checked (one made by hand), so that ``actor.org_id`` is always an organization that exists
and the actor belongs to it. ``tests/test_architecture.py`` keeps ``checked`` to
``core/services/accounts.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar

from core.errors import PermissionDenied

Role = Literal["viewer", "editor", "admin"]
ROLE_RANK: dict[str, int] = {"viewer": 0, "editor": 1, "admin": 2}
ROLE_LABEL: dict[str, str] = {"viewer": "a viewer", "editor": "an editor", "admin": "an admin"}


class _Ranked:
    """What an actor's ``role`` allows: viewer < editor < admin."""

    role: str

    def can(self, role: Role) -> bool:
        """True when this actor's role is ``role`` or above."""
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]


@dataclass(frozen=True)
class UserContext(_Ranked):
    """A signed-in user of one organization, acting with their role."""

    user_id: int
    username: str
    name: str
    role: str
    org_id: int
    org_name: str
    org_slug: str

    @property
    def log_name(self) -> str:
        return self.username

    @property
    def login_key(self) -> str:
        """``"<org id>/<username>"``: names this user across organizations (the session's
        and the sign-in cookie's key; ``AccountService.user_context`` reads it)."""
        return f"{self.org_id}/{self.username}"


@dataclass(frozen=True)
class ApiCaller(_Ranked):
    """Another service calling the JSON API with a token of ``org_id`` (not a user)."""

    org_id: int
    subject: str = ""
    role: Role = "editor"

    @property
    def log_name(self) -> str:
        return f"api:{self.subject}"[:64] if self.subject else "api"


@dataclass(frozen=True)
class Scheduler(_Ranked):
    """Work started by a timer (periodic refreshes), not by a person."""

    org_id: int
    role: Role = "editor"

    @property
    def log_name(self) -> str:
        return "scheduler"


@dataclass(frozen=True)
class Operator(_Ranked):
    """Whoever runs the command line on the server: may do anything in ``org_id``.

    ``name`` is what the activity log shows (blank when None); the CLI's ``demo`` acts for
    the admin it creates.
    """

    org_id: int
    name: str | None = None
    role: Role = "admin"

    @property
    def log_name(self) -> str | None:
        return self.name


Actor = UserContext | ApiCaller | Scheduler | Operator
A = TypeVar("A", UserContext, ApiCaller, Scheduler, Operator)


class _Checked:
    """The mark of an actor whose organization (and user) AccountService checked."""


_CHECKED = _Checked()
_MARK = "_checked_by_accounts"


def checked(actor: A) -> A:
    """Mark ``actor`` as made by ``AccountService`` after checking it (only it calls this)."""
    object.__setattr__(actor, _MARK, _CHECKED)
    return actor


def is_checked(actor: Actor) -> bool:
    """True when ``AccountService`` made (and checked) this actor."""
    return getattr(actor, _MARK, None) is _CHECKED


@dataclass(frozen=True)
class Permission:
    """The least role an operation needs, and the operation in words."""

    role: Role
    action: str


VIEW = Permission("viewer", "see previews, settings and activity")
REFRESH_PREVIEWS = Permission("editor", "refresh previews")
EXPIRE_PREVIEWS = Permission("editor", "expire cached previews")
CANCEL_JOBS = Permission("editor", "cancel work someone else started")
CHANGE_SELECTIVE_SYNC = Permission("editor", "change selective sync")
ADD_CONNECTORS = Permission("admin", "add connectors")
CHANGE_CONNECTORS = Permission("admin", "change connectors")
DELETE_CONNECTORS = Permission("admin", "delete connectors")
TEST_CONNECTORS = Permission("admin", "test connectors")
LOAD_DEMO_DATA = Permission("admin", "load demo data")
CHOOSE_WARM_PREVIEWS = Permission("admin", "choose which previews are kept warm")
MANAGE_USERS = Permission("admin", "manage users")
ADD_USERS = Permission("admin", "add users")
RESET_PASSWORDS = Permission("admin", "reset passwords")
CHANGE_ROLES = Permission("admin", "change roles")
DEACTIVATE_USERS = Permission("admin", "deactivate users")
MANAGE_API_TOKENS = Permission("admin", "issue and revoke API tokens")
MANAGE_LOCAL_DATA = Permission("admin", "connect your database, map your records and import files")
APPLY_SYNC = Permission("editor", "apply a sync")
UNDO_SYNC = Permission("editor", "undo a sync")


def authorize(actor: Actor, permission: Permission) -> None:
    """Refuse unless ``actor`` was made by ``AccountService`` (its organization checked) and
    its role allows ``permission`` (PermissionDenied, a sentence)."""
    if not is_checked(actor):
        raise PermissionDenied(
            "This operation was asked for by someone the server has not identified "
            f"(organization {actor.org_id} unchecked); nothing was done."
        )
    if actor.can(permission.role):
        return
    need = ROLE_LABEL[permission.role]
    if isinstance(actor, UserContext):
        raise PermissionDenied(
            f"You need to be {need} to {permission.action}; your role is {actor.role}."
        )
    raise PermissionDenied(
        f"{actor.log_name or 'The operator'} may not {permission.action}: "
        f"that needs {need}, and it acts as {ROLE_LABEL[actor.role]}."
    )
