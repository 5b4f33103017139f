"""What each user of the session organization chose last (kept across sign-outs)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db.models import UserPreference
from core.db.scope import current_org


class PreferenceStore:
    """Per user, one value per preference name."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int, name: str) -> dict[str, Any] | None:
        row = self._row(user_id, name)
        return dict(row.value) if row is not None else None

    def set(self, user_id: int, name: str, value: dict[str, Any]) -> None:
        row = self._row(user_id, name)
        if row is None:
            try:
                with self.session.begin_nested():
                    self.session.add(
                        UserPreference(
                            org_id=current_org(self.session),
                            user_id=user_id,
                            name=name,
                            value=dict(value),
                        )
                    )
                return
            except IntegrityError:  # the same user's other session saved it at this moment
                row = self._row(user_id, name)
                if row is None:
                    raise
        row.value = dict(value)
        self.session.flush()

    def _row(self, user_id: int, name: str) -> UserPreference | None:
        return self.session.scalars(
            select(UserPreference).where(
                UserPreference.user_id == user_id, UserPreference.name == name
            )
        ).first()
