"""Apply runs and their journals: SQL over the session organization's runs (see
core/services/apply for what a run does)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Text, cast, func, or_, select, text, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from core.db.engine import refresh_statistics
from core.db.models import ApplyJournal, ApplyResult, ApplyRun, PreviewRecord
from core.db.scope import OrgScope, org_scope

CHUNK = 1_000  # external ids per statement
ANALYZE_AFTER = 5_000  # journal rows
#: The results' JSON columns (written as JSON text on SQLite).
JSON_COLUMNS = frozenset({"before", "after", "found", "undo_found"})
#: The outcome columns ``record`` writes; their PostgreSQL types (the others are text).
OUTCOME = ("state", "before", "after", "found", "message", "applied_at")
UNDO_OUTCOME = ("undo_state", "undo_found")
_PG_TYPE = {
    "applied_at": "timestamptz",
    **{c: "jsonb" for c in ("before", "after", "found", "undo_found")},
}
#: A snapshot's kind of record -> the journal's operation (as core/services/apply/views.py).
OPERATION_OF = {"new": "create", "updated": "update", "deleted": "delete"}

# A journal row's ``planned`` value built from a snapshot record (sync_preview_record's
# ``record``), as core/services/apply/runner.py reads it: an update's record as it is (its
# ``before`` and ``after``; rebuilding it cost a fifth of the copy), the record itself as the
# ``after`` of a create and the ``before`` of a delete. Journals copied before 2026-12-03
# also hold an update's changed fields (``changes``).
_PLANNED_SQLITE = (
    "CASE kind WHEN 'updated' THEN json(record) "
    "WHEN 'new' THEN json_object('after', json(record)) "
    "ELSE json_object('before', json(record)) END"
)
_PLANNED_PG = (
    "CASE kind WHEN 'updated' THEN record "
    "WHEN 'new' THEN jsonb_build_object('after', record) "
    "ELSE jsonb_build_object('before', record) END"
)


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


# The JSON columns are read as text and decoded by orjson (several times faster than the
# standard library's decoder, which the JSON type uses).
_TO_DO = (
    ApplyJournal.id,
    ApplyJournal.op,
    ApplyJournal.external_id,
    cast(ApplyJournal.planned, Text),
)
_DONE = (*_TO_DO, ApplyResult.state, cast(ApplyResult.before, Text), cast(ApplyResult.after, Text))


def _loads(value: str | None) -> Any:
    return orjson.loads(value) if value is not None else None


def _to_do(row: Any) -> JournalWork:
    id_, op, external_id, planned = row
    return JournalWork(id_, op, external_id, "pending", _loads(planned) or {}, None, None)


def _done(row: Any) -> JournalWork:
    id_, op, external_id, planned, state, before, after = row
    planned_ = _loads(planned) or {}
    return JournalWork(id_, op, external_id, state, planned_, _loads(before), _loads(after))


def _json_rows(work: Sequence[JournalWork], columns: Sequence[str]) -> str:
    """The rows' ``id`` and ``columns`` as one JSON document, the one parameter of a
    statement on PostgreSQL: orjson writes it in C (binding each value of a VALUES list,
    quoted one by one in Python by psycopg2, cost more than the statement)."""
    doc = orjson.dumps(
        [{"id": w.id, **{c: getattr(w, c) for c in columns}} for w in work],
        option=orjson.OPT_NAIVE_UTC,  # a naive time is UTC (UtcDateTime)
    )
    return doc.decode()


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _converter(column: str, dialect: Dialect) -> Callable[[Any], Any]:
    """How a result's column is bound on SQLite: JSON as text, times as the column type
    stores them, the rest as it is."""
    if column in JSON_COLUMNS:
        return _json_text
    processor = getattr(ApplyResult, column).type.bind_processor(dialect)
    return processor if processor is not None else (lambda value: value)


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

    def copy_journal(
        self,
        scope: OrgScope,
        run_id: int,
        snapshot_id: int,
        kinds: Sequence[str],
        exclude: Sequence[str],
    ) -> int:
        """Copy the snapshot's records of these kinds (minus ``exclude``) into the run's
        journal as planned operations, in the snapshot's order, with one INSERT … SELECT:
        the database builds each ``planned`` value from the stored record (``_PLANNED_PG``),
        so that no row travels through Python. Returns how many."""
        wanted = [k for k in OPERATION_OF if k in kinds]
        if not wanted:
            return 0
        postgres = self.session.get_bind().dialect.name == "postgresql"
        build = _PLANNED_PG if postgres else _PLANNED_SQLITE
        params: dict[str, Any] = {"run_id": run_id, "snapshot_id": snapshot_id}
        where = f"{scope.sql} AND cache_id = :snapshot_id AND kind IN "
        where += "(" + ", ".join(f"'{k}'" for k in wanted) + ")"  # known words, not input
        if exclude:
            if postgres:
                where += " AND NOT (external_id = ANY(CAST(:exclude AS text[])))"
                params["exclude"] = list(exclude)
            else:
                where += " AND external_id NOT IN (SELECT value FROM json_each(:exclude))"
                params["exclude"] = orjson.dumps(list(exclude)).decode()
        op = "CASE kind " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in OPERATION_OF.items())
        sql = (
            "INSERT INTO sync_apply_journal (org_id, run_id, op, external_id, planned) "
            f"SELECT {int(scope.org_id)}, :run_id, {op} END, external_id, {build} "
            f"FROM sync_preview_record WHERE {where} ORDER BY kind, position"
        )
        result = self.session.execute(text(sql), params)
        copied = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if postgres and copied >= ANALYZE_AFTER:
            # fresh statistics, or the planner guesses the journal's size and each batch's
            # reads and marks scan the whole journal (core/db/previews.py does the same)
            self.session.execute(text("ANALYZE sync_apply_journal"))
        return copied

    # --- executing and undoing -------------------------------------------------------------

    def pending(self, run: ApplyRun, limit: int) -> list[JournalWork]:
        """The run's next operations to do, in the journal's order: those after the last
        one handled (``done_through``, written with their results in one transaction; plain
        rows: no ORM objects to track)."""
        query = select(*_TO_DO).where(ApplyJournal.run_id == run.id)
        if run.done_through is not None:
            query = query.where(ApplyJournal.id > run.done_through)
        rows = self.session.execute(query.order_by(ApplyJournal.id).limit(limit))
        return [_to_do(row) for row in rows]

    def to_undo(self, run_id: int, limit: int, before: int | None = None) -> list[JournalWork]:
        """The next applied operations not undone yet, newest first (``before``: the last
        journal id the caller handled, none before its first batch: then the results'
        planner statistics are refreshed when stale, as the apply left them)."""
        if before is None:
            refresh_statistics(self.session, "sync_apply_result")
        query = (
            select(*_DONE)
            .join(ApplyResult, ApplyResult.journal_id == ApplyJournal.id)
            .where(
                ApplyJournal.run_id == run_id,
                ApplyResult.state == "done",
                ApplyResult.undo_state.is_(None),
            )
        )
        if before is not None:
            query = query.where(ApplyJournal.id < before)
        rows = self.session.execute(query.order_by(ApplyJournal.id.desc()).limit(limit))
        return [_done(row) for row in rows]

    def record(self, work: Sequence[JournalWork]) -> None:
        """Insert the outcome of each of these journal rows (``OUTCOME``): on PostgreSQL
        one INSERT for all of them, their values sent as one JSON document
        (``jsonb_to_recordset``); on SQLite one prepared INSERT run for each (the driver's
        executemany, in C)."""
        if not work:
            return
        scope = org_scope(self.session)
        conn = self.session.connection()
        names = ", ".join(OUTCOME)
        if conn.dialect.name == "postgresql":
            shape = ", ".join(f"{c} {_PG_TYPE.get(c, 'text')}" for c in OUTCOME)
            sql = (
                f"INSERT INTO sync_apply_result (journal_id, org_id, {names}) "
                f"SELECT v.id, {int(scope.org_id)}, {names} "
                f"FROM jsonb_to_recordset(%s::jsonb) AS v(id integer, {shape})"
            )
            with conn.connection.dbapi_connection.cursor() as cur:  # type: ignore[union-attr]
                cur.execute(sql, (_json_rows(work, OUTCOME),))
            return
        pairs = [(c, _converter(c, conn.dialect)) for c in OUTCOME]
        rows = [
            (w.id, scope.org_id, *(convert(getattr(w, c)) for c, convert in pairs)) for w in work
        ]
        marks = ", ".join("?" for _ in range(len(OUTCOME) + 2))
        conn.exec_driver_sql(
            f"INSERT INTO sync_apply_result (journal_id, org_id, {names}) VALUES ({marks})", rows
        )

    def record_undo(self, work: Sequence[JournalWork]) -> None:
        """Write the undo's outcome (``UNDO_OUTCOME``) into these journal rows' results, as
        ``record`` sends its values."""
        if not work:
            return
        scope = org_scope(self.session)
        conn = self.session.connection()
        if conn.dialect.name == "postgresql":
            shape = ", ".join(f"{c} {_PG_TYPE.get(c, 'text')}" for c in UNDO_OUTCOME)
            sets = ", ".join(f"{c} = v.{c}" for c in UNDO_OUTCOME)
            sql = (
                f"UPDATE sync_apply_result AS r SET {sets} "
                f"FROM jsonb_to_recordset(%s::jsonb) AS v(id integer, {shape}) "
                f"WHERE r.journal_id = v.id AND r.{scope.sql}"
            )
            with conn.connection.dbapi_connection.cursor() as cur:  # type: ignore[union-attr]
                cur.execute(sql, (_json_rows(work, UNDO_OUTCOME),))
            return
        pairs = [(c, _converter(c, conn.dialect)) for c in UNDO_OUTCOME]
        rows = [(*(convert(getattr(w, c)) for c, convert in pairs), w.id) for w in work]
        sets = ", ".join(f"{c} = ?" for c in UNDO_OUTCOME)
        conn.exec_driver_sql(
            f"UPDATE sync_apply_result SET {sets} WHERE journal_id = ? AND {scope.sql}", rows
        )

    def undo_counts(self, run_id: int) -> dict[str, int]:
        """Undone and refused operations of a run."""
        rows = self.session.execute(
            select(ApplyResult.undo_state, func.count())
            .join(ApplyJournal, ApplyJournal.id == ApplyResult.journal_id)
            .where(ApplyJournal.run_id == run_id, ApplyResult.undo_state.is_not(None))
            .group_by(ApplyResult.undo_state)
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
    ) -> tuple[list[tuple[ApplyJournal, ApplyResult | None]], int]:
        """A page of a run's journal rows with their results (of some states, "pending"
        for rows without one, or whose external id contains ``search``, or undo conflicts
        when ``states`` holds "undo_conflict"), and the total."""
        stmt = (
            select(ApplyJournal, ApplyResult)
            .outerjoin(ApplyResult, ApplyResult.journal_id == ApplyJournal.id)
            .where(ApplyJournal.run_id == run_id)
        )
        if states:
            wanted = [s for s in states if s != "undo_conflict"]
            state = func.coalesce(ApplyResult.state, "pending")
            either: list[ColumnElement[bool]] = [state.in_(wanted)] if wanted else []
            if "undo_conflict" in states:
                either.append(ApplyResult.undo_state == "conflict")
            stmt = stmt.where(or_(*either))
        if search.strip():
            term = search.strip()
            for ch in ("\\", "%", "_"):
                term = term.replace(ch, "\\" + ch)
            stmt = stmt.where(ApplyJournal.external_id.like(f"%{term}%", escape="\\"))
        total = int(self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        rows = self.session.execute(stmt.order_by(ApplyJournal.id).limit(limit).offset(offset))
        return [(journal, result) for journal, result in rows], total
