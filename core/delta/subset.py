"""Comparing only some fields: those a local mapping feeds.

A field that a mapping leaves out is set to null on both sides before the diff, so it is
equal everywhere and never shows as a change; the engine itself stays unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from core.delta.fields import COMPARABLE_FIELDS
from core.delta.frame import CanonicalFrame


def only_fields(frame: CanonicalFrame, fields: Iterable[str]) -> CanonicalFrame:
    """``frame`` with every comparable field not in ``fields`` set to null (same dtypes)."""
    keep = set(fields)
    unknown = keep - set(COMPARABLE_FIELDS[frame.entity_type])
    if unknown:
        raise ValueError(f"not fields of {frame.entity_type}: {', '.join(sorted(unknown))}")
    dropped = [name for name in COMPARABLE_FIELDS[frame.entity_type] if name not in keep]
    if not dropped:
        return frame
    schema = frame.data.schema
    data = frame.data.with_columns(pl.lit(None, dtype=schema[name]).alias(name) for name in dropped)
    return CanonicalFrame(frame.entity_type, data)
