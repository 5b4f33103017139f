"""Reading: external pages (wire JSON or lists of records) and local tables to frames.

``canonical_frame`` normalizes all of one side at once; ``iter_canonical_frames`` normalizes
external pages as they arrive, in frames of about ``RECORDS_PER_FRAME`` records. Pages of
JSON bytes of a source with a wire schema (``RecordFormat.wire_schemas``) are read by polars'
JSON reader and normalized column by column (``frame_normalize``); anything else (lists of
records, pages that do not fit the schema) record by record with ``to_canonical``'s rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson
import polars as pl
import pyarrow as pa

from core.delta.canonical import canonical_record, record_error
from core.delta.errors import LOCAL_SOURCE, DeltaError, RecordError
from core.delta.fields import FIELD_TYPES, FieldType, check_entity
from core.delta.frame import CanonicalFrame, concat_frames, frame_from_canonical
from core.delta.frame_normalize import NoColumnarForm, leaves, normalize_columns
from core.delta.mapping import LOCAL, RecordFormat, WireSchema, record_format

RECORDS_PER_FRAME = 5_000


@dataclass(frozen=True)
class _Wire:
    """What the columnar JSON reader needs of a source's entity."""

    schema: WireSchema
    numeric: frozenset[str]  # see _numeric_wire_fields


def _records_frame(source: RecordFormat, entity_type: str, records: Iterable[Any]) -> pl.DataFrame:
    canonical = (canonical_record(source, entity_type, record) for record in records)
    return frame_from_canonical(entity_type, canonical).data


def _not_a_list(source: RecordFormat, entity_type: str) -> RecordError:
    return RecordError(
        source.key, f"A page of {entity_type} from the external system is not a list of records."
    )


def _page_records(source: RecordFormat, entity_type: str, page: bytes) -> list[Any]:
    try:
        records = orjson.loads(page)
    except orjson.JSONDecodeError:
        raise record_error(source, entity_type, "?", "a page that is not valid JSON") from None
    if not isinstance(records, list):
        raise _not_a_list(source, entity_type)
    return records


#: How the JSON reader writes a JSON boolean or a number with a fraction or an exponent.
_LOSSY_TEXT = (
    r"^(?:true|false|-0|-?[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?|-?[0-9]+[eE][-+]?[0-9]+|-?[0-9]{16,})$"
)
_LOSSY_NUMBER = r"^(?:true|false)$"


def _numeric_wire_fields(source: RecordFormat, entity_type: str) -> frozenset[str]:
    """Top-level wire fields read only as money or integers: the record path reads their
    numbers as numbers too (a float price is fine, a float name is not)."""
    types = FIELD_TYPES[entity_type]
    uses: dict[str, set[FieldType]] = {}
    for name, spec in source.mappings[entity_type].items():
        for path, field_type in leaves(spec, types[name]):
            if len(path.keys) == 1:
                uses.setdefault(path.keys[0], set()).add(field_type)
    return frozenset(key for key, used in uses.items() if used <= {"money", "int"})


def _lossy(data: pl.DataFrame, numeric: frozenset[str]) -> bool:
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
            lossy = _LOSSY_NUMBER if name in numeric else _LOSSY_TEXT
            checks.append(pl.col(name).str.contains(lossy).any())
        elif isinstance(dtype, pl.Struct):
            checks.extend(
                pl.col(name).struct.field(field.name).str.contains(_LOSSY_TEXT).any()
                for field in dtype.fields
                if field.dtype == pl.String
            )
    return bool(checks) and bool(data.select(pl.any_horizontal(checks)).item())


def _read_chunk(pages: list[bytes], wire: _Wire) -> pl.DataFrame | None:
    schema = dict(wire.schema)
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
    return None if _lossy(data, wire.numeric) else data


