"""Which organization a session belongs to (see core.db.tenancy)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.db.tenancy import ORG_KEY
from core.errors import StoreError


def current_org(session: Session) -> int:
    """The organization of a tenant session; an error for any other session."""
    org_id = session.info.get(ORG_KEY)
    if not isinstance(org_id, int):
        raise StoreError("Internal error: organization data was used without an organization.")
    return org_id
