"""Comparing only some fields: "not compared" is one concept, a set of compared fields.

A diff may compare only some of an entity's fields: those a local mapping feeds, those the
external system has (an Odoo without the Inventory app has no stock). ``DeltaStream`` and
``diff`` take the compared fields; a field left out is set to null on both sides before the
diff, so it is equal everywhere and never shows as a change, and the result names it in
``DeltaResult.not_compared``.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from core.delta.fields import COMPARABLE_FIELDS
from core.delta.frame import CanonicalFrame


def not_compared(entity_type: str, compared: Iterable[str] | None) -> tuple[str, ...]:
    """The comparable fields of ``entity_type`` outside ``compared`` (None: all compared), in
    comparable-field order; ``ValueError`` for a name that is no field of the entity."""
    if compared is None:
        return ()
    keep = set(compared)
    unknown = keep - set(COMPARABLE_FIELDS[entity_type])
    if unknown:
        raise ValueError(f"not fields of {entity_type}: {', '.join(sorted(unknown))}")
    return tuple(name for name in COMPARABLE_FIELDS[entity_type] if name not in keep)


def only_fields(frame: CanonicalFrame, fields: Iterable[str]) -> CanonicalFrame:
    """``frame`` with every comparable field not in ``fields`` set to null (same dtypes)."""
    return without_fields(frame, not_compared(frame.entity_type, fields))


def without_fields(frame: CanonicalFrame, dropped: Iterable[str]) -> CanonicalFrame:
    """``frame`` with the fields ``dropped`` set to null (same dtypes)."""
    names = list(dropped)
    if not names:
        return frame
    schema = frame.data.schema
    data = frame.data.with_columns(pl.lit(None, dtype=schema[name]).alias(name) for name in names)
    return CanonicalFrame(frame.entity_type, data)
