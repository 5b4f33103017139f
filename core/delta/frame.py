"""The columnar path: ``CanonicalFrame``, ``canonical_frame`` and ``diff_frames``.

A ``CanonicalFrame`` wraps a polars DataFrame with one row per record and the columns
``external_id`` (String) plus the entity's comparable fields: text, e-mails, codes, money
and timestamps as String, ``stock_quantity`` as Int64, and ``lines`` as the canonical JSON
string of the normalized lines (``normalize.lines_json``). Its values are exactly those of
``to_canonical``: ASCII text is normalized by polars, anything else by the same Python
normalizers (once per distinct value).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
import polars as pl
import pyarrow as pa

from core.delta import normalize
from core.delta.canonical import check_types, record_error, to_canonical
from core.delta.fields import COMPARABLE_FIELDS, FIELD_KINDS, Kind
from core.delta.mappings import MAPPINGS, FirstOf, Joined, Path, Spec
from core.delta.result import DeltaResult, FieldChange, UpdatedRecord
from core.errors import BadResponse, InvalidRequest

# Exactly the ASCII characters Python's str.strip() removes.
_ASCII_SPACE = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"
_LOCAL_SUFFIX = "__local"

#: Field dtypes of a canonical frame.
_KIND_DTYPES: dict[Kind, pl.DataType] = {
    "text": pl.String(),
    "email": pl.String(),
    "code": pl.String(),
    "money": pl.String(),
    "int": pl.Int64(),
    "timestamp": pl.String(),
    "lines": pl.String(),
}

_S = pl.String()
_ADDRESS = pl.Struct(
    {
        name: _S
        for name in (
            "first_name",
            "last_name",
            "company",
            "address_1",
            "address_2",
            "city",
            "state",
            "postcode",
            "country",
            "email",
            "phone",
        )
    }
)
#: WooCommerce wire fields read by the columnar JSON reader (the rest of a record is ignored).
_WOO_WIRE_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "customers": {
        "id": _S,
        "email": _S,
        "first_name": _S,
        "last_name": _S,
        "billing": _ADDRESS,
    },
    "products": {
        "id": _S,
        "sku": _S,
        "name": _S,
        "price": _S,
        "regular_price": _S,
        "sale_price": _S,
        "stock_quantity": _S,
        "status": _S,
        "type": _S,
    },
}


RECORDS_PER_FRAME = 5_000


def frame_schema(entity_type: str) -> dict[str, pl.DataType]:
    """Column names and dtypes of a canonical frame of ``entity_type``."""
    return {"external_id": _S} | {
        field: _KIND_DTYPES[kind] for field, kind in FIELD_KINDS[entity_type].items()
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
        return _records(self.entity_type, self.data)


def _records(entity_type: str, data: pl.DataFrame) -> list[dict[str, Any]]:
    names = data.columns
    columns = [data[name].to_list() for name in names]
    if "lines" in names:
        position = names.index("lines")
        columns[position] = [json.loads(value) if value else [] for value in columns[position]]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


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


# ---------------------------------------------------------------- normalizing columns


class _NoColumnarForm(Exception):
    """A mapping spec that only the record path implements."""


@dataclass(frozen=True)
class _Context:
    sync_type: str
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
            raise record_error(ctx.sync_type, ctx.entity_type, ctx.ids[position], problem) from None
    if candidates.dtype.is_nested():
        return pl.Series(results, dtype=dtype)
    mapped = pl.Series(results, dtype=dtype)
    table = pl.DataFrame({"key": distinct, "value": mapped})
    joined = series.to_frame("key").join(
        table, on="key", how="left", nulls_equal=True, maintain_order="left"
    )
    return joined["value"]


def _text_series(series: pl.Series, kind: Kind, ctx: _Context, field: str) -> pl.Series:
    func = normalize.NORMALIZERS[kind]
    if series.dtype != pl.String:
        return _python_mapped(series, func, _S, ctx, field)
    is_ascii = series.str.len_bytes() == series.str.len_chars()
    fast = series.str.strip_chars(_ASCII_SPACE)
    if kind == "email":
        fast = fast.str.to_lowercase()
    elif kind == "code":
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


def _normalized(series: pl.Series, kind: Kind, ctx: _Context, field: str) -> pl.Series:
    """Normalize one raw column to its canonical column (same values as ``to_canonical``)."""
    if kind in ("text", "email", "code"):
        return _text_series(series, kind, ctx, field)
    if kind == "int" and series.dtype.is_integer():
        return series.cast(pl.Int64)
    if kind == "lines":
        return _python_mapped(
            series, lambda v: normalize.lines_json(normalize.lines(v)), _S, ctx, field
        )
    return _python_mapped(series, normalize.NORMALIZERS[kind], _KIND_DTYPES[kind], ctx, field)


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


def _leaves(spec: Spec, kind: Kind) -> Iterator[tuple[Path, Kind]]:
    if isinstance(spec, Path):
        yield spec, kind
    elif isinstance(spec, FirstOf):
        for part in spec.specs:
            yield from _leaves(part, kind)
    elif isinstance(spec, Joined):
        for path in spec.parts:
            yield path, "text"
    else:
        raise _NoColumnarForm(type(spec).__name__)


def _fast_text(raw: pl.Expr, kind: Kind) -> pl.Expr:
    """The ASCII rule of ``normalize.text``/``email``/``code`` as one polars expression."""
    fast = raw.str.strip_chars(_ASCII_SPACE)
    if kind == "email":
        fast = fast.str.to_lowercase()
    elif kind == "code":
        fast = fast.str.to_uppercase()
    return pl.when(fast.str.len_bytes() > 0).then(fast)


def _leaf_exprs(
    data: pl.DataFrame, leaves: list[tuple[Path, Kind]], ctx: _Context
) -> tuple[pl.DataFrame, dict[tuple[Path, Kind], pl.Expr]]:
    """Every leaf path as a polars expression over a frame of the raw leaf columns.

    String text leaves use the ASCII rule (``_fast_text``); the distinct non-ASCII values are
    also normalized in Python, and the few whose result differs (NFC, Unicode spaces or
    case) are replaced, so the values equal ``to_canonical``'s. Other leaves are normalized
    by ``_normalized`` up front.
    """
    raws = {leaf: _raw_column(data, leaf[0]) for leaf in leaves}
    names = {leaf: f"c{index}" for index, leaf in enumerate(leaves)}
    text = [
        leaf for leaf in leaves if leaf[1] in ("text", "email", "code") and raws[leaf].dtype == _S
    ]
    if text:
        probe = pl.DataFrame([raws[leaf].alias(names[leaf]) for leaf in text])
        flags = probe.select(
            (pl.col(names[leaf]).str.len_bytes() != pl.col(names[leaf]).str.len_chars()).any()
            for leaf in text
        )
    columns: list[pl.Series] = []
    exprs: dict[tuple[Path, Kind], pl.Expr] = {}
    for leaf in leaves:
        path, kind = leaf
        raw = raws[leaf]
        if leaf not in text:
            columns.append(_normalized(raw, kind, ctx, path.keys[-1]).alias(names[leaf]))
            exprs[leaf] = pl.col(names[leaf])
            continue
        columns.append(raw.alias(names[leaf]))
        expr = _fast_text(pl.col(names[leaf]), kind)
        if flags[names[leaf]].item():
            olds, news = _unicode_fixes(raw, kind, ctx, path.keys[-1])
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
    raw: pl.Series, kind: Kind, ctx: _Context, field: str
) -> tuple[list[str], list[str | None]]:
    """The distinct non-ASCII values whose Python normalization differs from the ASCII rule."""
    non_ascii = (raw.str.len_bytes() != raw.str.len_chars()).fill_null(False)
    distinct = raw.filter(non_ascii).unique()
    fast = distinct.to_frame("v").select(_fast_text(pl.col("v"), kind)).to_series().to_list()
    func = normalize.NORMALIZERS[kind]
    olds: list[str] = []
    news: list[str | None] = []
    for value, quick in zip(distinct.to_list(), fast, strict=True):
        try:
            exact = func(value)
        except normalize.Unreadable:  # pragma: no cover - a str is always readable text
            position = raw.to_list().index(value)
            problem = f"an unreadable {field} {value!r}"
            raise record_error(ctx.sync_type, ctx.entity_type, ctx.ids[position], problem) from None
        if exact != quick:
            olds.append(value)
            news.append(exact)
    return olds, news


def _spec_expr(spec: Spec, kind: Kind, leaves: dict[tuple[Path, Kind], pl.Expr]) -> pl.Expr:
    if isinstance(spec, Path):
        return leaves[(spec, kind)]
    if isinstance(spec, FirstOf):
        return pl.coalesce([_spec_expr(part, kind, leaves) for part in spec.specs])
    if isinstance(spec, Joined):
        # Parts are NFC and trimmed, so joining them by a space needs no further normalizing.
        # Each part is null or non-empty, so the join is empty exactly when all are null
        # (a test on the parts, not a second evaluation of the join).
        parts = [leaves[(path, "text")] for path in spec.parts]
        joined = pl.concat_str(parts, separator=" ", ignore_nulls=True)
        if kind == "email":
            joined = joined.str.to_lowercase()
        elif kind == "code":
            joined = joined.str.to_uppercase()
        return pl.when(pl.any_horizontal([part.is_not_null() for part in parts])).then(joined)
    raise _NoColumnarForm(type(spec).__name__)


def _id_column(data: pl.DataFrame, sync_type: str, entity_type: str, key: str) -> pl.Series:
    if key not in data.columns:
        message = f"The {entity_type} records have no {key!r} column."
        raise (InvalidRequest if sync_type == "local" else BadResponse)(message)
    raw = data[key]
    if raw.dtype.is_integer():
        ids = raw.cast(_S)
    elif raw.dtype == pl.String:
        ids = pl.select(raw.str.strip_chars()).to_series()
        if not (raw.str.len_bytes() == raw.str.len_chars()).fill_null(True).all():
            ids = pl.Series(
                [v.strip() if isinstance(v, str) else v for v in raw.to_list()], dtype=_S
            )
    else:
        ids = pl.Series([str(v).strip() if v is not None else None for v in raw.to_list()])
    bad = ids.is_null() | (ids.str.len_bytes() == 0)
    if bad.any():
        raise record_error(sync_type, entity_type, "?", f"no usable id ({key} is empty)")
    return ids.alias("external_id")


def _normalize_columns(
    sync_type: str, entity_type: str, data: pl.DataFrame, id_key: str
) -> pl.DataFrame:
    if data.height == 0:
        return pl.DataFrame(schema=frame_schema(entity_type))
    ids = _id_column(data, sync_type, entity_type, id_key)
    ctx = _Context(sync_type, entity_type, ids)
    kinds = FIELD_KINDS[entity_type]
    specs = MAPPINGS[sync_type][entity_type]
    leaves = list(
        dict.fromkeys(leaf for field, spec in specs.items() for leaf in _leaves(spec, kinds[field]))
    )
    frame, exprs = _leaf_exprs(data, leaves, ctx)
    # A FirstOf's later specs only matter where the first gives nothing: read them then.
    firsts = {
        field: spec.specs[0] if isinstance(spec, FirstOf) else spec for field, spec in specs.items()
    }
    out = frame.lazy().select(
        pl.lit(ids).alias("external_id"),
        *[_spec_expr(spec, kinds[field], exprs).alias(field) for field, spec in firsts.items()],
    )
    fallbacks = [
        pl.coalesce(field, _spec_expr(FirstOf(*spec.specs[1:]), kinds[field], exprs)).alias(field)
        for field, spec in specs.items()
        if isinstance(spec, FirstOf) and len(spec.specs) > 1
    ]
    result = out.collect()
    missing = [expr for expr in fallbacks if result[expr.meta.output_name()].has_nulls()]
    if missing:
        result = result.hstack(frame).with_columns(missing).select(result.columns)
    return result


# ---------------------------------------------------------------- building frames


def _records_frame(sync_type: str, entity_type: str, records: Iterable[Any]) -> pl.DataFrame:
    canonical = (to_canonical(sync_type, entity_type, record) for record in records)
    return frame_from_canonical(entity_type, canonical).data


def _page_records(sync_type: str, entity_type: str, page: bytes) -> list[Any]:
    try:
        records = orjson.loads(page)
    except orjson.JSONDecodeError:
        raise record_error(sync_type, entity_type, "?", "a page that is not valid JSON") from None
    if not isinstance(records, list):
        raise BadResponse(
            f"A page of {entity_type} from the external system is not a list of records."
        )
    return records


#: Wire fields whose numbers the record path reads as numbers too (a float price is fine).
_NUMERIC_WIRE_FIELDS = frozenset({"price", "regular_price", "sale_price", "stock_quantity"})
#: How the JSON reader writes a JSON boolean or a number with a fraction or an exponent.
_LOSSY_TEXT = (
    r"^(?:true|false|-0|-?[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?|-?[0-9]+[eE][-+]?[0-9]+|-?[0-9]{16,})$"
)
_LOSSY_NUMBER = r"^(?:true|false)$"


def _lossy(data: pl.DataFrame) -> bool:
    """True if a value may have been a JSON boolean, or a text or id value a JSON float
    that ``to_canonical`` would not read as the same text.

    The columnar reader turns ``true`` into "true", ``1.5`` into "1.5" and ``2.0`` into "2"
    (the same as ``to_canonical`` for a float below 2**53). ``to_canonical`` refuses the first
    two; "-0" and numbers of 16 or more digits may be floats it reads differently. Such values
    (rare) send the read to the record path, which gives the exact value or the exact error.
    """
    checks: list[pl.Expr] = []
    for name, dtype in data.schema.items():
        if dtype == pl.String:
            lossy = _LOSSY_NUMBER if name in _NUMERIC_WIRE_FIELDS else _LOSSY_TEXT
            checks.append(pl.col(name).str.contains(lossy).any())
        elif isinstance(dtype, pl.Struct):
            checks.extend(
                pl.col(name).struct.field(field.name).str.contains(_LOSSY_TEXT).any()
                for field in dtype.fields
                if field.dtype == pl.String
            )
    return bool(checks) and bool(data.select(pl.any_horizontal(checks)).item())


def _read_chunk(pages: list[bytes], schema: dict[str, pl.DataType]) -> pl.DataFrame | None:
    frames = []
    for page in pages:
        if page.lstrip()[:1] != b"[":
            return None
        try:
            frames.append(pl.read_json(page, schema=schema))
        except Exception:  # noqa: BLE001 - any reader failure: the record path explains it
            return None
    # Rechunked here, on the reading thread: merging a chunk per page later is serial.
    data = (
        pl.concat(frames, how="vertical", rechunk=True) if frames else pl.DataFrame(schema=schema)
    )
    return None if _lossy(data) else data


def _read_pages(pages: list[bytes], schema: dict[str, pl.DataType]) -> pl.DataFrame | None:
    """One polars JSON read per page, on polars' threads; None if any page fails.

    A read per page is faster than one large read, and the reader releases the GIL, so the
    pages are read in a few chunks in parallel.
    """
    workers = min(pl.thread_pool_size(), max(len(pages) // 16, 1))
    if workers <= 1:
        return _read_chunk(pages, schema)
    size = -(-len(pages) // (workers * 4))
    chunks = [pages[i : i + size] for i in range(0, len(pages), size)]
    with ThreadPoolExecutor(workers) as pool:
        frames = list(pool.map(_read_chunk, chunks, [schema] * len(chunks)))
    if any(frame is None for frame in frames):
        return None
    return pl.concat([frame for frame in frames if frame is not None], rechunk=False)


class _Redo(Exception):
    """A chunk that failed to normalize: the whole read is redone to report the same error."""


def _read_normalized(
    sync_type: str, entity_type: str, pages: list[bytes], schema: dict[str, pl.DataType]
) -> pl.DataFrame | None:
    """The pages read and normalized in a few chunks, in parallel; None if any page fails.

    Normalizing each chunk on the thread that read it overlaps the two steps and never holds
    the raw columns of all the pages at once. The values are those of normalizing the whole
    read (every rule is per row, or per distinct value); if any chunk raises, the whole read is
    normalized at once so the error reported is the same.
    """
    workers = min(pl.thread_pool_size(), max(len(pages) // 16, 1))
    if workers <= 1:
        raw = _read_chunk(pages, schema)
        return None if raw is None else _normalize_columns(sync_type, entity_type, raw, "id")

    def read_and_normalize(chunk: list[bytes]) -> pl.DataFrame | None:
        raw = _read_chunk(chunk, schema)
        if raw is None:
            return None
        try:
            return _normalize_columns(sync_type, entity_type, raw, "id")
        except _NoColumnarForm:
            raise
        except Exception as exc:  # noqa: BLE001 - reported by the whole-read path below
            raise _Redo from exc

    size = -(-len(pages) // (workers * 2))
    chunks = [pages[i : i + size] for i in range(0, len(pages), size)]
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(read_and_normalize, chunk) for chunk in chunks]
        outcomes = [future.exception() or future.result() for future in futures]
    if any(outcome is None for outcome in outcomes):
        return None
    if any(isinstance(outcome, _NoColumnarForm) for outcome in outcomes):
        raise _NoColumnarForm(entity_type)
    if any(isinstance(outcome, BaseException) for outcome in outcomes):
        raw = _read_pages(pages, schema)
        return None if raw is None else _normalize_columns(sync_type, entity_type, raw, "id")
    frames = [outcome for outcome in outcomes if isinstance(outcome, pl.DataFrame)]
    return pl.concat(frames, how="vertical", rechunk=True)


def _wire_bytes_frame(sync_type: str, entity_type: str, pages: list[bytes]) -> pl.DataFrame:
    """Pages of JSON bytes: a columnar read when the shape allows, else record by record."""
    schema = _WOO_WIRE_SCHEMAS.get(entity_type) if sync_type == "woocommerce" else None
    if schema is not None:
        try:
            data = _read_normalized(sync_type, entity_type, pages, schema)
        except _NoColumnarForm:
            data = None
        if data is not None:
            return data
    frames = [
        _records_frame(sync_type, entity_type, _page_records(sync_type, entity_type, page))
        for page in pages
    ]
    return _concat(entity_type, frames)


def _concat(entity_type: str, frames: list[pl.DataFrame]) -> pl.DataFrame:
    if not frames:
        return pl.DataFrame(schema=frame_schema(entity_type))
    return pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]


def _external_frame(sync_type: str, entity_type: str, pages: Iterable[Any]) -> pl.DataFrame:
    # All JSON-bytes pages of a run are read at once: the columnar reader is fastest so.
    frames = list(_external_chunks(sync_type, entity_type, pages, RECORDS_PER_FRAME, None))
    return _concat(entity_type, frames)


def _external_chunks(
    sync_type: str,
    entity_type: str,
    pages: Iterable[Any],
    records_per_frame: int,
    bytes_pages_per_frame: int | None,
) -> Iterator[pl.DataFrame]:
    """Frames of the pages' records in order: list pages are normalized record by record as
    they arrive (so the work is spread over the fetch), JSON-bytes pages columnar in runs."""
    # Records of list pages are gathered into frames of ~records_per_frame rows: one small
    # frame per page of 100 costs more in per-column buffers than the data itself.
    pending: list[bytes] = []
    records: list[dict[str, Any]] = []
    for page in pages:
        if isinstance(page, bytes | bytearray | memoryview):
            if records:
                yield frame_from_canonical(entity_type, records).data
                records = []
            pending.append(bytes(page))
            if bytes_pages_per_frame is not None and len(pending) >= bytes_pages_per_frame:
                yield _wire_bytes_frame(sync_type, entity_type, pending)
                pending = []
            continue
        if pending:
            yield _wire_bytes_frame(sync_type, entity_type, pending)
            pending = []
        if not isinstance(page, list):
            raise BadResponse(
                f"A page of {entity_type} from the external system is not a list of records."
            )
        records.extend(to_canonical(sync_type, entity_type, record) for record in page)
        if len(records) >= records_per_frame:
            yield frame_from_canonical(entity_type, records).data
            records = []
    if records:
        yield frame_from_canonical(entity_type, records).data
    if pending:
        yield _wire_bytes_frame(sync_type, entity_type, pending)


def iter_canonical_frames(
    sync_type: str,
    entity_type: str,
    pages: Iterable[Any],
    *,
    records_per_frame: int = RECORDS_PER_FRAME,
) -> Iterator[CanonicalFrame]:
    """External pages as canonical frames of about ``records_per_frame`` records each.

    The streaming form of ``canonical_frame``: pages are normalized as they arrive, so a
    caller can keep what it needs of each frame and drop the rest.
    """
    check_types(sync_type, entity_type)
    if sync_type == "local":
        raise InvalidRequest("iter_canonical_frames takes external pages.")
    # a JSON-bytes page is counted as a page of 100 records
    chunks = _external_chunks(
        sync_type, entity_type, pages, records_per_frame, max(records_per_frame // 100, 1)
    )
    for data in chunks:
        yield CanonicalFrame(entity_type, data)


def _string_views(table: pa.Table) -> pa.Table:
    """String columns as Arrow string views, which polars takes without converting them."""
    strings = (pa.string(), pa.large_string())
    if not any(field.type in strings for field in table.schema):
        return table
    schema = pa.schema(
        [
            field.with_type(pa.string_view()) if field.type in strings else field
            for field in table.schema
        ],
        metadata=table.schema.metadata,
    )
    try:
        return table.cast(schema)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):  # pragma: no cover - older pyarrow
        return table


def _local_frame(entity_type: str, source: Any) -> pl.DataFrame:
    if isinstance(source, pa.Table):
        source = pl.from_arrow(_string_views(source))
    if isinstance(source, pl.DataFrame):
        try:
            return _normalize_columns("local", entity_type, source, "external_id")
        except _NoColumnarForm:  # pragma: no cover - local mappings are all paths
            source = source.to_dicts()
    return _records_frame("local", entity_type, source)


def canonical_frame(sync_type: str, entity_type: str, source: Any) -> CanonicalFrame:
    """Normalize a whole source to a ``CanonicalFrame`` (the fast path of ``diff``).

    External: an iterable of pages (JSON ``bytes`` or ``list[dict]``); local: a polars
    DataFrame, a pyarrow Table or an iterable of row dicts.
    """
    check_types(sync_type, entity_type)
    if sync_type == "local":
        data = _local_frame(entity_type, source)
    else:
        if isinstance(source, bytes | str | Mapping):
            raise InvalidRequest("Pass the external records as an iterable of pages.")
        data = _external_frame(sync_type, entity_type, source)
    return CanonicalFrame(entity_type, data)


# ---------------------------------------------------------------- the columnar diff


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


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while the result objects are built.

    The result holds ~10^5 new container objects (records, ``FieldChange``s, tuples) that all
    survive, so the collector's passes over them are pure overhead (~1/3 of building them).
    None of them forms a cycle, so nothing is left for it to free. It is re-enabled only if
    it was enabled on entry.
    """
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _decoded(field: str, values: list[Any]) -> list[Any]:
    if field == "lines":
        return [json.loads(value) if value else [] for value in values]
    return values


