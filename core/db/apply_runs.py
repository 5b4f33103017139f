"""Apply runs and their journals: SQL over the session organization's runs (see
core/services/apply for what a run does)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, insert, or_, select, update
from sqlalchemy.orm import Session

from core.db.models import ApplyJournal, ApplyRun, PreviewRecord
from core.db.scope import own_rows

CHUNK = 1_000  # journal rows per INSERT


@dataclass
class JournalWork:
    """One journal row while a batch decides its outcome (the columns a batch reads and
    writes)."""

    id: int
    op: str
    external_id: str
    state: str
    planned: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    found: dict[str, Any] | None = None
    message: str | None = None
    applied_at: datetime | None = None
    undo_state: str | None = None
    undo_found: dict[str, Any] | None = None


_WORK = (
    ApplyJournal.id,
    ApplyJournal.op,
    ApplyJournal.external_id,
    ApplyJournal.state,
    ApplyJournal.planned,
    ApplyJournal.before,
    ApplyJournal.after,
)


class ApplyRunRows:
    """The session organization's apply runs and journal rows."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- runs ------------------------------------------------------------------------------

    def get(self, run_id: int) -> ApplyRun | None:
        return self.session.scalars(select(ApplyRun).where(ApplyRun.id == run_id)).first()

    def of_snapshot(self, snapshot_id: int) -> ApplyRun | None:
        return self.session.scalars(
            select(ApplyRun).where(ApplyRun.snapshot_id == snapshot_id)
        ).first()

    def claim(self, run_id: int, **values: Any) -> ApplyRun | None:
        """Write to the run's row first (``values``), so that this transaction holds its lock
        (PostgreSQL: the row; SQLite: the database) until it commits: two workers of one run
        take turns, and each sees the journal as the other left it."""
        result = self.session.execute(
            update(ApplyRun)
            .where(ApplyRun.id == run_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return None
        run = self.get(run_id)
        if run is not None:
            self.session.refresh(run)
        return run

    def listed(
        self,
        *,
        connector_id: int | None = None,
        entity_type: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[ApplyRun], int]:
        """Runs, newest first, and how many there are."""
        stmt = select(ApplyRun)
        if connector_id is not None:
            stmt = stmt.where(ApplyRun.connector_id == connector_id)
        if entity_type:
            stmt = stmt.where(ApplyRun.entity_type == entity_type)
        total = int(self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        rows = self.session.scalars(stmt.order_by(ApplyRun.id.desc()).limit(limit).offset(offset))
        return list(rows), total

    # --- planning --------------------------------------------------------------------------

    def snapshot_records(self, snapshot_id: int, kinds: Sequence[str]) -> Iterator[PreviewRecord]:
        """The snapshot's records of these kinds, in the snapshot's order (streamed)."""
        stmt = (
            select(PreviewRecord)
            .where(PreviewRecord.cache_id == snapshot_id, PreviewRecord.kind.in_(list(kinds)))
            .order_by(PreviewRecord.kind, PreviewRecord.position)
            .execution_options(yield_per=CHUNK)
        )
        yield from self.session.scalars(stmt)

    def count_present(self, snapshot_id: int, external_ids: Sequence[str]) -> dict[str, int]:
        """How many of these external ids the snapshot holds, per kind."""
        counts: dict[str, int] = {}
        ids = list(dict.fromkeys(external_ids))
        for start in range(0, len(ids), CHUNK):
            rows = self.session.execute(
                select(PreviewRecord.kind, func.count())
                .where(
                    PreviewRecord.cache_id == snapshot_id,
                    PreviewRecord.external_id.in_(ids[start : start + CHUNK]),
                )
                .group_by(PreviewRecord.kind)
            )
            for kind, n in rows:
                counts[kind] = counts.get(kind, 0) + int(n)
        return counts

    def add_journal(self, run_id: int, rows: Iterable[dict[str, Any]]) -> int:
        """Insert the run's planned operations (``op``, ``external_id``, ``planned``), in
        chunks; returns how many."""
        total = 0
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append({**row, "run_id": run_id, "state": "pending"})
            if len(batch) >= CHUNK:
                self.session.execute(insert(ApplyJournal), list(own_rows(self.session, batch)))
                total += len(batch)
                batch = []
        if batch:
            self.session.execute(insert(ApplyJournal), list(own_rows(self.session, batch)))
            total += len(batch)
        return total

    # --- executing and undoing -------------------------------------------------------------

    def pending(self, run_id: int, limit: int) -> list[JournalWork]:
        """The next operations not applied yet, in the journal's order (plain rows: no ORM
        objects to track, the outcomes are written back by ``mark``)."""
        rows = self.session.execute(
            select(*_WORK)
            .where(ApplyJournal.run_id == run_id, ApplyJournal.state == "pending")
            .order_by(ApplyJournal.id)
            .limit(limit)
        )
        return [JournalWork(*row) for row in rows]

    def to_undo(self, run_id: int, limit: int) -> list[JournalWork]:
        """The next applied operations not undone yet, newest first."""
        rows = self.session.execute(
            select(*_WORK)
            .where(
                ApplyJournal.run_id == run_id,
                ApplyJournal.state == "done",
                ApplyJournal.undo_state.is_(None),
            )
            .order_by(ApplyJournal.id.desc())
            .limit(limit)
        )
        return [JournalWork(*row) for row in rows]

    def mark(self, work: Sequence[JournalWork], columns: Sequence[str]) -> None:
        """Write these columns of each journal row back (one batched UPDATE by id)."""
        if not work:
            return
        self.session.execute(
            update(ApplyJournal).execution_options(synchronize_session=False),
            [{"id": w.id, **{c: getattr(w, c) for c in columns}} for w in work],
        )

    def undo_counts(self, run_id: int) -> dict[str, int]:
        """Undone and refused operations of a run."""
        rows = self.session.execute(
            select(ApplyJournal.undo_state, func.count())
            .where(ApplyJournal.run_id == run_id, ApplyJournal.undo_state.is_not(None))
            .group_by(ApplyJournal.undo_state)
        )
        counts = {"restored": 0, "conflicts": 0}
        for state, n in rows:
            counts["restored" if state == "undone" else "conflicts"] += int(n)
        return counts

    def journal(
        self,
        run_id: int,
        *,
        states: Sequence[str] = (),
        search: str = "",
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[ApplyJournal], int]:
        """A page of a run's journal (of some states, or whose external id contains
        ``search``, or undo conflicts when ``states`` holds "undo_conflict"), and the total."""
        stmt = select(ApplyJournal).where(ApplyJournal.run_id == run_id)
        if states:
            wanted = [s for s in states if s != "undo_conflict"]
            either: list[ColumnElement[bool]] = [ApplyJournal.state.in_(wanted)] if wanted else []
            if "undo_conflict" in states:
                either.append(ApplyJournal.undo_state == "conflict")
            stmt = stmt.where(or_(*either))
        if search.strip():
            term = search.strip()
            for ch in ("\\", "%", "_"):
                term = term.replace(ch, "\\" + ch)
            stmt = stmt.where(ApplyJournal.external_id.like(f"%{term}%", escape="\\"))
        total = int(self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        rows = self.session.scalars(stmt.order_by(ApplyJournal.id).limit(limit).offset(offset))
        return list(rows), total
