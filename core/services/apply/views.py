"""What an apply looks like to its callers: the plan, a run, a journal entry (frozen)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.db.models import ApplyJournal, ApplyResult, ApplyRun

#: Where a run writes, in words ("… customers in the built-in store").
TARGET_LABEL = {"builtin": "the built-in store", "database": "your database"}
#: A snapshot's kinds of change and the record operation each becomes.
OPERATION = {"new": "create", "updated": "update", "deleted": "delete"}
OPERATIONS = ("create", "update", "delete")
#: Run states, and those a worker may (still) execute.
STATES = (
    "queued",
    "running",
    "succeeded",
    "partly_succeeded",
    "failed",
    "cancelled",
    "undoing",
    "undone",
)
RUNNABLE = ("queued", "running", "failed", "cancelled")
FINISHED = ("succeeded", "partly_succeeded")


def plan_sentence(
    counts: dict[str, int], entity_type: str, target: str, where: str | None = None
) -> str:
    """'will create 50, update 118, delete 0 customers in the built-in store' (or "in your
    database (table crm.customers)": ``where``)."""
    return (
        f"will create {counts.get('create', 0):,}, update {counts.get('update', 0):,}, "
        f"delete {counts.get('delete', 0):,} {entity_type} in "
        f"{where or TARGET_LABEL.get(target, target)}"
    )


@dataclass(frozen=True)
class ApplyPlan:
    """What applying a snapshot would do: operations per kind (``counts``: create, update,
    delete), the kinds the selective settings leave out, and the records left out by hand
    (``excluded``: those of the exclude list the snapshot holds)."""

    connector_id: int
    connector_name: str
    sync_type: str
    entity_type: str
    snapshot_id: int
    computed_at: datetime
    expires_at: datetime
    counts: dict[str, int]
    left_out_kinds: tuple[str, ...]
    excluded: int
    target: str = "builtin"
    #: the target in words when it is the organization's database ("your database (table x)")
    where: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def target_label(self) -> str:
        return self.where or TARGET_LABEL.get(self.target, self.target)

    def sentence(self) -> str:
        return plan_sentence(self.counts, self.entity_type, self.target, self.where)


@dataclass(frozen=True)
class RunView:
    """One apply run as its list and page show it."""

    id: int
    connector_id: int
    connector_name: str
    sync_type: str
    entity_type: str
    snapshot_id: int
    target: str
    state: str
    planned: dict[str, int]
    excluded: int
    total: int
    processed: int
    counts: dict[str, int]
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    undone_by: str | None
    undone_at: datetime | None
    undo_counts: dict[str, int] | None
    where: str | None = None

    @property
    def fraction(self) -> float:
        """How much of the run is done (0..1)."""
        return 1.0 if not self.total else min(1.0, self.processed / self.total)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, (self.finished_at - self.started_at).total_seconds())

    @property
    def target_label(self) -> str:
        return self.where or TARGET_LABEL.get(self.target, self.target)

    @property
    def can_undo(self) -> bool:
        return self.state in (*FINISHED, "undoing") or (
            self.state in ("failed", "cancelled") and self.processed > 0
        )

    def plan_sentence(self) -> str:
        return plan_sentence(self.planned, self.entity_type, self.target, self.where)

    def to_dict(self) -> dict[str, Any]:
        """The run as the API and ``--json`` give it."""
        return {
            "runId": self.id,
            "state": self.state,
            "connectorId": self.connector_id,
            "connector": self.connector_name,
            "syncType": self.sync_type,
            "entityType": self.entity_type,
            "snapshotId": self.snapshot_id,
            "target": self.target,
            "targetLabel": self.target_label,
            "planned": dict(self.planned),
            "excluded": self.excluded,
            "total": self.total,
            "processed": self.processed,
            "counts": dict(self.counts),
            "createdBy": self.created_by,
            "createdAt": _iso(self.created_at),
            "startedAt": _iso(self.started_at),
            "finishedAt": _iso(self.finished_at),
            "error": self.error,
            "undoneBy": self.undone_by,
            "undoneAt": _iso(self.undone_at),
            "undoCounts": dict(self.undo_counts) if self.undo_counts is not None else None,
        }


def _iso(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


def run_view(row: ApplyRun) -> RunView:
    planned = {op: int(row.planned.get(op, 0)) for op in OPERATIONS}
    return RunView(
        id=row.id,
        connector_id=row.connector_id,
        connector_name=row.connector_name,
        sync_type=row.sync_type,
        entity_type=row.entity_type,
        snapshot_id=row.snapshot_id,
        target=row.target,
        state=row.state,
        planned=planned,
        excluded=row.excluded,
        total=row.total,
        processed=row.processed,
        counts={
            "created": row.created,
            "updated": row.updated,
            "deleted": row.deleted,
            "conflicts": row.conflicts,
            "skipped": row.skipped,
        },
        created_by=row.created_by,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
        undone_by=row.undone_by,
        undone_at=row.undone_at,
        undo_counts={k: int(v) for k, v in row.undo_counts.items()} if row.undo_counts else None,
        where=row.planned.get("where"),
    )


@dataclass(frozen=True)
class JournalEntry:
    """One record operation of a run: what was planned, what became of it, and for a
    conflict both values (``expected``: the snapshot's local values; ``found``: the local
    values met instead)."""

    op: str
    external_id: str
    state: str
    message: str | None
    expected: dict[str, Any] | None
    wanted: dict[str, Any] | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    found: dict[str, Any] | None
    undo_state: str | None
    undo_found: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "externalId": self.external_id,
            "state": self.state,
            "message": self.message,
            "expected": self.expected,
            "wanted": self.wanted,
            "before": self.before,
            "after": self.after,
            "found": self.found,
            "undoState": self.undo_state,
            "undoFound": self.undo_found,
        }


def journal_entry(row: ApplyJournal, result: ApplyResult | None) -> JournalEntry:
    """A journal row and its result (None: not handled yet, "pending")."""
    planned = row.planned or {}
    return JournalEntry(
        op=row.op,
        external_id=row.external_id,
        state=result.state if result is not None else "pending",
        message=result.message if result is not None else None,
        expected=planned.get("before"),
        wanted=planned.get("after"),
        before=result.before if result is not None else None,
        after=result.after if result is not None else None,
        found=result.found if result is not None else None,
        undo_state=result.undo_state if result is not None else None,
        undo_found=result.undo_found if result is not None else None,
    )


@dataclass(frozen=True)
class JournalPage:
    """A page of a run's journal and how many entries match."""

    entries: list[JournalEntry]
    total: int
    offset: int
    limit: int
