"""Executing and undoing a run: batches of journal rows, each batch in one transaction.

A batch claims the run (its row is written first, so two workers of one run take turns),
reads the next operations not done yet (the journal rows after the run's ``done_through``)
and the local rows they touch from the run's local target (``targets.py``: the built-in
store or the organization's database), compares each local row with the snapshot's view of
it, writes what may be written with one statement per kind of write, and records each
journal row's result (``sync_apply_result``) and the last journal id handled on the run.

**Built-in store**: the writes and the results are one transaction of our database. A
process killed between batches leaves every batch either wholly applied and recorded, or not
at all: running the run again continues with the next one and never applies a record twice.

**The organization's database**: its writes are one transaction *there*, committed before the
results are written in our database (two databases, no two-phase commit). A process killed
between the two commits leaves a batch written but its journal rows still to do; running the
run again re-reads those rows from the organization's database, finds the values the run
wanted (a created row present with them, an updated row holding them, a deleted row gone or
marked inactive), and records them *skipped*: never written twice, never a conflict wrongly.

**No lost updates.** A local row whose compared values are not those the snapshot saw
(someone changed it since the preview) is not written: its journal row becomes a conflict
that keeps both values. A row that already has the wanted values is *skipped*.

**Undo** walks the applied operations back, newest first, in the same kind of batches:
a record is restored to its before-image only while it still has the values the run wrote;
otherwise the undo leaves it and reports it (an undo conflict with both values).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.db.apply_runs import ApplyRunRows, JournalWork
from core.db.engine import favour_index_lookups
from core.db.local_records import to_json
from core.db.models import ApplyRun
from core.delta import COMPARABLE_FIELDS
from core.services.apply.targets import Current, LocalTarget, canonical

ProgressFn = Callable[[str, float], None]
CancelledFn = Callable[[], bool]


def same(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None, fields: Sequence[str]) -> bool:
    """True when two canonical records agree on ``fields``."""
    if a is None or b is None:
        return a is b
    return list(map(a.get, fields)) == list(map(b.get, fields))


def shown(record: Mapping[str, Any] | None, fields: Sequence[str]) -> dict[str, Any] | None:
    """A canonical record's compared fields (what a conflict keeps)."""
    if record is None:
        return None
    return {"external_id": record.get("external_id"), **{f: record.get(f) for f in fields}}


@dataclass
class Tally:
    """What one batch did (added to the run's counts in the same transaction)."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    conflicts: int = 0
    skipped: int = 0
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[Current, dict[str, Any]]] = field(default_factory=list)
    removes: list[Current] = field(default_factory=list)


def _conflict(j: JournalWork, found: dict[str, Any] | None, message: str, t: Tally) -> None:
    j.state, j.found, j.message = "conflict", found, message
    t.conflicts += 1


def _skip(j: JournalWork, message: str, t: Tally) -> None:
    j.state, j.message = "skipped", message
    t.skipped += 1


def plan_batch(
    target: LocalTarget,
    fields: Sequence[str],
    jobs: Sequence[JournalWork],
    current: Mapping[str, Current],
    now: datetime,
) -> Tally:
    """Decide each operation of a batch against the local rows as they are now: the writes
    to make, and each journal row's outcome (set on the rows)."""
    t = Tally()
    written = target.fields
    for j in jobs:
        cur = current.get(j.external_id)
        found = cur.canonical if cur is not None else None
        present = cur is not None and cur.active
        expected = j.planned.get("before")
        wanted = j.planned.get("after") or {}
        if j.op == "create":
            if cur is not None:
                if present and same(found, wanted, fields):
                    _skip(j, "A local record with these values exists already.", t)
                else:
                    why = "was added after the preview" if present else "exists, marked inactive"
                    _conflict(j, shown(found, fields), f"A local record with this id {why}.", t)
                continue
            t.inserts.append({"external_id": j.external_id, **{f: wanted.get(f) for f in written}})
            j.after = {"external_id": j.external_id, **{f: wanted.get(f) for f in written}}
            t.created += 1
        elif j.op == "update":
            if cur is None or not present:
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
            # the fields the snapshot found changed: those whose canonical values differ,
            # as the engine compares them (journals before 2026-12-03 list them)
            listed = j.planned.get("changes")
            before = expected or {}
            differ = listed or [f for f in fields if before.get(f) != wanted.get(f)]
            changed = [f for f in differ if f in written]
            values = {f: wanted.get(f) for f in changed}
            t.updates.append((cur, values))
            j.before = cur.image
            j.after = {**cur.image, **{f: to_json(v) for f, v in values.items()}}
            t.updated += 1
        else:  # delete
            if cur is None or not present:
                _skip(j, "The local record was deleted (or marked inactive) already.", t)
                continue
            if not same(found, expected, fields):
                _conflict(j, shown(found, fields), "The local record changed after the preview.", t)
                continue
            t.removes.append(cur)
            j.before = cur.image
            t.deleted += 1
        if j.state == "pending":
            j.state = "done"
        j.applied_at = now
    return t


