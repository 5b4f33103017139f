"""``to_canonical``: one raw record (wire shape or local row) to its canonical dict."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.delta import normalize
from core.delta.fields import ENTITY_TYPES, FIELD_KINDS, SOURCE_LABELS, SYNC_TYPES
from core.delta.mappings import ID_KEYS, MAPPINGS
from core.errors import BadResponse, InvalidRequest, SyncPreviewError


def check_types(sync_type: str, entity_type: str) -> None:
    """Raise ``InvalidRequest`` for a sync or entity type the engine does not know."""
    if sync_type not in SYNC_TYPES:
        raise InvalidRequest(
            f"Unknown sync type {sync_type!r}; use one of {', '.join(SYNC_TYPES)}."
        )
    check_entity(entity_type)


def check_entity(entity_type: str) -> None:
    """Raise ``InvalidRequest`` for an entity type the engine does not know."""
    if entity_type not in ENTITY_TYPES:
        raise InvalidRequest(
            f"Unknown entity type {entity_type!r}; use one of {', '.join(ENTITY_TYPES)}."
        )


def record_error(
    sync_type: str, entity_type: str, record_id: Any, problem: str
) -> SyncPreviewError:
    """The error for one unreadable record: ``BadResponse`` outside, ``InvalidRequest`` local."""
    if sync_type == "local":
        return InvalidRequest(f"Local {entity_type} row {record_id} has {problem}.")
    return BadResponse(
        f"Record {record_id} from {SOURCE_LABELS[sync_type]} ({entity_type}) has {problem}."
    )


def external_id(sync_type: str, entity_type: str, record: Any) -> str:
    """The record's id as a string; a record without a usable id is an error."""
    if not isinstance(record, Mapping):
        what = type(record).__name__
        raise record_error(
            sync_type, entity_type, "?", f"the wrong shape (a {what}, not an object)"
        )
    raw_id = record.get(ID_KEYS[sync_type])
    if isinstance(raw_id, float):  # JSON has one number type: 7.0 is 7
        whole = normalize.whole_number(raw_id)
        raw_id = raw_id if whole is None else whole
    if isinstance(raw_id, bool) or not isinstance(raw_id, int | str):
        raise record_error(sync_type, entity_type, "?", f"no usable id ({raw_id!r})")
    result = str(raw_id).strip()
    if not result:
        raise record_error(sync_type, entity_type, "?", "an empty id")
    return result


def to_canonical(sync_type: str, entity_type: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Map one record to the canonical dict: ``external_id`` plus the entity's fields."""
    check_types(sync_type, entity_type)
    record_id = external_id(sync_type, entity_type, raw)
    result: dict[str, Any] = {"external_id": record_id}
    kinds = FIELD_KINDS[entity_type]
    for field, spec in MAPPINGS[sync_type][entity_type].items():
        try:
            result[field] = spec.value(raw, kinds[field])
        except normalize.Unreadable as exc:
            raise record_error(
                sync_type, entity_type, record_id, f"an unreadable {field} {exc.args[0]!r}"
            ) from None
    return result
