"""Executing and undoing a run: batches of journal rows, each batch in one transaction.

A batch claims the run (its row is written first, so two workers of one run take turns),
reads the next operations not done yet and the local rows they touch, compares each local
row with the snapshot's view of it, writes what may be written with one statement per kind
of write, and marks the journal rows in the same transaction. A process killed between
batches leaves every batch either wholly applied and marked, or not at all: running the run
again continues with the next one and never applies a record twice.

**No lost updates.** A local row whose compared values are not those the snapshot saw
(someone changed it since the preview) is not written: its journal row becomes a conflict
that keeps both values. A row that already has the wanted values is *skipped*.

**Undo** walks the applied operations back, newest first, in the same kind of batches:
a record is restored to its before-image only while it still has the values the run wrote;
otherwise the undo leaves it and reports it (an undo conflict with both values).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.db.apply_runs import ApplyRunRows, JournalWork
from core.db.local_records import LocalRecords, to_db, to_json
from core.db.models import ApplyRun
from core.delta import COMPARABLE_FIELDS, canonical_frame

ProgressFn = Callable[[str, float], None]
CancelledFn = Callable[[], bool]


def canonical(entity_type: str, rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Local rows (as stored, or as JSON keeps them) in canonical form, by external id."""
    listed = [dict(r) for r in rows]
    if not listed:
        return {}
    return {r["external_id"]: r for r in canonical_frame("local", entity_type, listed).to_dicts()}


def same(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None, fields: Sequence[str]) -> bool:
    """True when two canonical records agree on ``fields``."""
    if a is None or b is None:
        return a is b
    return all(a.get(f) == b.get(f) for f in fields)


def shown(record: Mapping[str, Any] | None, fields: Sequence[str]) -> dict[str, Any] | None:
    """A canonical record's compared fields (what a conflict keeps)."""
    if record is None:
        return None
    return {"external_id": record.get("external_id"), **{f: record.get(f) for f in fields}}


