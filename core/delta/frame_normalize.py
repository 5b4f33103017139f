"""Normalizing raw columns to canonical ones: the columnar form of ``to_canonical``.

``normalize_columns`` takes the raw columns of a source's records (as polars read them: wire
JSON or local rows) and gives the columns of a ``CanonicalFrame`` with exactly the values
``to_canonical`` gives record by record. ASCII text without ``&`` is normalized by polars
expressions; anything else (non-ASCII, HTML character references) by the same Python
normalizers as the record path, once per distinct value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl

from core.delta import normalize
from core.delta.canonical import record_error
from core.delta.errors import RecordError
from core.delta.fields import FIELD_TYPES, FieldType
from core.delta.frame import TYPE_DTYPES, frame_schema
from core.delta.mapping import Const, FirstOf, Joined, Path, RecordFormat, Spec

# Exactly the ASCII characters Python's str.strip() removes.
_ASCII_SPACE = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"
_S = pl.String()


class NoColumnarForm(Exception):
    """A mapping spec that only the record path implements."""


@dataclass(frozen=True)
class _Context:
    source: RecordFormat
    entity_type: str
    ids: pl.Series


def _python_mapped(
    series: pl.Series,
    func: Callable[[Any], Any],
    dtype: pl.DataType,
    ctx: _Context,
    field: str,
    only: pl.Series | None = None,
) -> pl.Series:
    """Apply a scalar normalizer once per distinct value (of the rows in ``only``)."""
    candidates = series if only is None else series.filter(only)
    distinct = candidates if candidates.dtype.is_nested() else candidates.unique()
    values = distinct.to_list()
    results = []
    for value in values:
        try:
            results.append(func(value))
        except normalize.Unreadable:
            position = series.to_list().index(value)
            problem = f"an unreadable {field} {value!r}"
            raise record_error(ctx.source, ctx.entity_type, ctx.ids[position], problem) from None
    if candidates.dtype.is_nested():
        return pl.Series(results, dtype=dtype)
    mapped = pl.Series(results, dtype=dtype)
    table = pl.DataFrame({"key": distinct, "value": mapped})
    joined = series.to_frame("key").join(
        table, on="key", how="left", nulls_equal=True, maintain_order="left"
    )
    return joined["value"]


def _plain(series: pl.Series) -> pl.Series:
    """True where the ASCII rule alone gives the canonical text: ASCII without an ``&``
    (which may start an HTML character reference, decoded by ``normalize.text``)."""
    return (series.str.len_bytes() == series.str.len_chars()) & ~series.str.contains(
        "&", literal=True
    )


def _text_series(series: pl.Series, field_type: FieldType, ctx: _Context, field: str) -> pl.Series:
    func = normalize.NORMALIZERS[field_type]
    if series.dtype != pl.String:
        return _python_mapped(series, func, _S, ctx, field)
    is_ascii = _plain(series)
    fast = series.str.replace_all("\x00", "", literal=True).str.strip_chars(_ASCII_SPACE)
    if field_type == "email":
        fast = fast.str.to_lowercase()
    elif field_type == "code":
        fast = fast.str.to_uppercase()
    non_ascii = ~is_ascii.fill_null(True)
    frame = pl.DataFrame({"fast": fast, "ascii": is_ascii})
    if non_ascii.any():
        slow = _python_mapped(series, func, _S, ctx, field, only=non_ascii)
        frame = frame.with_columns(slow=slow)
        expr = pl.when(pl.col("ascii")).then(pl.col("fast")).otherwise(pl.col("slow"))
    else:
        expr = pl.col("fast")
    out = frame.select(pl.when(expr.str.len_bytes() > 0).then(expr).alias(field))
    return out.to_series()


def _normalized(series: pl.Series, field_type: FieldType, ctx: _Context, field: str) -> pl.Series:
    """Normalize one raw column to its canonical column (same values as ``to_canonical``)."""
    if field_type in ("text", "email", "code"):
        return _text_series(series, field_type, ctx, field)
    if field_type == "int" and series.dtype.is_integer():
        return series.cast(pl.Int64)
    if field_type == "lines":
        return _python_mapped(
            series, lambda v: normalize.lines_json(normalize.lines(v)), _S, ctx, field
        )
    return _python_mapped(
        series, normalize.NORMALIZERS[field_type], TYPE_DTYPES[field_type], ctx, field
    )


def _raw_column(data: pl.DataFrame, path: Path) -> pl.Series:
    first, *rest = path.keys
    if first not in data.columns:
        return pl.Series(first, [None] * data.height, dtype=_S)
    series = data[first]
    for key in rest:
        if not isinstance(series.dtype, pl.Struct) or key not in series.struct.fields:
            return pl.Series(key, [None] * data.height, dtype=_S)
        series = series.struct.field(key)
    return series


def leaves(spec: Spec, field_type: FieldType) -> Iterator[tuple[Path, FieldType]]:
    """The raw paths ``spec`` reads, each with the type its values are normalized as."""
    if isinstance(spec, Path):
        yield spec, field_type
    elif isinstance(spec, FirstOf):
        for part in spec.specs:
            yield from leaves(part, field_type)
    elif isinstance(spec, Joined):
        for path in spec.parts:
            yield path, "text"
    elif not isinstance(spec, Const):
        raise NoColumnarForm(type(spec).__name__)


def _fast_text(raw: pl.Expr, field_type: FieldType) -> pl.Expr:
    """The ASCII rule of ``normalize.text``/``email``/``code`` as one polars expression."""
    fast = raw.str.replace_all("\x00", "", literal=True).str.strip_chars(_ASCII_SPACE)
    if field_type == "email":
        fast = fast.str.to_lowercase()
    elif field_type == "code":
        fast = fast.str.to_uppercase()
    return pl.when(fast.str.len_bytes() > 0).then(fast)


def _leaf_exprs(
    data: pl.DataFrame, leaves: list[tuple[Path, FieldType]], ctx: _Context
) -> tuple[pl.DataFrame, dict[tuple[Path, FieldType], pl.Expr]]:
    """Every leaf path as a polars expression over a frame of the raw leaf columns.

    String text leaves use the ASCII rule (``_fast_text``); the distinct non-ASCII values (and
    those with an ``&``) are also normalized in Python, and the few whose result differs (NFC,
    HTML references, Unicode spaces or case) are replaced, so the values equal
    ``to_canonical``'s. Other leaves are normalized by ``_normalized`` up front.
    """
    raws = {leaf: _raw_column(data, leaf[0]) for leaf in leaves}
    names = {leaf: f"c{index}" for index, leaf in enumerate(leaves)}
    text = [
        leaf for leaf in leaves if leaf[1] in ("text", "email", "code") and raws[leaf].dtype == _S
    ]
    if text:
        probe = pl.DataFrame([raws[leaf].alias(names[leaf]) for leaf in text])
        flags = probe.select(
            (
                (pl.col(names[leaf]).str.len_bytes() != pl.col(names[leaf]).str.len_chars())
                | pl.col(names[leaf]).str.contains("&", literal=True)
            ).any()
            for leaf in text
        )
    columns: list[pl.Series] = []
    exprs: dict[tuple[Path, FieldType], pl.Expr] = {}
    for leaf in leaves:
        path, field_type = leaf
        raw = raws[leaf]
        if leaf not in text:
            columns.append(_normalized(raw, field_type, ctx, path.keys[-1]).alias(names[leaf]))
            exprs[leaf] = pl.col(names[leaf])
            continue
        columns.append(raw.alias(names[leaf]))
        expr = _fast_text(pl.col(names[leaf]), field_type)
        if flags[names[leaf]].item():
            olds, news = _unicode_fixes(raw, field_type, ctx, path.keys[-1])
            if olds:
                expr = pl.col(names[leaf]).replace_strict(
                    pl.Series(olds, dtype=_S),
                    pl.Series(news, dtype=_S),
                    default=expr,
                    return_dtype=_S,
                )
        exprs[leaf] = expr
    return pl.DataFrame(columns), exprs


def _unicode_fixes(
    raw: pl.Series, field_type: FieldType, ctx: _Context, field: str
) -> tuple[list[str], list[str | None]]:
    """The distinct values outside the ASCII rule (non-ASCII, or with an ``&``) whose Python
    normalization differs from it."""
    non_ascii = (~_plain(raw)).fill_null(False)
    distinct = raw.filter(non_ascii).unique()
    fast = distinct.to_frame("v").select(_fast_text(pl.col("v"), field_type)).to_series().to_list()
    func = normalize.NORMALIZERS[field_type]
    olds: list[str] = []
    news: list[str | None] = []
    for value, quick in zip(distinct.to_list(), fast, strict=True):
        try:
            exact = func(value)
        except normalize.Unreadable:  # pragma: no cover - a str is always readable text
            position = raw.to_list().index(value)
            problem = f"an unreadable {field} {value!r}"
            raise record_error(ctx.source, ctx.entity_type, ctx.ids[position], problem) from None
        if exact != quick:
            olds.append(value)
            news.append(exact)
    return olds, news


def _spec_expr(
    spec: Spec, field_type: FieldType, exprs: dict[tuple[Path, FieldType], pl.Expr]
) -> pl.Expr:
    if isinstance(spec, Path):
        return exprs[(spec, field_type)]
    if isinstance(spec, FirstOf):
        return pl.coalesce([_spec_expr(part, field_type, exprs) for part in spec.specs])
    if isinstance(spec, Joined):
        # Parts are NFC and trimmed, so joining them by a space needs no further normalizing.
        # Each part is null or non-empty, so the join is empty exactly when all are null
        # (a test on the parts, not a second evaluation of the join).
        parts = [exprs[(path, "text")] for path in spec.parts]
        joined = pl.concat_str(parts, separator=" ", ignore_nulls=True)
        if field_type == "email":
            joined = joined.str.to_lowercase()
        elif field_type == "code":
            joined = joined.str.to_uppercase()
        return pl.when(pl.any_horizontal([part.is_not_null() for part in parts])).then(joined)
    if isinstance(spec, Const):
        return pl.lit(spec.value({}, field_type), dtype=TYPE_DTYPES[field_type])
    raise NoColumnarForm(type(spec).__name__)


def _id_column(data: pl.DataFrame, source: RecordFormat, entity_type: str) -> pl.Series:
    key = source.id_key
    if key not in data.columns:
        raise RecordError(source.key, f"The {entity_type} records have no {key!r} column.")
    raw = data[key]
    if raw.dtype.is_integer():
        ids = raw.cast(_S)
    elif raw.dtype == pl.String:
        raw = raw.str.replace_all("\x00", "", literal=True)  # as normalize.text drops NUL
        ids = pl.select(raw.str.strip_chars()).to_series()
        if not (raw.str.len_bytes() == raw.str.len_chars()).fill_null(True).all():
            ids = pl.Series(
                [v.strip() if isinstance(v, str) else v for v in raw.to_list()], dtype=_S
            )
    else:
        ids = pl.Series(
            [str(v).replace("\x00", "").strip() if v is not None else None for v in raw.to_list()]
        )
    bad = ids.is_null() | (ids.str.len_bytes() == 0)
    if bad.any():
        raise record_error(source, entity_type, "?", f"no usable id ({key} is empty)")
    return ids.alias("external_id")


def normalize_columns(source: RecordFormat, entity_type: str, data: pl.DataFrame) -> pl.DataFrame:
    """Raw columns of ``source``'s records (as read) to the data of a ``CanonicalFrame``.

    Raises ``NoColumnarForm`` when a mapping spec has no columnar form (the caller then
    maps the records one by one).
    """
    if data.height == 0:
        return pl.DataFrame(schema=frame_schema(entity_type))
    ids = _id_column(data, source, entity_type)
    ctx = _Context(source, entity_type, ids)
    types = FIELD_TYPES[entity_type]
    specs = source.mappings[entity_type]
    needed = list(
        dict.fromkeys(leaf for name, spec in specs.items() for leaf in leaves(spec, types[name]))
    )
    frame, exprs = _leaf_exprs(data, needed, ctx)
    # A FirstOf's later specs only matter where the first gives nothing: read them then.
    firsts = {
        name: spec.specs[0] if isinstance(spec, FirstOf) else spec for name, spec in specs.items()
    }
    out = frame.lazy().select(
        pl.lit(ids).alias("external_id"),
        *[_spec_expr(spec, types[name], exprs).alias(name) for name, spec in firsts.items()],
    )
    fallbacks = [
        pl.coalesce(name, _spec_expr(FirstOf(*spec.specs[1:]), types[name], exprs)).alias(name)
        for name, spec in specs.items()
        if isinstance(spec, FirstOf) and len(spec.specs) > 1
    ]
    result = out.collect()
    missing = [expr for expr in fallbacks if result[expr.meta.output_name()].has_nulls()]
    if missing:
        result = result.hstack(frame).with_columns(missing).select(result.columns)
    return result
