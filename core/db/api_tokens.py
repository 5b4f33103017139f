"""The JSON API tokens one organization was issued (ids only: the tokens are not stored)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import ApiToken
from core.db.scope import current_org
from core.errors import NotFoundError


@dataclass(frozen=True)
class TokenView:
    """An issued token as listed: its id, who it speaks for, and whether it still works."""

    token_id: str
    subject: str
    kind: str
    created_by: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


def _view(row: ApiToken) -> TokenView:
    return TokenView(
        row.token_id,
        row.subject,
        row.kind,
        row.created_by,
        row.created_at,
        row.expires_at,
        row.revoked_at,
    )


class ApiTokenRows:
    """Issue, list and revoke the session organization's API tokens."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self, subject: str, kind: str, *, by: str | None, now: datetime, expires_at: datetime
    ) -> TokenView:
        row = ApiToken(
            org_id=current_org(self.session),
            token_id=secrets.token_hex(8),
            subject=subject,
            kind=kind,
            created_by=by,
            created_at=now,
            expires_at=expires_at,
        )
        self.session.add(row)
        self.session.flush()
        return _view(row)

    def list(self) -> list[TokenView]:
        rows = self.session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc()))
        return [_view(r) for r in rows]

    def revoke(self, token_id: str, *, by: str | None, now: datetime) -> TokenView:
        row = self.session.scalars(
            select(ApiToken).where(ApiToken.token_id == token_id.strip().lower())
        ).first()
        if row is None:
            raise NotFoundError(f"This organization has no API token '{token_id[:32]}'.")
        if row.revoked_at is None:
            row.revoked_at, row.revoked_by = now, by
            self.session.flush()
        return _view(row)
