"""``diff``: match external and local canonical records by external id and classify them.

Two paths give the same result: a streaming pass over canonical dicts, and a columnar pass
(``frame_diff.diff_frames``) used when either side is a ``CanonicalFrame``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from core.delta.fields import COMPARABLE_FIELDS, check_entity
from core.delta.frame import CanonicalFrame, frame_from_canonical
from core.delta.frame_diff import diff_frames
from core.delta.result import DeltaResult, FieldChange, UpdatedRecord
from core.delta.subset import not_compared, without_fields

Records = Iterable[Mapping[str, Any]]


def id_sort_key(external_id: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order first, then the others in string order."""
    if external_id.isascii() and external_id.isdigit():
        return (0, int(external_id), external_id)
    return (1, 0, external_id)


def field_changes(
    fields: tuple[str, ...], before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[FieldChange, ...]:
    """The comparable fields whose values differ, in comparable-field order."""
    return tuple(
        FieldChange(name, before.get(name), after.get(name))
        for name in fields
        if before.get(name) != after.get(name)
    )


def diff(
    entity_type: str,
    external: Records | CanonicalFrame,
    local: Records | CanonicalFrame,
    *,
    compared: Iterable[str] | None = None,
) -> DeltaResult:
    """Classify records as new, updated, deleted or unchanged, matching by ``external_id``.

    ``compared`` names the fields to compare (None: all); the others are set to null on both
    sides and named in the result's ``not_compared`` (``core.delta.subset``).
    """
    check_entity(entity_type)
    dropped = not_compared(entity_type, compared)
    if isinstance(external, CanonicalFrame) or isinstance(local, CanonicalFrame):
        result = diff_frames(
            entity_type,
            without_fields(
                external
                if isinstance(external, CanonicalFrame)
                else frame_from_canonical(entity_type, external),
                dropped,
            ),
            without_fields(
                local
                if isinstance(local, CanonicalFrame)
                else frame_from_canonical(entity_type, local),
                dropped,
            ),
        )
    elif dropped:
        result = _diff_records(entity_type, _masked(external, dropped), _masked(local, dropped))
    else:
        result = _diff_records(entity_type, external, local)
    return replace(result, not_compared=dropped) if dropped else result


def _masked(records: Records, dropped: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    blank = dict.fromkeys(dropped)
    return ({**record, **blank} for record in records)


def _values(fields: tuple[str, ...], record: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(record.get(name) for name in fields)


def _diff_records(entity_type: str, external: Records, local: Records) -> DeltaResult:
    fields = COMPARABLE_FIELDS[entity_type]
    local_by_id: dict[str, Mapping[str, Any]] = {str(row["external_id"]): row for row in local}
    # For an unchanged record only its id is kept (value None); changed ones keep the record.
    seen: dict[str, Mapping[str, Any] | None] = {}
    duplicates = 0
    for record in external:
        key = str(record["external_id"])
        if key in seen:
            duplicates += 1
            del seen[key]  # last one wins, and takes the last position
        before = local_by_id.get(key)
        unchanged = before is not None and _values(fields, before) == _values(fields, record)
        seen[key] = None if unchanged else dict(record)

    new: list[dict[str, Any]] = []
    updated: list[UpdatedRecord] = []
    unchanged_count = 0
    for key, after in seen.items():
        before = local_by_id.get(key)
        if after is None:
            unchanged_count += 1
        elif before is None:
            new.append(dict(after))
        else:
            updated.append(
                UpdatedRecord(key, dict(before), dict(after), field_changes(fields, before, after))
            )
    deleted = [dict(row) for key, row in local_by_id.items() if key not in seen]
    new.sort(key=lambda record: id_sort_key(record["external_id"]))
    deleted.sort(key=lambda record: id_sort_key(record["external_id"]))
    updated.sort(key=lambda item: id_sort_key(item.external_id))
    return DeltaResult(
        entity_type=entity_type,
        new=new,
        updated=updated,
        deleted=deleted,
        unchanged=unchanged_count,
        duplicates_collapsed=duplicates,
    )