def _read_pages(pages: list[bytes], wire: _Wire) -> pl.DataFrame | None:
    """One polars JSON read per page, on polars' threads; None if any page fails.

    A read per page is faster than one large read, and the reader releases the GIL, so the
    pages are read in a few chunks in parallel.
    """
    workers = min(pl.thread_pool_size(), max(len(pages) // 16, 1))
    if workers <= 1:
        return _read_chunk(pages, wire)
    size = -(-len(pages) // (workers * 4))
    chunks = [pages[i : i + size] for i in range(0, len(pages), size)]
    with ThreadPoolExecutor(workers) as pool:
        frames = list(pool.map(_read_chunk, chunks, [wire] * len(chunks)))
    if any(frame is None for frame in frames):
        return None
    return pl.concat([frame for frame in frames if frame is not None], rechunk=False)


class _Redo(Exception):
    """A chunk that failed to normalize: the whole read is redone to report the same error."""


def _read_normalized(
    source: RecordFormat, entity_type: str, pages: list[bytes], wire: _Wire
) -> pl.DataFrame | None:
    """The pages read and normalized in a few chunks, in parallel; None if any page fails.

    Normalizing each chunk on the thread that read it overlaps the two steps and never holds
    the raw columns of all the pages at once. The values are those of normalizing the whole
    read (every rule is per row, or per distinct value); if any chunk raises, the whole read is
    normalized at once so the error reported is the same.
    """
    workers = min(pl.thread_pool_size(), max(len(pages) // 16, 1))
    if workers <= 1:
        raw = _read_chunk(pages, wire)
        return None if raw is None else normalize_columns(source, entity_type, raw)

    def read_and_normalize(chunk: list[bytes]) -> pl.DataFrame | None:
        raw = _read_chunk(chunk, wire)
        if raw is None:
            return None
        try:
            return normalize_columns(source, entity_type, raw)
        except NoColumnarForm:
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
    if any(isinstance(outcome, NoColumnarForm) for outcome in outcomes):
        raise NoColumnarForm(entity_type)
    if any(isinstance(outcome, BaseException) for outcome in outcomes):
        raw = _read_pages(pages, wire)
        return None if raw is None else normalize_columns(source, entity_type, raw)
    frames = [outcome for outcome in outcomes if isinstance(outcome, pl.DataFrame)]
    return pl.concat(frames, how="vertical", rechunk=True)


def _wire_bytes_frame(source: RecordFormat, entity_type: str, pages: list[bytes]) -> pl.DataFrame:
    """Pages of JSON bytes: a columnar read when the source has a wire schema and the pages
    fit it, else record by record."""
    schema = source.wire_schemas.get(entity_type)
    if schema is not None:
        try:
            wire = _Wire(schema, _numeric_wire_fields(source, entity_type))
            data = _read_normalized(source, entity_type, pages, wire)
        except NoColumnarForm:
            data = None
        if data is not None:
            return data
    frames = [
        _records_frame(source, entity_type, _page_records(source, entity_type, page))
        for page in pages
    ]
    return concat_frames(entity_type, frames)


def _external_frame(source: RecordFormat, entity_type: str, pages: Iterable[Any]) -> pl.DataFrame:
    # All JSON-bytes pages of a run are read at once: the columnar reader is fastest so.
    frames = list(_external_chunks(source, entity_type, pages, RECORDS_PER_FRAME, None))
    return concat_frames(entity_type, frames)


def _external_chunks(
    source: RecordFormat,
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
                yield _wire_bytes_frame(source, entity_type, pending)
                pending = []
            continue
        if pending:
            yield _wire_bytes_frame(source, entity_type, pending)
            pending = []
        if not isinstance(page, list):
            raise _not_a_list(source, entity_type)
        records.extend(canonical_record(source, entity_type, record) for record in page)
        if len(records) >= records_per_frame:
            yield frame_from_canonical(entity_type, records).data
            records = []
    if records:
        yield frame_from_canonical(entity_type, records).data
    if pending:
        yield _wire_bytes_frame(source, entity_type, pending)


def iter_canonical_frames(
    sync_type: str | RecordFormat,
    entity_type: str,
    pages: Iterable[Any],
    *,
    records_per_frame: int = RECORDS_PER_FRAME,
) -> Iterator[CanonicalFrame]:
    """External pages as canonical frames of about ``records_per_frame`` records each.

    The streaming form of ``canonical_frame``: pages are normalized as they arrive, so a
    caller can keep what it needs of each frame and drop the rest.
    """
    source = record_format(sync_type)
    check_entity(entity_type)
    if source.key == LOCAL_SOURCE:
        raise DeltaError("iter_canonical_frames takes external pages.")
    # a JSON-bytes page is counted as a page of 100 records
    chunks = _external_chunks(
        source, entity_type, pages, records_per_frame, max(records_per_frame // 100, 1)
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


def _local_frame(entity_type: str, rows: Any) -> pl.DataFrame:
    if isinstance(rows, pa.Table):
        rows = pl.from_arrow(_string_views(rows))
    if isinstance(rows, pl.DataFrame):
        try:
            return normalize_columns(LOCAL, entity_type, rows)
        except NoColumnarForm:  # pragma: no cover - local mappings are all paths
            rows = rows.to_dicts()
    return _records_frame(LOCAL, entity_type, rows)


def canonical_frame(
    sync_type: str | RecordFormat, entity_type: str, records: Any
) -> CanonicalFrame:
    """Normalize all of one side's records to a ``CanonicalFrame`` (the fast path of ``diff``).

    External: an iterable of pages (JSON ``bytes`` or ``list[dict]``); local: a polars
    DataFrame, a pyarrow Table or an iterable of row dicts.
    """
    source = record_format(sync_type)
    check_entity(entity_type)
    if source.key == LOCAL_SOURCE:
        data = _local_frame(entity_type, records)
    else:
        if isinstance(records, bytes | str | Mapping):
            raise DeltaError("Pass the external records as an iterable of pages.")
        data = _external_frame(source, entity_type, records)
    return CanonicalFrame(entity_type, data)
