"""The organization's own customers, products and orders (the local side of a diff)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import String, cast, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.db.clock import utcnow
from core.db.models import LOCAL_MODELS
from core.db.scope import current_org
from core.errors import InvalidRequest

FIELDS: dict[str, tuple[str, ...]] = {
    "customers": (
        "email",
        "name",
        "phone",
        "company",
        "address_1",
        "address_2",
        "city",
        "state",
        "postcode",
        "country",
    ),
    "products": (
        "sku",
        "name",
        "price",
        "regular_price",
        "sale_price",
        "stock_quantity",
        "status",
        "type",
    ),
    "orders": ("number", "status", "currency", "total", "customer_email", "created_at", "lines"),
}
MONEY = {"price", "regular_price", "sale_price", "total"}
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
        """Local rows as one columnar frame (money and lines as text), for the fast diff."""
        model = _model(entity_type)
        fields = FIELDS[entity_type]
        cols: list[Any] = [model.external_id]
        for f in fields:
            col = getattr(model, f)
            cols.append(cast(col, String).label(f) if f in MONEY or f == "lines" else col)
        stmt = select(*cols).where(model.source == source)
        names = ["external_id", *fields]
        schema: dict[str, Any] = {n: pl.String for n in names}
        if "stock_quantity" in schema:
            schema["stock_quantity"] = pl.Int64
        if "created_at" in schema:
            schema["created_at"] = pl.Datetime("us", "UTC")
        frames = [
            pl.DataFrame([tuple(r) for r in part], schema=schema, orient="row")
            for part in self.session.execute(stmt.execution_options(yield_per=50_000)).partitions()
        ]
        if not frames:
            return pl.DataFrame(schema=schema)
        return pl.concat(frames, rechunk=True)