@dataclass
class Position:
    """Where an undo's loop of batches is in the journal: the last journal id it handled
    (None before its first batch: a resumed undo starts by looking at the whole journal)."""

    last_id: int | None = None


def apply_batch(
    s: Session,
    run: ApplyRun,
    target: LocalTarget,
    batch_size: int,
    now: datetime,
) -> int:
    """Apply the run's next batch: the target's writes in one transaction (our session's, or
    the organization's database's, committed first), then the results and the run's counts
    in ``s``; returns how many operations it handled (0: nothing was left)."""
    favour_index_lookups(s)
    jobs = ApplyRunRows(s).pending(run, batch_size)
    if not jobs:
        return 0
    fields = list(run.planned.get("compared") or COMPARABLE_FIELDS[run.entity_type])
    with target.batch(s) as local:
        current = local.read(jobs)
        t = plan_batch(target, fields, jobs, current, now)
        local.insert(t.inserts)
        local.update(t.updates)
        local.remove(t.removes)
    # The target's transaction is committed here; a crash before ``s`` commits is resumed
    # as the module docstring says.
    ApplyRunRows(s).record(jobs)
    run.done_through = jobs[-1].id
    run.created += t.created
    run.updated += t.updated
    run.deleted += t.deleted
    run.conflicts += t.conflicts
    run.skipped += t.skipped
    run.processed += len(jobs)
    s.flush()
    return len(jobs)


# --- undo ---------------------------------------------------------------------------------------


def undo_batch(
    s: Session,
    run: ApplyRun,
    target: LocalTarget,
    batch_size: int,
    position: Position | None = None,
) -> int:
    """Undo the run's next batch of applied operations (newest first): the target's writes in
    one transaction, then the undo's outcomes in ``s``; returns how many it handled (0:
    nothing was left)."""
    favour_index_lookups(s)
    at = position or Position()
    jobs = ApplyRunRows(s).to_undo(run.id, batch_size, before=at.last_id)
    if not jobs:
        return 0
    at.last_id = jobs[-1].id
    entity_type = run.entity_type
    fields = list(run.planned.get("compared") or COMPARABLE_FIELDS[entity_type])
    with target.batch(s) as local:
        current = local.read(jobs)
        written = canonical(entity_type, [j.after for j in jobs if j.after])
        restores: list[tuple[dict[str, Any], Current | None]] = []
        updates: list[tuple[Current, dict[str, Any]]] = []
        deletes: list[Current] = []
        for j in jobs:
            cur = current.get(j.external_id)
            found = cur.canonical if cur is not None else None
            if j.op == "delete":
                if cur is not None and cur.active:
                    j.undo_state, j.undo_found = "conflict", shown(found, fields)
                    continue
                restores.append(({**(j.before or {}), "external_id": j.external_id}, cur))
            elif (
                cur is None or not cur.active or not same(found, written.get(j.external_id), fields)
            ):
                # changed (or deleted) after the apply: left as it is, reported
                j.undo_state, j.undo_found = "conflict", shown(found, fields)
                continue
            elif j.op == "create":
                deletes.append(cur)
            else:
                # only the fields the run changed go back (the others were not written)
                before, after = j.before or {}, j.after or {}
                back = {f: before.get(f) for f in target.fields if before.get(f) != after.get(f)}
                if back:
                    updates.append((cur, back))
            j.undo_state = "undone"
        local.restore(restores)
        local.update(updates)
        local.delete(deletes)
    ApplyRunRows(s).record_undo(jobs)
    s.flush()
    return len(jobs)
