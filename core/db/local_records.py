"""The organization's own customers, products and orders (the local side of a diff)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import polars as pl
from sqlalchemy import JSON, String, any_, delete, func, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from core import sources
from core.db.clock import utcnow
from core.db.engine import refresh_statistics
from core.db.models import LOCAL_MODELS
from core.db.scope import OrgScope, org_scope, own_rows
from core.delta import COMPARABLE_FIELDS, RecordError
from core.delta.errors import LOCAL_SOURCE

# The local tables hold exactly the canonical fields of the engine.
FIELDS = COMPARABLE_FIELDS
MONEY = {"price", "regular_price", "sale_price", "total"}
LOAD_CHUNK = 10_000
CHUNK = 5_000
# Bulk INSERTs run with ``render_nulls=True``: by default the ORM leaves a None value out of
# the row, and rows that miss different columns each get their own statement (101,000
# customers took 52,887 statements and 22 s on PostgreSQL; with it, a few dozen).


def _model(entity_type: str) -> Any:
    sources.check_entity_type(entity_type)
    return LOCAL_MODELS[entity_type]


def to_db(field: str, value: Any) -> Any:
    """A canonical (or JSON) value as the local column stores it."""
    return _to_db(field, value)


def to_json(value: Any) -> Any:
    """A local column's value as JSON keeps it (amounts and times as text)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


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
            self.session.execute(
                stmt.execution_options(render_nulls=True), list(own_rows(self.session, batch))
            )
            batch.clear()

        for rec in records:
            row = {f: _to_db(f, rec.get(f)) for f in fields}
            row.update(source=source, external_id=str(rec["external_id"]), updated_at=now)
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

    def clear(self, source: str, entity_type: str) -> int:
        """Remove every local record of one source and entity; returns how many."""
        model = _model(entity_type)
        result = self.session.execute(
            delete(model).where(model.source == source).execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # --- applying a sync: batched writes by id (core/services/apply) -------------------------

    def rows_by_ids(
        self, source: str, entity_type: str, external_ids: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """The local rows with these external ids (row ``id``, ``external_id`` and the
        canonical fields as stored), by external id; one statement per CHUNK ids (on
        PostgreSQL the ids as one array: no bind parameter each to render and quote)."""
        model = _model(entity_type)
        cols = [model.id, model.external_id, *(getattr(model, f) for f in FIELDS[entity_type])]
        names = [c.key for c in cols]
        postgres = self.session.get_bind().dialect.name == "postgresql"
        found: dict[str, dict[str, Any]] = {}
        ids = list(external_ids)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            wanted = (
                model.external_id == any_(literal(chunk, ARRAY(String)))
                if postgres
                else model.external_id.in_(chunk)
            )
            for row in self.session.execute(select(*cols).where(model.source == source, wanted)):
                found[row[1]] = dict(zip(names, row, strict=True))
        return found

    def insert_rows(self, source: str, entity_type: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert rows (``external_id``, the fields as stored, optionally their old ``id``)
        in one statement."""
        if not rows:
            return
        model = _model(entity_type)
        now = utcnow()
        batch = [
            {**{k: v for k, v in row.items() if k != "id" or v is not None}, "source": source}
            | {"updated_at": now}
            for row in rows
        ]
        self.session.execute(
            insert(model).execution_options(render_nulls=True),
            list(own_rows(self.session, batch)),
        )

    def update_rows(self, entity_type: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Update rows by their ``id`` (each row: ``id`` and the fields it sets): rows that
        set the same fields together, in one UPDATE … FROM (VALUES …) on PostgreSQL and one
        prepared UPDATE run for each row on SQLite (the driver's executemany, in C), held to
        the organization by its ``OrgScope``."""
        if not rows:
            return
        groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(sorted(k for k in row if k != "id")), []).append(row)
        for names, group in groups.items():
            _update_by_id(self.session, org_scope(self.session), entity_type, names, group)

    def delete_rows(self, entity_type: str, row_ids: Sequence[int]) -> int:
        """Delete rows by their ``id``; returns how many were deleted."""
        model = _model(entity_type)
        removed = 0
        ids = list(row_ids)
        for start in range(0, len(ids), CHUNK):
            result = self.session.execute(
                delete(model)
                .where(model.id.in_(ids[start : start + CHUNK]))
                .execution_options(synchronize_session=False)
            )
            removed += result.rowcount or 0  # type: ignore[attr-defined]
        return removed

    def refresh_statistics(self, entity_type: str) -> None:
        """Fresh planner statistics of the entity's table when they are missing or stale
        (PostgreSQL; ``core.db.engine.refresh_statistics``), before batches of lookups by id."""
        refresh_statistics(self.session, _model(entity_type).__tablename__)

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

    def load_frame(
        self, source: str, entity_type: str, *, ids: Sequence[str] | None = None
    ) -> pl.DataFrame:
        """Local rows (all, or those with the given external ids) as one columnar frame."""
        frames = list(self.iter_frames(source, entity_type, ids=ids))
        return pl.concat(frames, rechunk=True) if len(frames) > 1 else frames[0]

    def iter_frames(
        self, source: str, entity_type: str, *, ids: Sequence[str] | None = None
    ) -> Iterator[pl.DataFrame]:
        """Local rows as frames of at most LOAD_CHUNK rows: text columns (stock as Int64).

        The database renders the rows as CSV (SQL on SQLite, COPY on PostgreSQL) and polars
        parses them: 4-10x faster, and a third of the memory, of building a Python object per
        value. Always yields at least one (possibly empty) frame.
        """
        model = _model(entity_type)
        fields = FIELDS[entity_type]
        sources.get(source)
        names = ["external_id", *fields]
        schema: dict[str, Any] = {n: pl.String for n in names}
        if "stock_quantity" in schema:
            schema["stock_quantity"] = pl.String  # checked as a whole number in _typed
        conn = self.session.connection()
        read = _CsvRead(model.__tablename__, names, org_scope(self.session), source, schema)
        reader = _copy_csv if conn.dialect.name == "postgresql" else _sqlite_csv
        yield _typed(pl.DataFrame(schema=schema), 0)
        chunks = (
            [None]
            if ids is None
            else [list(ids[start : start + LOAD_CHUNK]) for start in range(0, len(ids), LOAD_CHUNK)]
        )
        done = 0
        for chunk in chunks:
            for frame in reader(conn, read, chunk):
                yield _typed(frame, done)
                done += frame.height


def _update_by_id(
    session: Session,
    scope: OrgScope,
    entity_type: str,
    names: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """``LocalRecords.update_rows`` for rows that all set ``names`` (and ``updated_at``).

    Raw SQL because the ORM's bulk UPDATE by primary key is one statement per row (on
    PostgreSQL a round trip per page of them) and most of an apply's time; each value is
    bound as the column's type binds it, and every statement is held to ``scope``."""
    model = _model(entity_type)
    unknown = set(names) - set(FIELDS[entity_type])
    if unknown:  # the names are written into the SQL: only the entity's own fields
        raise ValueError(f"not {entity_type} fields: {sorted(unknown)}")
    conn = session.connection()
    dialect = conn.dialect
    columns = [*names, "updated_at"]
    types = [getattr(model, c).type for c in columns]
    now = utcnow()
    table = model.__tablename__
    if dialect.name == "postgresql":
        # The values go as one JSON document that orjson writes in C (binding each value of
        # a VALUES list, quoted one by one in Python, cost as much as the UPDATE); each is
        # read as text and cast as before, to its column's type.
        # a JSON column's value goes as its JSON text (what its bind processor would send)
        nested = [n for n in names if isinstance(getattr(model, n).type, JSON)]
        doc = orjson.dumps(
            [
                {
                    "id": row["id"],
                    **{n: row.get(n) for n in names},
                    **{n: _json_text(row.get(n)) for n in nested},
                    "updated_at": now,
                }
                for row in rows
            ],
            default=_json_default,
        )
        shape = ", ".join(f"{c} text" for c in columns)
        sets = ", ".join(
            f"{c} = v.{c}::{t.compile(dialect=dialect)}"
            for c, t in zip(columns, types, strict=True)
        )
        sql = (
            f"UPDATE {table} AS t SET {sets} "
            f"FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, {shape}) "
            f"WHERE t.id = v.id AND t.{scope.sql}"
        )
        with conn.connection.dbapi_connection.cursor() as cur:  # type: ignore[union-attr]
            cur.execute(sql, (doc.decode(),))
        return
    binds = [t.bind_processor(dialect) for t in types]
    values = [
        (
            *(
                (bind(v) if bind is not None and v is not None else v)
                for bind, v in zip(binds, [*(row.get(n) for n in names), now], strict=True)
            ),
            row["id"],
        )
        for row in rows
    ]
    sets = ", ".join(f"{c} = ?" for c in columns)
    conn.exec_driver_sql(f"UPDATE {table} SET {sets} WHERE id = ? AND {scope.sql}", values)


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, default=_json_default).decode()


def _json_default(value: Any) -> Any:
    """Amounts as their exact text (orjson writes no Decimal)."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


@dataclass(frozen=True)
class _CsvRead:
    """What a raw CSV read of one local table reads: its columns, of one organization (the
    tenancy's ``OrgScope``) and one source (a registered key: ``core.sources.spec``'s
    KEY_PATTERN, safe to write into the SQL)."""

    table: str
    names: list[str]
    scope: OrgScope
    source: str
    schema: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.scope.sql} AND source = '{self.source}'"


def _typed(frame: pl.DataFrame, before: int) -> pl.DataFrame:
    """The stock column as whole numbers; a value that is not one names its row and column
    (``before``: rows read before this frame)."""
    if "stock_quantity" not in frame.columns:
        return frame
    raw = frame["stock_quantity"]
    whole = raw.str.strip_chars().cast(pl.Int64, strict=False)
    bad = whole.is_null() & raw.is_not_null() & (raw.str.strip_chars() != "")
    if bad.any():
        position = int(bad.arg_max() or 0)
        raise RecordError(
            LOCAL_SOURCE,
            f"The local products row with external id {frame['external_id'][position]!r} "
            f"(row {before + position + 1} of the read): column 'stock_quantity' holds "
            f"{_shown(raw[position])}, which is not a whole number; fix the value in the "
            "local database.",
        )
    return frame.with_columns(whole.alias("stock_quantity"))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…'"


def _sqlite_csv_field(name: str) -> str:
    """One CSV field: NULL as an empty field, text quoted (so "" stays an empty string)."""
    if name == "created_at":
        value = "strftime('%Y-%m-%dT%H:%M:%SZ', created_at)"
    else:
        value = f"CAST({name} AS TEXT)"
    return f"""COALESCE('"' || replace({value}, '"', '""') || '"', '')"""


def _sqlite_csv(conn: Any, read: _CsvRead, ids: list[str] | None) -> Iterator[pl.DataFrame]:
    """SQLite: LOAD_CHUNK rows at a time as one CSV text, parsed by polars.

    CSV rather than JSON: polars' JSON reader takes several times the memory of its input.
    """
    row = " || ',' || ".join(_sqlite_csv_field(n) for n in read.names)
    where = read.where
    if ids is not None:  # one bound JSON array, however many ids
        where += " AND external_id IN (SELECT value FROM json_each(?))"
    sql = (
        # as bytes: SQLite keeps whatever it was given, and text that is not UTF-8 must name
        # its row rather than fail in the driver
        f"SELECT CAST(group_concat({row}, char(10)) AS BLOB), max(id), count(*) FROM "
        f"(SELECT * FROM {read.table} WHERE {where} AND id > ? ORDER BY id LIMIT {LOAD_CHUNK})"
    )
    prefix = () if ids is None else (orjson.dumps(ids).decode(),)
    last = 0
    while True:
        body, last_id, count = conn.exec_driver_sql(sql, (*prefix, last)).one()
        if not count:
            return
        yield _parse_csv(bytes(body), read)
        if count < LOAD_CHUNK:
            return
        last = last_id


def _copy_csv(conn: Any, read: _CsvRead, ids: list[str] | None) -> Iterator[pl.DataFrame]:
    """PostgreSQL: COPY LOAD_CHUNK rows at a time out as CSV, parsed by polars."""
    exprs = ["id"]
    for n in read.names:
        if n in MONEY or n == "lines":
            exprs.append(f"{n}::text")
        elif n == "created_at":
            exprs.append("to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
        else:
            exprs.append(n)
    with conn.connection.dbapi_connection.cursor() as cur:
        where = read.where
        if ids is not None:  # COPY takes no parameters: the driver quotes the array
            where += " AND " + cur.mogrify("external_id = ANY(%s)", (ids,)).decode()
        last = 0
        while True:
            sql = (
                f"COPY (SELECT {', '.join(exprs)} FROM {read.table} WHERE {where} "
                f"AND id > {last} ORDER BY id LIMIT {LOAD_CHUNK}) TO STDOUT WITH CSV"
            )
            buf = io.BytesIO()
            cur.copy_expert(sql, buf)
            if not buf.getbuffer().nbytes:
                return
            frame = pl.read_csv(
                buf.getvalue(),
                has_header=False,
                new_columns=["__id", *read.names],
                schema={"__id": pl.Int64, **read.schema},
            )
            last = int(frame["__id"].max())  # type: ignore[arg-type]
            yield frame.drop("__id")
            if frame.height < LOAD_CHUNK:
                return


def _parse_csv(body: bytes, read: _CsvRead) -> pl.DataFrame:
    """SQLite's CSV text of one chunk as a frame. SQLite keeps whatever bytes it was given:
    text that is not UTF-8 names its row (by external id) and column."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise _not_utf8(body, read) from None
    return pl.read_csv(body, has_header=False, new_columns=read.names, schema=read.schema)


def _not_utf8(body: bytes, read: _CsvRead) -> RecordError:
    text = body.decode("utf-8", "surrogateescape")  # undecodable bytes become surrogates
    for fields in csv.reader(io.StringIO(text, newline="")):
        for name, value in zip(read.names, fields, strict=False):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                key = fields[0].encode("utf-8", "replace").decode("utf-8")
                return RecordError(
                    LOCAL_SOURCE,
                    f"The local {read.table} row with external id {key!r}: column {name!r} "
                    "holds text that is not UTF-8; fix the value in the local database.",
                )
    return RecordError(LOCAL_SOURCE, f"The local {read.table} rows hold text that is not UTF-8.")
