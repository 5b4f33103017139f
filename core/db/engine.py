"""Engine and session factory, built from settings (never at import time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.db.tenancy import install_tenancy


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder, WAL mode and foreign keys."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs["pool_pre_ping"] = True
    if parsed.get_driver_name() == "psycopg2":
        # UPDATE and DELETE executemany in pages of statements (psycopg2's execute_batch), not
        # one round trip per row: an apply's batched writes and journal marks (INSERTs are
        # batched as multi-row VALUES either way)
        kwargs["executemany_mode"] = "values_plus_batch"
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine`` with tenant isolation installed."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    install_tenancy(factory)
    return factory


def favour_index_lookups(session: Session) -> None:
    """For the rest of ``session``'s transaction on PostgreSQL, price a random page read as
    a cached one (``random_page_cost`` 1.1 instead of 4, the value advised for data in memory
    or on SSD). An apply's batch joins a few thousand ids with tables of 100,000 rows; at the
    default the planner reads the whole table for each batch (a hash join over a sequential
    scan, ~40 ms) instead of looking each id up in the index (~5 ms)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL random_page_cost = 1.1"))


#: autovacuum's own rule for when a table's statistics are stale: changed rows above
#: 50 + 10 % of the table
_STALE_ROWS, _STALE_SHARE = 50, 0.1


def refresh_statistics(session: Session, table: str) -> bool:
    """On PostgreSQL, ``ANALYZE`` ``table`` (one of our tables) when it was never analyzed or
    more of it changed since than autovacuum allows; True when it did. Without statistics
    the planner takes a table loaded since (a local store of 100,000 rows) for a few dozen
    rows, and an apply's batch of 2,000 ids reads the organization's whole table (a hash of
    all its rows, or a filter over all its index entries) instead of looking each id up."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    row = session.execute(
        text(
            "SELECT c.reltuples, s.n_mod_since_analyze FROM pg_class AS c "
            "LEFT JOIN pg_stat_user_tables AS s ON s.relid = c.oid "
            "WHERE c.oid = to_regclass(:table)"
        ),
        {"table": table},
    ).first()
    if row is None:
        return False
    tuples, changed = float(row[0]), int(row[1] or 0)
    if tuples >= 0 and changed <= _STALE_ROWS + _STALE_SHARE * tuples:
        return False
    session.execute(text(f'ANALYZE "{table}"'))  # a table name of ours, not input
    return True
