"""Rows of the organization's database (text columns) to canonical frames.

Values are normalized by the engine's own rules (``core.delta.canonical_frame("local", ...)``),
so they compare exactly as the store's do. Kinds that can fail (amounts, whole numbers,
timestamps, order lines) are checked first, once per distinct value, so that a value that
cannot be read stops the read with an error naming the row, its key and the column.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from core.delta import canonical_frame, normalize
from core.delta.fields import FIELD_TYPES, FieldType
from core.delta.frame import CanonicalFrame, frame_schema
from core.errors import UnreadableValue
from core.localdb.mapping import LocalMapping

_KEY = "external_id"
_INT64: Final = (-(2**63), 2**63)
_WHAT: Final[dict[FieldType, str]] = {
    "money": "an amount",
    "int": "a whole number",
    "timestamp": "a date and time",
    "lines": "a list of order lines (objects with sku, quantity and total)",
    "text": "text",
    "email": "text",
    "code": "text",
}


@dataclass(frozen=True)
class Layout:
    """Which position of a read row holds which column (see ``reader.plan``)."""

    names: tuple[str, ...]  # the positional column names of the read ("c0", "c1", ...)
    columns: tuple[str, ...]  # the database column read at each position ("lines" if joined)
    key_position: int
    lines_position: int | None = None

    def position(self, column: str) -> int:
        return self.columns.index(column)


def _integer(value: Any) -> int | None:
    result = normalize.integer(value)
    if result is not None and not _INT64[0] <= result < _INT64[1]:
        raise normalize.Unreadable(value)
    return result


_CHECKED: Final[dict[FieldType, Callable[[Any], Any]]] = {
    "money": normalize.money,
    "int": _integer,
    "timestamp": normalize.timestamp,
}
_DTYPES: Final[dict[FieldType, pl.DataType]] = {
    "money": pl.String(),
    "int": pl.Int64(),
    "timestamp": pl.String(),
    "lines": pl.String(),
}


class _Context:
    """What an error message needs: the mapping, the read's layout and the chunk's place."""

    def __init__(
        self, mapping: LocalMapping, layout: Layout, raw: pl.DataFrame, first_row: int
    ) -> None:
        self.mapping, self.layout, self.raw, self.first_row = mapping, layout, raw, first_row

    def error(
        self, position: int, column: str, field: str, value: Any, why: str
    ) -> UnreadableValue:
        row = self.first_row + position + 1
        key = self.raw[self.layout.names[self.layout.key_position]][position]
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        key_text = f"{self.mapping.key_column} = {key!r}" if key is not None else "no key"
        return UnreadableValue(
            f"Row {row} of {self.mapping.source} ({key_text}): column {column!r} holds {shown}, "
            f"which is not {why}; fix the value, or map another column to {field}.",
            row=row,
            key=key,
            column=column,
            field=field,
        )


def _mapped(
    series: pl.Series,
    func: Callable[[Any], Any],
    dtype: pl.DataType,
    ctx: _Context,
    column: str,
    field: str,
    why: str,
) -> pl.Series:
    """``func`` applied once per distinct non-null value; an unreadable one names its row."""
    distinct = series.drop_nulls().unique(maintain_order=True)
    values = distinct.to_list()
    results: list[Any] = []
    for value in values:
        try:
            results.append(func(value))
        except (normalize.Unreadable, ValueError, TypeError, ArithmeticError):
            position = series.index_of(value)
            raise ctx.error(int(position or 0), column, field, value, why) from None
    if not values:
        return pl.Series(series.name, [None] * series.len(), dtype=dtype)
    return series.replace_strict(
        distinct, pl.Series(results, dtype=dtype), default=None, return_dtype=dtype
    )


def _lines_reader(mapping: LocalMapping) -> Callable[[Any], str]:
    """Order lines from a JSON text (keys renamed when read from the orders' own column)."""
    lines = mapping.lines
    assert lines is not None
    renames = (
        {"sku": lines.sku, "quantity": lines.quantity, "total": lines.total}
        if lines.json_column is not None
        else {"sku": "sku", "quantity": "quantity", "total": "total"}
    )

    def read(value: Any) -> str:
        parsed = json.loads(value) if isinstance(value, str) else value
        if parsed is None:
            return normalize.lines_json([])
        if not isinstance(parsed, list):
            raise normalize.Unreadable(value)
        items = []
        for line in parsed:
            if not isinstance(line, Mapping):
                raise normalize.Unreadable(value)
            items.append({name: line.get(key) for name, key in renames.items()})
        return normalize.lines_json(normalize.lines(items))

    return read


def canonical_chunk(
    mapping: LocalMapping, layout: Layout, raw: pl.DataFrame, first_row: int
) -> tuple[CanonicalFrame, CanonicalFrame]:
    """(rows with a key, rows without one) as canonical frames.

    ``external_id`` holds the key the engine matches on: the store's id (``id:COLUMN``) or
    the natural key's canonical value (``natural``). Rows without a key get ``row N``.
    """
    entity = mapping.entity_type
    kinds = FIELD_TYPES[entity]
    schema = frame_schema(entity)
    ctx = _Context(mapping, layout, raw, first_row)
    height = raw.height
    columns: dict[str, pl.Series] = {}
    for field, column in mapping.columns:
        series = raw[layout.names[layout.position(column)]]
        kind = kinds[field]
        if kind in _CHECKED:
            series = _mapped(series, _CHECKED[kind], _DTYPES[kind], ctx, column, field, _WHAT[kind])
        columns[field] = series
    if layout.lines_position is not None and mapping.lines is not None:
        lines_column = mapping.lines.json_column or f"{mapping.lines.table} (lines)"
        series = raw[layout.names[layout.lines_position]]
        columns["lines"] = _mapped(
            series, _lines_reader(mapping), pl.String(), ctx, lines_column, "lines", _WHAT["lines"]
        ).fill_null(normalize.lines_json([]))
    row_numbers = pl.int_range(first_row + 1, first_row + height + 1, eager=True).cast(pl.String)
    key_raw = raw[layout.names[layout.key_position]]
    if mapping.match.kind == "id":
        ident = key_raw.str.strip_chars()
        keyed = (ident.str.len_bytes() > 0).fill_null(False)
        external_id = pl.select(pl.when(keyed).then(key_raw).otherwise(row_numbers)).to_series()
    else:
        external_id = row_numbers
    data = pl.DataFrame(
        [external_id.alias(_KEY)]
        + [
            columns[name].alias(name).cast(dtype)
            if name in columns
            else pl.Series(name, [None] * height, dtype=dtype)
            for name, dtype in schema.items()
            if name != _KEY
        ]
    )
    frame = canonical_frame("local", entity, data).data
    if mapping.match.kind == "natural":
        key_field = mapping.key_field
        assert key_field is not None
        keyed = frame[key_field].is_not_null()
        frame = frame.with_columns(
            pl.when(keyed).then(pl.col(key_field)).otherwise(pl.col(_KEY)).alias(_KEY)
        )
    with_key = frame.filter(keyed)
    # A row without a key has its row number as external_id: shown as "row N".
    without = frame.filter(~keyed).with_columns(("row " + pl.col(_KEY)).alias(_KEY))
    return CanonicalFrame(entity, with_key), CanonicalFrame(entity, without)


def invalid_text_error(
    mapping: LocalMapping, layout: Layout, row: int, position: int, values: Sequence[str | None]
) -> UnreadableValue:
    """The error for text that is not UTF-8 at ``row`` (0-based) and read position."""
    column = layout.columns[position]
    field = next((f for f, c in mapping.columns if c == column), "lines")
    key = values[layout.key_position]
    shown = repr(values[position])[:80]
    key_text = f"{mapping.key_column} = {key!r}" if key is not None else "no key"
    return UnreadableValue(
        f"Row {row + 1} of {mapping.source} ({key_text}): column {column!r} holds text that is "
        f"not valid UTF-8 ({shown}, unreadable bytes shown as \ufffd); fix the value, or map "
        f"another column to {field}.",
        row=row + 1,
        key=key,
        column=column,
        field=field,
    )