def _updated_records(fields: tuple[str, ...], updated: pl.DataFrame) -> list[UpdatedRecord]:
    """``UpdatedRecord``s from rows holding the external fields, the local ones and the flags.

    ``before`` starts as a copy of ``after`` (equal values of unchanged fields are shared
    immutable objects) and takes the local value of each changed field.
    """
    afters = _records("updated", updated.select("external_id", *fields))
    befores = [after.copy() for after in afters]
    if "lines" in fields:  # a list: each record gets its own objects
        local_lines = _decoded("lines", updated["lines" + _LOCAL_SUFFIX].to_list())
        for before, value in zip(befores, local_lines, strict=True):
            before["lines"] = value
    changes: list[list[FieldChange]] = [[] for _ in afters]
    for field in fields:
        positions = updated[f"__ne_{field}"].arg_true()
        if positions.is_empty():
            continue
        olds = _decoded(field, updated[field + _LOCAL_SUFFIX].gather(positions).to_list())
        news = _decoded(field, updated[field].gather(positions).to_list())
        for position, old, new in zip(positions.to_list(), olds, news, strict=True):
            if field != "lines":
                befores[position][field] = old
            changes[position].append(FieldChange(field, old, new))
    return [
        UpdatedRecord(after["external_id"], before, after, tuple(items))
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
    with _no_cyclic_gc():
        return DeltaResult(
            entity_type=entity_type,
            new=_records(entity_type, new_df),
            updated=_updated_records(fields, updated_df),
            deleted=_records(entity_type, deleted_df),
            unchanged=int(matched.sum()) - updated_df.height,
            duplicates_collapsed=duplicates,
        )


__all__ = [
    "CanonicalFrame",
    "canonical_frame",
    "diff_frames",
    "frame_from_canonical",
    "frame_schema",
    "iter_canonical_frames",
]