def stored_json(entity_type: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A local row (``id``, ``external_id``, fields) as JSON keeps it (the before-image)."""
    names = ("id", "external_id", *COMPARABLE_FIELDS[entity_type])
    return {n: to_json(row.get(n)) for n in names if n in row}


@dataclass
class Tally:
    """What one batch did (added to the run's counts in the same transaction)."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    conflicts: int = 0
    skipped: int = 0
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)


def _conflict(j: JournalWork, found: dict[str, Any] | None, message: str, t: Tally) -> None:
    j.state, j.found, j.message = "conflict", found, message
    t.conflicts += 1


def _skip(j: JournalWork, message: str, t: Tally) -> None:
    j.state, j.message = "skipped", message
    t.skipped += 1


def plan_batch(
    entity_type: str,
    fields: Sequence[str],
    jobs: Sequence[JournalWork],
    current: Mapping[str, dict[str, Any]],
    now: datetime,
) -> Tally:
    """Decide each operation of a batch against the local rows as they are now: the writes
    to make, and each journal row's outcome (set on the rows)."""
    t = Tally()
    now_canon = canonical(entity_type, current.values())
    all_fields = COMPARABLE_FIELDS[entity_type]
    for j in jobs:
        row = current.get(j.external_id)
        found = now_canon.get(j.external_id)
        expected = j.planned.get("before")
        wanted = j.planned.get("after")
        if j.op == "create":
            if row is not None:
                if same(found, wanted, fields):
                    _skip(j, "A local record with these values exists already.", t)
                else:
                    _conflict(
                        j,
                        shown(found, fields),
                        "A local record with this id was added after the preview.",
                        t,
                    )
                continue
            values = {f: to_db(f, (wanted or {}).get(f)) for f in all_fields}
            t.inserts.append({"external_id": j.external_id, **values})
            j.after = {"external_id": j.external_id, **{f: to_json(values[f]) for f in all_fields}}
            t.created += 1
        elif j.op == "update":
            if row is None:
                _conflict(j, None, "The local record was deleted after the preview.", t)
                continue
            if not same(found, expected, fields):
                if same(found, wanted, fields):
                    _skip(j, "The local record has these values already.", t)
                else:
                    _conflict(
                        j, shown(found, fields), "The local record changed after the preview.", t
                    )
                continue
            changed = [f for f in j.planned.get("changes") or fields if f in all_fields]
            values = {f: to_db(f, (wanted or {}).get(f)) for f in changed}
            t.updates.append({"id": row["id"], **values})
            j.before = stored_json(entity_type, row)
            j.after = {**j.before, **{f: to_json(v) for f, v in values.items()}}
            t.updated += 1
        else:  # delete
            if row is None:
                _skip(j, "The local record was deleted already.", t)
                continue
            if not same(found, expected, fields):
                _conflict(j, shown(found, fields), "The local record changed after the preview.", t)
                continue
            t.deletes.append(int(row["id"]))
            j.before = stored_json(entity_type, row)
            t.deleted += 1
        if j.state == "pending":
            j.state = "done"
        j.applied_at = now
    return t


def write_batch(s: Session, run: ApplyRun, t: Tally) -> None:
    """The batch's writes: one statement per kind (creates, updates, deletes)."""
    local = LocalRecords(s)
    local.insert_rows(run.sync_type, run.entity_type, t.inserts)
    if t.updates:
        # one executemany per set of columns written
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in t.updates:
            groups.setdefault(tuple(sorted(row)), []).append(row)
        for rows in groups.values():
            local.update_rows(run.entity_type, rows)
    local.delete_rows(run.entity_type, t.deletes)


def apply_batch(s: Session, run: ApplyRun, batch_size: int, now: datetime) -> int:
    """Apply the run's next batch in ``s``'s transaction; returns how many operations it
    handled (0: nothing was left)."""
    jobs = ApplyRunRows(s).pending(run.id, batch_size)
    if not jobs:
        return 0
    fields = list(run.planned.get("compared") or COMPARABLE_FIELDS[run.entity_type])
    current = LocalRecords(s).rows_by_ids(
        run.sync_type, run.entity_type, [j.external_id for j in jobs]
    )
    t = plan_batch(run.entity_type, fields, jobs, current, now)
    write_batch(s, run, t)
    ApplyRunRows(s).mark(jobs, ("state", "before", "after", "found", "message", "applied_at"))
    run.created += t.created
    run.updated += t.updated
    run.deleted += t.deleted
    run.conflicts += t.conflicts
    run.skipped += t.skipped
    run.processed += len(jobs)
    s.flush()
    return len(jobs)


# --- undo ---------------------------------------------------------------------------------------


def undo_batch(s: Session, run: ApplyRun, batch_size: int) -> int:
    """Undo the run's next batch of applied operations (newest first) in ``s``'s
    transaction; returns how many it handled (0: nothing was left)."""
    jobs = ApplyRunRows(s).to_undo(run.id, batch_size)
    if not jobs:
        return 0
    entity_type = run.entity_type
    fields = list(run.planned.get("compared") or COMPARABLE_FIELDS[entity_type])
    all_fields = COMPARABLE_FIELDS[entity_type]
    local = LocalRecords(s)
    current = local.rows_by_ids(run.sync_type, entity_type, [j.external_id for j in jobs])
    now_canon = canonical(entity_type, current.values())
    written = canonical(entity_type, [j.after for j in jobs if j.after])
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    deletes: list[int] = []
    for j in jobs:
        row = current.get(j.external_id)
        found = now_canon.get(j.external_id)
        if j.op == "delete":
            if row is not None:
                j.undo_state, j.undo_found = "conflict", shown(found, fields)
                continue
            before = dict(j.before or {})
            inserts.append(
                {
                    "id": before.get("id"),
                    "external_id": j.external_id,
                    **{f: to_db(f, before.get(f)) for f in all_fields},
                }
            )
        elif row is None or not same(found, written.get(j.external_id), fields):
            # changed (or deleted) after the apply: left as it is, reported
            j.undo_state, j.undo_found = "conflict", shown(found, fields)
            continue
        elif j.op == "create":
            deletes.append(int(row["id"]))
        else:
            before = j.before or {}
            updates.append({"id": row["id"], **{f: to_db(f, before.get(f)) for f in all_fields}})
        j.undo_state = "undone"
    local.insert_rows(run.sync_type, entity_type, inserts)
    local.update_rows(entity_type, updates)
    local.delete_rows(entity_type, deletes)
    ApplyRunRows(s).mark(jobs, ("undo_state", "undo_found"))
    s.flush()
    return len(jobs)
