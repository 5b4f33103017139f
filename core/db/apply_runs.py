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

from core.db.models import ApplyJournal, ApplyRun, PreviewRecord
from core.db.scope import OrgScope, org_scope

CHUNK = 1_000  # external ids per statement
ANALYZE_AFTER = 5_000  # journal rows
#: PostgreSQL types of the journal columns ``mark`` writes (the others are text).
_PG_TYPE = {
    "applied_at": "timestamptz",
    **{c: "jsonb" for c in ("planned", "before", "after", "found", "undo_found")},
}
#: A snapshot's kind of record -> the journal's operation (as core/services/apply/views.py).
OPERATION_OF = {"new": "create", "updated": "update", "deleted": "delete"}
#: The journal's JSON columns (written as JSON text by ``mark``).
JSON_COLUMNS = frozenset({"planned", "before", "after", "found", "undo_found"})

# A journal row's ``planned`` value built from a snapshot record (sync_preview_record's
# ``record`` and ``changes``), as core/services/apply/runner.py reads it.
_PLANNED_SQLITE = (
    "CASE kind WHEN 'updated' THEN json_object("
    "'before', json(json_extract(record, '$.before')), "
    "'after', json(json_extract(record, '$.after')), "
    "'changes', CASE WHEN json_type(changes) = 'array' THEN json(("
    "SELECT json_group_array(json_extract(c.value, '$.field')) FROM json_each(changes) AS c"
    ")) ELSE json('[]') END) "
    "WHEN 'new' THEN json_object('after', json(record)) "
    "ELSE json_object('before', json(record)) END"
)
_PLANNED_PG = (
    "CASE kind WHEN 'updated' THEN jsonb_build_object("
    "'before', record -> 'before', 'after', record -> 'after', "
    "'changes', CASE WHEN jsonb_typeof(changes) = 'array' THEN COALESCE(("
    "SELECT jsonb_agg(c -> 'field') FROM jsonb_array_elements(changes) AS c"
    "), '[]'::jsonb) ELSE '[]'::jsonb END) "
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
_WORK = (
    ApplyJournal.id,
    ApplyJournal.op,
    ApplyJournal.external_id,
    ApplyJournal.state,
    cast(ApplyJournal.planned, Text),
    cast(ApplyJournal.before, Text),
    cast(ApplyJournal.after, Text),
)


def _work(row: Any) -> JournalWork:
    id_, op, external_id, state, planned, before, after = row
    return JournalWork(
        id_,
        op,
        external_id,
        state,
        orjson.loads(planned) if planned is not None else {},
        orjson.loads(before) if before is not None else None,
        orjson.loads(after) if after is not None else None,
    )


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _converter(column: str, dialect: Dialect) -> Callable[[Any], Any]:
    """How ``mark`` binds one column's value: JSON as text, times as the column type
    stores them, the rest as it is."""
    if column in JSON_COLUMNS:
        return _json_text
    processor = getattr(ApplyJournal, column).type.bind_processor(dialect)
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
        the database builds each ``planned`` value from the stored record (``before`` and
        ``after``, and the changed fields' names, of an update; the record itself as the
        ``after`` of a create and the ``before`` of a delete), so that no row travels
        through Python. Returns how many."""
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
            "INSERT INTO sync_apply_journal (org_id, run_id, op, external_id, state, planned) "
            f"SELECT {int(scope.org_id)}, :run_id, {op} END, external_id, 'pending', {build} "
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

    def pending(self, run_id: int, limit: int, after: int | None = None) -> list[JournalWork]:
        """The next operations not applied yet, in the journal's order (plain rows: no ORM
        objects to track, the outcomes are written back by ``mark``). ``after``: the last
        journal id the caller handled (none before it is pending any more), so that a batch
        does not walk past every row done already."""
        query = select(*_WORK).where(ApplyJournal.run_id == run_id, ApplyJournal.state == "pending")
        if after is not None:
            query = query.where(ApplyJournal.id > after)
        rows = self.session.execute(query.order_by(ApplyJournal.id).limit(limit))
        return [_work(row) for row in rows]

    def to_undo(self, run_id: int, limit: int, before: int | None = None) -> list[JournalWork]:
        """The next applied operations not undone yet, newest first (``before``: the last
        journal id the caller handled, as ``pending``'s ``after``)."""
        query = select(*_WORK).where(
            ApplyJournal.run_id == run_id,
            ApplyJournal.state == "done",
            ApplyJournal.undo_state.is_(None),
        )
        if before is not None:
            query = query.where(ApplyJournal.id < before)
        rows = self.session.execute(query.order_by(ApplyJournal.id.desc()).limit(limit))
        return [_work(row) for row in rows]

    def mark(self, work: Sequence[JournalWork], columns: Sequence[str]) -> None:
        """Write these columns of each journal row back: on PostgreSQL one UPDATE for all of
        them, their values sent as one JSON document (``json_to_recordset``); on SQLite one
        prepared UPDATE run for each (the driver's executemany, in C)."""
        if work:
            self._mark(org_scope(self.session), work, columns)

    def _mark(self, scope: OrgScope, work: Sequence[JournalWork], columns: Sequence[str]) -> None:
        conn = self.session.connection()
        dialect = conn.dialect
        for column in columns:  # the names are written into the SQL: the journal's own
            if column not in ApplyJournal.__mapper__.columns or column in ("id", "org_id"):
                raise ValueError(f"not a journal column: {column}")
        if dialect.name == "postgresql":
            # One parameter that orjson writes in C: binding each value of a VALUES list
            # (psycopg2 quotes them one by one in Python) cost more than the UPDATE itself.
            doc = orjson.dumps(
                [{"id": w.id, **{c: getattr(w, c) for c in columns}} for w in work],
                option=orjson.OPT_NAIVE_UTC,  # a naive time is UTC (UtcDateTime)
            )
            shape = ", ".join(f"{c} {_PG_TYPE.get(c, 'text')}" for c in columns)
            sets = ", ".join(f"{c} = v.{c}" for c in columns)
            sql = (
                f"UPDATE sync_apply_journal AS j SET {sets} "
                f"FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, {shape}) "
                f"WHERE j.id = v.id AND j.{scope.sql}"
            )
            with conn.connection.dbapi_connection.cursor() as cur:  # type: ignore[union-attr]
                cur.execute(sql, (doc.decode(),))
            return
        converters = [_converter(c, dialect) for c in columns]
        pairs = list(zip(columns, converters, strict=True))
        rows = [(*(convert(getattr(w, c)) for c, convert in pairs), w.id) for w in work]
        sets = ", ".join(f"{c} = ?" for c in columns)
        conn.exec_driver_sql(
            f"UPDATE sync_apply_journal SET {sets} WHERE id = ? AND {scope.sql}", rows
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
