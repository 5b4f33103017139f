"""The organization's own customers, products and orders (the local side of a diff)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.db.clock import utcnow
from core.db.models import LOCAL_MODELS
from core.db.scope import current_org
from core.delta import COMPARABLE_FIELDS
from core.errors import InvalidRequest

# The local tables hold exactly the canonical fields of the engine.
FIELDS = COMPARABLE_FIELDS
MONEY = {"price", "regular_price", "sale_price", "total"}
SOURCES = ("woocommerce", "odoo")
LOAD_CHUNK = 10_000
CHUNK = 5_000


def _model(entity_type: str) -> Any:
    try:
        return LOCAL_MODELS[entity_type]
    except KeyError:
        raise InvalidRequest(
            "Invalid entity_type. Must be one of: customers, products, orders"
        ) from None


def _to_db(field: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if field in MONEY:
        return Decimal(str(value))
    if field == "created_at" and isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


class LocalRecords:
    """Read and write the session organization's local records of one source."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert(self, source: str, entity_type: str, records: Iterable[Mapping[str, Any]]) -> int:
        """Insert or replace records (canonical dicts) keyed by external_id; returns the count."""
        model = _model(entity_type)
        fields = FIELDS[entity_type]
        org_id = current_org(self.session)
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        now = utcnow()
        total = 0
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            stmt = insert(model)
            stmt = stmt.on_conflict_do_update(
                index_elements=["org_id", "source", "external_id"],
                set_={f: getattr(stmt.excluded, f) for f in (*fields, "updated_at")},
            )
            self.session.execute(stmt, batch)
            batch.clear()

        for rec in records:
            row = {f: _to_db(f, rec.get(f)) for f in fields}
            row.update(
                org_id=org_id, source=source, external_id=str(rec["external_id"]), updated_at=now
            )
            batch.append(row)
            total += 1
            if len(batch) >= CHUNK:
                flush()
        if batch:
            flush()
        return total

    def delete(self, source: str, entity_type: str, external_ids: Iterable[str]) -> int:
        """Remove local records by external id; returns how many were removed."""
        model = _model(entity_type)
        ids = [str(i) for i in external_ids]
        removed = 0
        for start in range(0, len(ids), CHUNK):
            result = self.session.execute(
                delete(model)
                .where(model.source == source, model.external_id.in_(ids[start : start + CHUNK]))
                .execution_options(synchronize_session=False)
            )
            removed += result.rowcount or 0  # type: ignore[attr-defined]
        return removed

    def count(self, source: str, entity_type: str) -> int:
        model = _model(entity_type)
        stmt = select(func.count(model.id)).where(model.source == source)
        return int(self.session.scalar(stmt) or 0)

    def iter_rows(self, source: str, entity_type: str) -> Iterator[dict[str, Any]]:
        """Local rows as dicts with the canonical field names (streamed)."""
        model = _model(entity_type)
        cols = [model.external_id, *(getattr(model, f) for f in FIELDS[entity_type])]
        stmt = select(*cols).where(model.source == source).order_by(model.id)
        for row in self.session.execute(stmt.execution_options(yield_per=CHUNK)):
            yield dict(row._mapping)

    def load_frame(self, source: str, entity_type: str) -> pl.DataFrame:
        """Local rows as one columnar frame of text columns (stock as Int64), for the fast diff.

        The database renders the rows (JSON chunks on SQLite, COPY CSV on PostgreSQL) and
        polars parses them: 4-10x faster, and a third of the memory, of building a Python
        object per value.
        """
        model = _model(entity_type)
        fields = FIELDS[entity_type]
        if source not in SOURCES:
            raise InvalidRequest(f"Invalid sync_type. Must be one of: {', '.join(SOURCES)}")
        org_id = int(current_org(self.session))
        names = ["external_id", *fields]
        schema: dict[str, Any] = {n: pl.String for n in names}
        if "stock_quantity" in schema:
            schema["stock_quantity"] = pl.Int64
        conn = self.session.connection()
        # org_id is an int and source one of SOURCES: both are safe to write into the SQL.
        where = f"org_id = {org_id} AND source = '{source}'"
        if conn.dialect.name == "postgresql":
            return _copy_csv(conn, model.__tablename__, names, where, schema)
        return _json_chunks(conn, model.__tablename__, names, where, schema)


def _sqlite_expr(name: str) -> str:
    if name in MONEY:
        return f"CAST({name} AS TEXT)"
    if name == "created_at":
        return "strftime('%Y-%m-%dT%H:%M:%SZ', created_at)"
    return name


def _json_chunks(
    conn: Any, table: str, names: list[str], where: str, schema: dict[str, Any]
) -> pl.DataFrame:
    """SQLite: 100k rows at a time as one JSON array string, parsed by polars."""
    obj = ", ".join(f"'{n}', {_sqlite_expr(n)}" for n in names)
    sql = (
        f"SELECT json_group_array(json_object({obj})), max(id), count(*) FROM "
        f"(SELECT * FROM {table} WHERE {where} AND id > ? ORDER BY id LIMIT {LOAD_CHUNK})"
    )
    frames = [pl.DataFrame(schema=schema)]
    last = 0
    while True:
        body, last_id, count = conn.exec_driver_sql(sql, (last,)).one()
        if not count:
            break
        frames.append(pl.read_json(body.encode(), schema=schema))
        last = last_id
    return pl.concat(frames, rechunk=True)


def _copy_csv(
    conn: Any, table: str, names: list[str], where: str, schema: dict[str, Any]
) -> pl.DataFrame:
    """PostgreSQL: COPY the rows out as CSV, parsed by polars."""
    exprs = []
    for n in names:
        if n in MONEY or n == "lines":
            exprs.append(f"{n}::text")
        elif n == "created_at":
            exprs.append("to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
        else:
            exprs.append(n)
    sql = f"COPY (SELECT {', '.join(exprs)} FROM {table} WHERE {where}) TO STDOUT WITH CSV"
    buf = io.BytesIO()
    with conn.connection.dbapi_connection.cursor() as cur:
        cur.copy_expert(sql, buf)
    buf.seek(0)
    if not buf.getbuffer().nbytes:
        return pl.DataFrame(schema=schema)
    return pl.read_csv(buf, has_header=False, new_columns=names, schema=schema)
