"""Reading a mapped table into canonical frames, streamed in chunks; samples; one diff.

``LocalReader(db, mapping).frames()`` yields ``CanonicalFrame``s of at most ``chunk_rows``
rows (never the whole table as Python objects), keyed as the engine matches them; the
existing ``DeltaStream`` (by id) or ``NaturalKeyStream`` (by natural key) consumes them as
they are. ``compare`` runs a whole diff against external canonical frames, comparing only
the fields the mapping feeds (the others are set to null on both sides).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import polars as pl

from core.delta.frame import CanonicalFrame, frame_schema
from core.delta.natural import MatchedResult, NaturalKeyStream, id_matched
from core.delta.stream import DeltaStream
from core.delta.subset import only_fields
from core.localdb.connection import LocalDatabase
from core.localdb.dialects import CHUNK_ROWS, Dialect, InvalidText, table_sql
from core.localdb.mapping import LocalMapping
from core.localdb.values import Layout, canonical_chunk, invalid_text_error
from core.localdb.writer import active_filter

_KEY = "external_id"
#: Rows without a key kept to be shown (all are counted).
WITHOUT_KEY_SHOWN: Final = 100
_LINES = "lines"


@dataclass(frozen=True)
class Plan:
    """The SELECT that reads a mapping, and where each column lands in its rows."""

    sql: str
    layout: Layout


def plan(
    dialect: Dialect,
    mapping: LocalMapping,
    *,
    limit: int | None = None,
    active_column: str | None = None,
) -> Plan:
    """``SELECT <mapped columns> FROM <table or (query)> AS src [LEFT JOIN <lines>]``; only
    active rows when ``active_column`` is given (rows an apply marked inactive count as
    deleted, see core/localdb/writer.py)."""
    q = dialect.quote
    columns = list(dict.fromkeys([mapping.key_column, *(c for _, c in mapping.columns)]))
    lines = mapping.lines
    if lines is not None and lines.json_column is not None:
        columns = list(dict.fromkeys([*columns, lines.json_column]))
    names = [f"c{i}" for i in range(len(columns))]
    select = [f"src.{q(column)} AS {q(name)}" for column, name in zip(columns, names, strict=True)]
    source = (
        table_sql(dialect, mapping.table) if mapping.table is not None else f"({mapping.query})"
    )
    sql_from = f"{source} AS src"
    lines_position: int | None = None
    if lines is not None and lines.table is not None:
        assert lines.order_key is not None and mapping.parent_key is not None
        aggregate = dialect.lines_json(
            f"l.{q(lines.sku)}", f"l.{q(lines.quantity)}", f"l.{q(lines.total)}"
        )
        sql_from += (
            f" LEFT JOIN (SELECT l.{q(lines.order_key)} AS {q('order_key')}, {aggregate} AS "
            f"{q('order_lines')} FROM {table_sql(dialect, lines.table)} AS l "
            f"GROUP BY l.{q(lines.order_key)}) AS lj ON lj.{q('order_key')} = "
            f"src.{q(mapping.parent_key)}"
        )
        names.append(f"c{len(columns)}")
        select.append(f"lj.{q('order_lines')} AS {q(names[-1])}")
        columns.append(_LINES)
        lines_position = len(columns) - 1
    elif lines is not None and lines.json_column is not None:
        lines_position = columns.index(lines.json_column)
    sql = f"SELECT {', '.join(select)} FROM {sql_from}"
    if active_column is not None:
        sql += f" WHERE {active_filter(dialect, active_column)}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    layout = Layout(tuple(names), tuple(columns), 0, lines_position)
    return Plan(sql, layout)


@dataclass(frozen=True)
class Sample:
    """The first rows of a mapping, with the values exactly as the engine compares them."""

    records: list[dict[str, Any]]  # external_id (the key matched on) + the compared fields
    without_key: list[dict[str, Any]]  # rows that cannot match: no id / no natural key
    compared_fields: tuple[str, ...]
    not_compared: tuple[str, ...]
    columns: tuple[str, ...] = field(default=())  # the database columns read


def _empty(entity_type: str) -> CanonicalFrame:
    return CanonicalFrame(entity_type, pl.DataFrame(schema=frame_schema(entity_type)))


class LocalReader:
    """Reads one mapping from the organization's database (every read in its own
    read-only transaction)."""

    def __init__(
        self,
        db: LocalDatabase,
        mapping: LocalMapping,
        *,
        chunk_rows: int = CHUNK_ROWS,
        active_column: str | None = None,
    ) -> None:
        self.db = db
        self.mapping = mapping
        self.active_column = active_column
        self.chunk_rows = chunk_rows
        self.without_key = 0
        self.without_key_rows: list[dict[str, Any]] = []

    def _chunks(self, limit: int | None = None) -> Iterator[tuple[CanonicalFrame, CanonicalFrame]]:
        with self.db.read_only() as session:
            read = plan(
                session.dialect, self.mapping, limit=limit, active_column=self.active_column
            )
            layout = read.layout
            done = 0
            try:
                for raw in session.stream(read.sql, layout.names, chunk_rows=self.chunk_rows):
                    yield canonical_chunk(self.mapping, layout, raw, done)
                    done += raw.height
            except InvalidText as bad:
                raise invalid_text_error(
                    self.mapping, layout, bad.row, bad.column, bad.values
                ) from None

    def frames(self) -> Iterator[CanonicalFrame]:
        """Every row with a key, in canonical frames; rows without one are counted apart."""
        self.without_key = 0
        self.without_key_rows = []
        for keyed, without in self._chunks():
            if without.data.height:
                self.without_key += without.data.height
                room = WITHOUT_KEY_SHOWN - len(self.without_key_rows)
                if room > 0:
                    self.without_key_rows.extend(without.data.head(room).to_dicts())
            if keyed.data.height:
                yield keyed

    def rows_for_keys(self, keys: Sequence[str]) -> CanonicalFrame:
        """The rows whose key (as ``frames`` gives it) is one of ``keys``: another full read,
        keeping only those rows."""
        entity = self.mapping.entity_type
        if not keys:
            return _empty(entity)
        wanted = pl.DataFrame({_KEY: list(keys)}, schema={_KEY: pl.String}).unique()
        parts = [
            keyed.data.join(wanted, on=_KEY, how="semi")
            for keyed, _ in self._chunks()
            if keyed.data.height
        ]
        parts = [part for part in parts if part.height]
        if not parts:
            return _empty(entity)
        return CanonicalFrame(entity, pl.concat(parts))

    def sample(self, limit: int = 20) -> Sample:
        """The first ``limit`` rows as the engine will compare them (a ``LIMIT`` read)."""
        compared = self.mapping.compared_fields
        records: list[dict[str, Any]] = []
        without: list[dict[str, Any]] = []
        for keyed, missing in self._chunks(limit=max(1, int(limit))):
            records.extend(only_fields(keyed, compared).to_dicts())
            without.extend(only_fields(missing, compared).to_dicts())
        layout = plan(self.db.dialect, self.mapping).layout
        keep = (_KEY, *compared)
        return Sample(
            records=[{k: r[k] for k in keep} for r in records],
            without_key=[{k: r[k] for k in keep} for r in without],
            compared_fields=compared,
            not_compared=self.mapping.not_compared,
            columns=layout.columns,
        )


def compare(
    db: LocalDatabase,
    mapping: LocalMapping,
    external: Iterable[CanonicalFrame],
    *,
    chunk_rows: int = CHUNK_ROWS,
) -> MatchedResult:
    """One diff of external canonical frames against the mapped table.

    The local side is read once into an index of key and fingerprint, then once more for the
    few rows that changed; only the mapping's fields are compared.
    """
    reader = LocalReader(db, mapping, chunk_rows=chunk_rows)
    fields = mapping.compared_fields
    stream: DeltaStream | NaturalKeyStream
    if mapping.match.kind == "natural":
        natural = NaturalKeyStream(mapping.entity_type)
        natural.use_local(natural.index_local(reader.frames()))
        for chunk in external:
            natural.add_external(only_fields(chunk, fields))
        rows = reader.rows_for_keys(natural.local_ids_needed())
        return natural.finish(only_fields(rows, fields), local_without_key=reader.without_key)
    stream = DeltaStream(mapping.entity_type)
    stream.use_local(stream.index_local(reader.frames()))
    for chunk in external:
        stream.add_external(only_fields(chunk, fields))
    rows = reader.rows_for_keys(stream.local_ids_needed())
    return id_matched(stream.finish(rows), local_without_key=reader.without_key)
