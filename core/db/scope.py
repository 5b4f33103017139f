"""Which organization a session belongs to (see core.db.tenancy), and its helpers for bulk
writes and raw SQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.db.tenancy import ORG_KEY
from core.errors import StoreError


def current_org(session: Session) -> int:
    """The organization of a tenant session; an error for any other session."""
    org_id = session.info.get(ORG_KEY)
    if not isinstance(org_id, int):
        raise StoreError("Internal error: organization data was used without an organization.")
    return org_id


@dataclass(frozen=True)
class OrgScope:
    """The session's organization as an SQL condition, for the few raw statements (CSV
    reads, COPY) that the ORM's tenancy events cannot see. Only :func:`org_scope` makes one."""

    org_id: int

    @property
    def sql(self) -> str:
        """``org_id = <id>``: the id is the session's, an int, safe to write into SQL."""
        return f"org_id = {int(self.org_id)}"


def org_scope(session: Session) -> OrgScope:
    """The organization of a tenant session, for raw SQL; an error for any other session."""
    return OrgScope(current_org(session))


def own_rows(session: Session, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Rows for a bulk insert, each given the session's organization (one of another
    organization is refused: the tenancy rule would refuse the whole insert anyway)."""
    org_id = current_org(session)
    for row in rows:
        if row.setdefault(ORG_KEY, org_id) != org_id:
            raise StoreError("Internal error: a row of another organization was written.")
        yield row
