"""``CanonicalFrame``: canonical records of one entity type in columnar form.

A ``CanonicalFrame`` wraps a polars DataFrame with one row per record and the columns
``external_id`` (String) plus the entity's comparable fields: text, e-mails, codes, money
and timestamps as String, ``stock_quantity`` as Int64, and ``lines`` as the canonical JSON
string of the normalized lines (``normalize.lines_json``). Its values are exactly those of
``to_canonical``. ``frame_read`` builds frames from wire pages and local tables,
``frame_normalize`` normalizes their raw columns, ``frame_diff`` compares two frames.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from core.delta import normalize
from core.delta.fields import FIELD_TYPES, FieldType

#: Column dtype of each field type in a canonical frame.
TYPE_DTYPES: dict[FieldType, pl.DataType] = {
    "text": pl.String(),
    "email": pl.String(),
    "code": pl.String(),
    "ref": pl.String(),
    "money": pl.String(),
    "int": pl.Int64(),
    "timestamp": pl.String(),
    "lines": pl.String(),
}


def frame_schema(entity_type: str) -> dict[str, pl.DataType]:
    """Column names and dtypes of a canonical frame of ``entity_type``."""
    return {"external_id": pl.String()} | {
        name: TYPE_DTYPES[field_type] for name, field_type in FIELD_TYPES[entity_type].items()
    }


@dataclass(frozen=True)
class CanonicalFrame:
    """Canonical records of one entity type in columnar form (see the module docstring)."""

    entity_type: str
    data: pl.DataFrame

    def __len__(self) -> int:
        return self.data.height

    def to_dicts(self) -> list[dict[str, Any]]:
        """The records as canonical dicts (``lines`` decoded back to a list)."""
        return records_of(self.data)


def records_of(data: pl.DataFrame) -> list[dict[str, Any]]:
    """The rows of canonical columns as canonical dicts (``lines`` decoded to a list)."""
    names = data.columns
    columns = [data[name].to_list() for name in names]
    if "lines" in names:
        position = names.index("lines")
        columns[position] = [json.loads(value) if value else [] for value in columns[position]]
    # Every column has the frame's height: zip need not check the lengths (it costs ~10 %).
    return [dict(zip(names, values, strict=False)) for values in zip(*columns, strict=False)]


def frame_from_canonical(entity_type: str, records: Iterable[Mapping[str, Any]]) -> CanonicalFrame:
    """A ``CanonicalFrame`` from canonical dicts (as ``to_canonical`` returns them)."""
    schema = frame_schema(entity_type)
    columns: dict[str, list[Any]] = {name: [] for name in schema}
    has_lines = "lines" in schema
    for record in records:
        for name, column in columns.items():
            column.append(record.get(name))
        if has_lines:
            columns["lines"][-1] = normalize.lines_json(columns["lines"][-1] or [])
    columns["external_id"] = [str(value) for value in columns["external_id"]]
    return CanonicalFrame(entity_type, pl.DataFrame(columns, schema=schema))


def concat_frames(entity_type: str, frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The rows of several canonical frames' data in order (an empty frame for none)."""
    if not frames:
        return pl.DataFrame(schema=frame_schema(entity_type))
    return pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
