"""Who is acting: the signed-in user and their organization, and what their role allows."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import PermissionDenied

ROLE_RANK = {"viewer": 0, "editor": 1, "admin": 2}
ROLE_LABEL = {"viewer": "a viewer", "editor": "an editor", "admin": "an admin"}


@dataclass(frozen=True)
class UserContext:
    """A signed-in user of one organization (what every service call acts on behalf of)."""

    user_id: int
    username: str
    name: str
    role: str
    org_id: int
    org_name: str
    org_slug: str

    def can(self, role: str) -> bool:
        """True when this user's role is ``role`` or above (viewer < editor < admin)."""
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]


def require(actor: UserContext | None, role: str, action: str) -> None:
    """Refuse ``action`` unless ``actor`` has ``role``; None is the operator (CLI, cron)."""
    if actor is not None and not actor.can(role):
        raise PermissionDenied(
            f"You need to be {ROLE_LABEL[role]} to {action}; your role is {actor.role}."
        )


def actor_name(actor: UserContext | str | None) -> str | None:
    """The name written to the activity log for ``actor``."""
    if actor is None or isinstance(actor, str):
        return actor
    return actor.username
