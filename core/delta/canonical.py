"""``to_canonical``: one raw record (wire shape or local row) to its canonical dict."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.delta import normalize
from core.delta.errors import LOCAL_SOURCE, RecordError
from core.delta.fields import FIELD_TYPES, check_entity
from core.delta.mapping import RecordFormat, record_format


def record_error(
    source: RecordFormat, entity_type: str, record_id: Any, problem: str
) -> RecordError:
    """The error for one unreadable record, naming where it came from."""
    if source.key == LOCAL_SOURCE:
        return RecordError(source.key, f"Local {entity_type} row {record_id} has {problem}.")
    return RecordError(
        source.key, f"Record {record_id} from {source.label} ({entity_type}) has {problem}."
    )


def external_id(source: RecordFormat, entity_type: str, record: Any) -> str:
    """The record's id as a string; a record without a usable id is an error."""
    if not isinstance(record, Mapping):
        what = type(record).__name__
        raise record_error(source, entity_type, "?", f"the wrong shape (a {what}, not an object)")
    raw_id = record.get(source.id_key)
    if isinstance(raw_id, float):  # JSON has one number type: 7.0 is 7
        whole = normalize.whole_number(raw_id)
        raw_id = raw_id if whole is None else whole
    if isinstance(raw_id, bool) or not isinstance(raw_id, int | str):
        raise record_error(source, entity_type, "?", f"no usable id ({raw_id!r})")
    result = str(raw_id).replace("\x00", "").strip()  # NUL dropped, as in all text
    if not result:
        raise record_error(source, entity_type, "?", "an empty id")
    return result


def canonical_record(
    source: RecordFormat, entity_type: str, raw: Mapping[str, Any]
) -> dict[str, Any]:
    """``to_canonical`` for a format already found (the per-record step of the frame paths)."""
    record_id = external_id(source, entity_type, raw)
    result: dict[str, Any] = {"external_id": record_id}
    types = FIELD_TYPES[entity_type]
    for name, spec in source.mappings[entity_type].items():
        try:
            result[name] = spec.value(raw, types[name])
        except normalize.Unreadable as exc:
            raise record_error(
                source, entity_type, record_id, f"an unreadable {name} {exc.args[0]!r}"
            ) from None
    return result


def to_canonical(
    sync_type: str | RecordFormat, entity_type: str, raw: Mapping[str, Any]
) -> dict[str, Any]:
    """Map one record to the canonical dict: ``external_id`` plus the entity's fields."""
    source = record_format(sync_type)
    check_entity(entity_type)
    return canonical_record(source, entity_type, raw)
