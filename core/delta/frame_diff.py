"""Diffing: ``diff_frames`` compares two canonical frames, field by field, in columns.

The frames are aligned by key (integer ids through a slot table, others through a hash
join), every matched pair is compared field by field (no hash shortcut, so the result is
exact), and only the new, updated and deleted rows become Python objects. Those objects
all survive, so the cyclic garbage collector's passes over them are pure overhead (~15 % of
building them at 50,000 updated records); they are kept few instead of pausing the
collector, which is process-wide (docs/architecture.md, "Sources and the engine").
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from core.delta.fields import COMPARABLE_FIELDS
from core.delta.frame import CanonicalFrame, records_of
from core.delta.result import DeltaResult, FieldChange, UpdatedRecord

_LOCAL_SUFFIX = "__local"


def _sorted_by_id(data: pl.DataFrame) -> pl.DataFrame:
    """Numeric ids numerically, then the others as strings (as ``engine.id_sort_key``)."""
    ident = pl.col("external_id")
    digits = ident.str.contains(r"^[0-9]+$")
    stripped = ident.str.strip_chars_start("0")
    return data.sort(
        [
            ~digits,
            pl.when(digits).then(stripped.str.len_bytes()),
            pl.when(digits).then(stripped),
            ident,
        ]
    )


def _integer_keys(ids: pl.Series) -> pl.Series | None:
    """The ids as UInt64 when every one is a plain decimal number (so keys compare exactly)."""
    if ids.dtype != pl.String:
        return None
    as_int = ids.str.to_integer(base=10, dtype=pl.UInt64, strict=False)
    if as_int.has_nulls():
        return None
    # The parser also takes a "+" sign and leading zeros: those ids keep their string form.
    signed_or_padded = ids.str.starts_with("+") | (
        ids.str.starts_with("0") & (ids.str.len_bytes() > 1)
    )
    return None if signed_or_padded.any() else as_int


def _last_wins(data: pl.DataFrame, keys: pl.Series) -> tuple[pl.DataFrame, pl.Series]:
    """One row per key, the last one, in the position of the last one."""
    if keys.n_unique() == data.height:
        return data, keys
    keyed = data.with_columns(keys.alias("__key"))
    keyed = keyed.unique(subset="__key", keep="last", maintain_order=True)
    return keyed.drop("__key"), keyed["__key"]


#: Direct addressing (a slot per possible id) while ids stay below this many slots per record.
_SLOTS_PER_RECORD = 8


def _positions(ext_keys: pl.Series, loc_keys: pl.Series) -> pl.Series:
    """For each local key, the position of the same key among the external ones (or null).

    Both key series are unique. Integer ids up to a few times the record count are looked up
    in a slot table; anything else through a hash join.
    """
    if ext_keys.dtype == pl.UInt64 and len(ext_keys) and len(loc_keys):
        top = max(int(ext_keys.max()), int(loc_keys.max()))  # type: ignore[arg-type]
        if top < _SLOTS_PER_RECORD * (len(ext_keys) + len(loc_keys)) + 1024:
            places = pl.arange(0, len(ext_keys), dtype=pl.UInt32, eager=True)
            slots = pl.Series([None], dtype=pl.UInt32).extend_constant(None, top)
            return slots.scatter(ext_keys, places).gather(loc_keys)
    index = ext_keys.to_frame("k").with_row_index("i")
    joined = loc_keys.to_frame("k").join(index, on="k", how="left", maintain_order="left")
    return joined["i"]


def _decoded(field: str, values: list[Any]) -> list[Any]:
    if field == "lines":
        return [json.loads(value) if value else [] for value in values]
    return values


def _updated_records(fields: tuple[str, ...], updated: pl.DataFrame) -> list[UpdatedRecord]:
    """``UpdatedRecord``s from rows holding the external fields, the local ones and the flags.

    ``before`` starts as a copy of ``after`` (equal values of unchanged fields are shared
    immutable objects) and takes the local value of each changed field.
    """
    afters = records_of(updated.select("external_id", *fields))
    befores = [after.copy() for after in afters]
    if "lines" in fields:  # a list: each record gets its own objects
        local_lines = _decoded("lines", updated["lines" + _LOCAL_SUFFIX].to_list())
        for before, value in zip(befores, local_lines, strict=True):
            before["lines"] = value
    # One tuple per record, grown by a field at a time: no list per record to collect.
    changes: list[tuple[FieldChange, ...]] = [()] * len(afters)
    for field in fields:
        positions = updated[f"__ne_{field}"].arg_true()
        if positions.is_empty():
            continue
        olds = _decoded(field, updated[field + _LOCAL_SUFFIX].gather(positions).to_list())
        news = _decoded(field, updated[field].gather(positions).to_list())
        for position, old, new in zip(positions.to_list(), olds, news, strict=True):
            if field != "lines":
                befores[position][field] = old
            changes[position] += (FieldChange(field, old, new),)
    return [
        UpdatedRecord(after["external_id"], before, after, items)
        for before, after, items in zip(befores, afters, changes, strict=True)
    ]


def diff_frames(entity_type: str, external: CanonicalFrame, local: CanonicalFrame) -> DeltaResult:
    """``diff`` on two canonical frames: a keyed alignment and exact per-field comparisons.

    Every matched pair is compared field by field (no hash shortcut), so the result is exact.
    """
    fields = COMPARABLE_FIELDS[entity_type]
    columns = ["external_id", *fields]
    ext, loc = external.data.select(columns), local.data.select(columns)
    ext_keys, loc_keys = ext["external_id"], loc["external_id"]
    ext_ints = _integer_keys(ext_keys)
    loc_ints = _integer_keys(loc_keys) if ext_ints is not None else None
    if ext_ints is not None and loc_ints is not None:
        ext_keys, loc_keys = ext_ints, loc_ints
    ext, ext_keys = _last_wins(ext, ext_keys)
    duplicates = external.data.height - ext.height
    loc, loc_keys = _last_wins(loc, loc_keys)

    positions = _positions(ext_keys, loc_keys)
    matched = positions.is_not_null()
    hit = pl.zeros(ext.height, dtype=pl.Boolean, eager=True)
    if ext.height and loc.height:
        hit = hit.scatter(positions.drop_nulls(), True)
        aligned = ext.select(fields).gather(positions.fill_null(0))
    else:
        aligned = pl.DataFrame([pl.Series(f, [None] * loc.height, ext[f].dtype) for f in fields])
    pairs = pl.DataFrame(
        [
            loc["external_id"],
            *aligned.get_columns(),
            *[loc[f].alias(f + _LOCAL_SUFFIX) for f in fields],
            matched.alias("__matched"),
        ]
    )
    flags = [pl.col(f).ne_missing(pl.col(f + _LOCAL_SUFFIX)).alias(f"__ne_{f}") for f in fields]
    updated_q = (
        pairs.lazy()
        .with_columns(flags)
        .filter(pl.col("__matched") & pl.any_horizontal([pl.col(f"__ne_{f}") for f in fields]))
    )
    (updated_df,) = pl.collect_all([updated_q])
    new_df = _sorted_by_id(ext.filter(~hit))
    deleted_df = _sorted_by_id(loc.filter(~matched))
    updated_df = _sorted_by_id(updated_df)
    return DeltaResult(
        entity_type=entity_type,
        new=records_of(new_df),
        updated=_updated_records(fields, updated_df),
        deleted=records_of(deleted_df),
        unchanged=int(matched.sum()) - updated_df.height,
        duplicates_collapsed=duplicates,
    )
