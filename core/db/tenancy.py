"""Tenant isolation in one place: every statement on a tenant table is held to its org.

A session opened with :func:`tenant_session` carries its organization in ``session.info``.
Every ORM SELECT/UPDATE/DELETE it runs gets ``org_id = <that org>`` added to each tenant
table it touches; every row an ORM INSERT (``session.execute(insert(Model), rows)``, bulk
or upsert) or a flush writes must belong to that org. A session without an org refuses to
touch tenant tables at all, unless the statement says ``execution_options(cross_org=True)``
(used by the login lookup and by nothing that shows data). Forgetting the filter is
therefore impossible to do by accident.

Raw SQL (``text()``, a driver cursor, COPY) is outside these events: the few statements
that need it take their organization from ``core.db.scope.org_scope`` (an ``OrgScope``), and
``tests/reliability/test_isolation.py`` scans the code so that no other raw statement on a
tenant table appears.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from core.db.models import TenantMixin
from core.errors import StoreError

ORG_KEY = "org_id"
UNREACHABLE = "Our database did not answer (it may be restarting or busy); try again in a moment."

log = logging.getLogger(__name__)


def _touches_tenant_table(state: ORMExecuteState) -> bool:
    return any(
        isinstance(m.class_, type) and issubclass(m.class_, TenantMixin) for m in state.all_mappers
    )


def _org_ids_written(state: ORMExecuteState) -> list[Any]:
    """The ``org_id`` of every row an ORM INSERT writes (None for a row without one)."""
    stmt: Any = state.statement
    rows: list[Any] = []
    for values in getattr(stmt, "_multi_values", ()) or ():
        rows.extend({getattr(k, "key", k): v for k, v in row.items()} for row in values)
    single = getattr(stmt, "_values", None)
    if single:
        rows.append({getattr(k, "key", k): getattr(v, "value", v) for k, v in single.items()})
    params = state.parameters
    if isinstance(params, dict) and params:
        rows.append(params)
    elif isinstance(params, list | tuple):
        rows.extend(params)
    return [row.get(ORG_KEY) if isinstance(row, dict) else None for row in rows] or [None]


def _check_insert(state: ORMExecuteState) -> None:
    if not _touches_tenant_table(state):
        return
    org_id = state.session.info.get(ORG_KEY)
    if org_id is None:
        if state.session.info.get("allow_cross_org_writes"):
            return
        raise StoreError("Internal error: organization data was written without an organization.")
    if any(written != org_id for written in _org_ids_written(state)):
        raise StoreError("Internal error: a row of another organization was written.")


def _filter_by_org(state: ORMExecuteState) -> None:
    if state.is_insert:
        _check_insert(state)
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("cross_org", False):
        return
    org_id = state.session.info.get(ORG_KEY)
    if org_id is None:
        if _touches_tenant_table(state):
            raise StoreError(
                "Internal error: a query of organization data was made without an organization."
            )
        return
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantMixin,
            lambda cls: cls.org_id == org_id,
            include_aliases=True,
            track_closure_variables=False,
        )
    )


def _check_new_rows(session: Session, flush_context: Any, instances: Any) -> None:
    org_id = session.info.get(ORG_KEY)
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantMixin):
            continue
        if org_id is None:
            if session.info.get("allow_cross_org_writes"):
                continue
            raise StoreError(
                "Internal error: organization data was written without an organization."
            )
        if getattr(obj, "org_id", None) is None:
            obj.org_id = org_id
        elif obj.org_id != org_id:
            raise StoreError("Internal error: a row of another organization was written.")


def install_tenancy(factory: sessionmaker[Session]) -> None:
    """Attach the org filter and the write check to every session of ``factory``."""
    event.listen(factory, "do_orm_execute", _filter_by_org)
    event.listen(factory, "before_flush", _check_new_rows)


#: SQLite's OperationalErrors that are about the moment, not the statement.
SQLITE_TRANSIENT = ("locked", "busy", "unable to open", "disk i/o")


def _unavailable(exc: DBAPIError) -> bool:
    """True when the database could not be reached, went away, was busy or cancelled the
    statement (PostgreSQL's OperationalError; SQLite's only for locks and files), not when a
    statement was wrong (SQLite says OperationalError for "no such column" too)."""
    if exc.connection_invalidated or type(exc.orig).__module__.startswith("psycopg2"):
        return True
    return any(word in str(exc.orig).lower() for word in SQLITE_TRANSIENT)


@contextmanager
def store_errors() -> Iterator[None]:
    """The database being unavailable as a transient StoreError (a retry may help)."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        if not _unavailable(exc):
            raise
        log.warning("database error: %s", str(exc.orig).partition("\n")[0])
        raise StoreError(UNREACHABLE, transient=True) from exc
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("database connection lost: %s", str(exc.orig).partition("\n")[0])
        raise StoreError(UNREACHABLE, transient=True) from exc


@contextmanager
def tenant_session(factory: sessionmaker[Session], org_id: int) -> Iterator[Session]:
    """A session (and transaction) that sees and writes only ``org_id``'s data."""
    if not isinstance(org_id, int) or isinstance(org_id, bool):
        raise StoreError("Internal error: an organization id must be an integer.")
    with store_errors(), factory() as session:
        session.info[ORG_KEY] = org_id
        with session.begin():
            yield session


@contextmanager
def system_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for data that belongs to no single org (organizations, the login lookup).

    Tenant tables stay refused unless a statement opts in with ``cross_org=True``; new
    tenant rows may be written (each carries its own ``org_id``).
    """
    with store_errors(), factory() as session:
        session.info["allow_cross_org_writes"] = True
        with session.begin():
            yield session
