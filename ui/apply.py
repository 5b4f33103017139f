"""Applying a sync from the Preview: the confirmation that says exactly what will happen, the
run's progress (read from its row while the process's apply thread works), and the words of
runs and their per-record results for the "Sync runs" view."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from core.errors import SyncPreviewError
from core.services.actors import UserContext
from core.services.apply import JournalEntry, RunView
from core.services.connectors import ConnectorView
from core.services.previews import PreviewSnapshot
from ui import format as fmt
from ui import state
from ui.format import field_label
from ui.services import get_services

#: What each state of a run reads as.
STATE_WORDS = {
    "queued": "⏳ queued",
    "running": "🔄 running",
    "succeeded": "✅ succeeded",
    "partly_succeeded": "⚠️ partly succeeded",
    "failed": "❌ failed",
    "cancelled": "⏹️ cancelled",
    "undoing": "↩️ undoing",
    "undone": "↩️ undone",
}
OP_WORDS = {"create": "➕ create", "update": "✏️ update", "delete": "➖ delete"}
RESULT_WORDS = {
    "pending": "⏳ not yet",
    "done": "✅ applied",
    "conflict": "⚠️ conflict",
    "skipped": "⏭️ skipped",
}
KIND_OF_OP = {"create": "new", "update": "updated", "delete": "deleted"}


def apply_controls(user: UserContext, connector: ConnectorView, snapshot: PreviewSnapshot) -> None:
    """The Apply button, its confirmation, and the progress of a run this session started."""
    entity_type = snapshot.entity_type
    running = state.active_run(connector.id, entity_type)
    if running is not None:
        _follow(user, connector, entity_type, running)
        return
    left_out = state.excluded(connector.id, entity_type)
    button, note = st.columns([1, 4], vertical_alignment="center")
    button.button(
        "▶️ Apply…",
        key="apply",
        help=f"Write the selected changes to {fmt.md(_target(snapshot))} (you confirm first)",
        on_click=state.ask_apply,
        args=(connector.id, entity_type),
    )
    if left_out:
        note.caption(
            f"{fmt.number(len(left_out))} record(s) unticked: left out of the apply. "
            "Untick or tick records in the tables below."
        )
        note.button(
            "Tick all again",
            key="apply_tick_all",
            on_click=state.tick_all,
            args=(connector.id, entity_type),
        )
    else:
        note.caption("Untick records in the tables below to leave them out of the apply.")
    if state.confirming_apply() == (connector.id, entity_type):
        _confirm(user, connector, snapshot, left_out)


def _target(snapshot: PreviewSnapshot) -> str:
    """Where an apply of ``snapshot`` writes, in words (the confirmation names the table)."""
    if (snapshot.local or {}).get("kind") == "database":
        return "your database (when an admin switched its write-back on)"
    return "the built-in store"


def _confirm(
    user: UserContext, connector: ConnectorView, snapshot: PreviewSnapshot, left_out: set[str]
) -> None:
    services = get_services()
    entity_type = snapshot.entity_type
    with st.container(border=True, key="apply_confirmation"):
        try:
            plan = services.apply.plan(
                user,
                connector.sync_type,
                entity_type,
                connector=connector.id,
                snapshot_id=snapshot.snapshot_id,
                exclude=sorted(left_out),
            )
        except SyncPreviewError as err:
            st.warning(fmt.md(err))
            st.button("Close", key="apply_cancel", on_click=state.cancel_apply)
            return
        st.markdown(
            f"**Apply the {fmt.ENTITY_LABEL[entity_type].lower()} preview of "
            f"{fmt.md(connector.name)}?** This {fmt.md(plan.sentence())}."
        )
        notes = []
        if plan.left_out_kinds:
            kinds = ", ".join(fmt.KIND_LABEL[k].lower() for k in plan.left_out_kinds)
            notes.append(f"Left out by the selective settings: {kinds} records.")
        if plan.excluded:
            notes.append(f"Left out by hand (unticked): {fmt.number(plan.excluded)} record(s).")
        notes.append(
            "A local record changed since this preview is not overwritten: it is reported as a "
            "conflict. You can undo the whole run from Activity › Sync runs."
        )
        for line in notes:
            st.caption(line)
        go, cancel, _ = st.columns([1, 1, 4])
        if go.button("✅ Apply now", key="apply_confirm", type="primary", disabled=plan.total == 0):
            try:
                run = services.apply.start(
                    user,
                    connector.sync_type,
                    entity_type,
                    connector=connector.id,
                    snapshot_id=snapshot.snapshot_id,
                    exclude=sorted(left_out),
                )
                services.apply.enqueue(user, run.id)  # a worker applies it
            except SyncPreviewError as err:
                st.error(fmt.md(err))
                return
            if not services.jobs.workers_alive():
                state.flash(
                    "warning",
                    "No worker is running, so the apply waits in the queue: start one with "
                    "`python -m core worker` (`scripts/run` starts one beside the dashboard).",
                )
            state.cancel_apply()
            state.set_active_run(connector.id, entity_type, run.id)
            st.rerun()
        cancel.button("Cancel", key="apply_cancel", on_click=state.cancel_apply)


def _follow(user: UserContext, connector: ConnectorView, entity_type: str, run_id: int) -> None:
    """The progress of a run, read from its row every second until it ends; then the result
    as a message and a full rerun (the preview is recomputed without what was applied)."""

    @st.fragment(run_every=1.0)
    def progress() -> None:
        run = get_services().apply.run(user, run_id)
        if run.state in ("queued", "running"):
            st.progress(
                run.fraction,
                text=f"Applying to {run.target_label}: {fmt.number(run.processed)} of "
                f"{fmt.number(run.total)} records…",
            )
            return
        state.set_active_run(connector.id, entity_type, None)
        state.excluded(connector.id, entity_type).clear()
        state.flash("success" if run.state == "succeeded" else "warning", result_sentence(run))
        st.rerun()

    progress()


def result_sentence(run: RunView) -> str:
    """'Run 3 succeeded: created 49, updated 117, deleted 0 customers in the built-in store.'"""
    c = run.counts
    text = (
        f"Run {run.id} {STATE_WORDS[run.state].split(' ', 1)[1]}: created "
        f"{fmt.number(c['created'])}, updated {fmt.number(c['updated'])}, deleted "
        f"{fmt.number(c['deleted'])} {run.entity_type} in {run.target_label}."
    )
    if c["conflicts"]:
        text += (
            f" {fmt.number(c['conflicts'])} conflict(s): records changed since the preview were "
            "left as they are (Activity › Sync runs shows both values)."
        )
    if c["skipped"]:
        text += f" {fmt.number(c['skipped'])} skipped (already as wanted)."
    if run.error:
        text += f" {run.error}"
    return text


# --- the Sync runs view ---------------------------------------------------------------------


def runs_frame(runs: list[RunView]) -> pd.DataFrame:
    """One row per run: when, who, what, state, counts, duration."""
    rows = []
    for r in runs:
        took = r.duration_seconds
        rows.append(
            {
                "Run": r.id,
                "When": r.created_at,
                "Who": r.created_by or "",
                "Connector": r.connector_name,
                "Entity": fmt.ENTITY_LABEL.get(r.entity_type, r.entity_type),
                "State": STATE_WORDS.get(r.state, r.state),
                "Created": r.counts["created"],
                "Updated": r.counts["updated"],
                "Deleted": r.counts["deleted"],
                "Conflicts": r.counts["conflicts"],
                "Skipped": r.counts["skipped"],
                "Duration": fmt.duration(int(took * 1000)) if took is not None else "",
                "Undone by": r.undone_by or "" if r.state == "undone" else "",
            }
        )
    return pd.DataFrame(rows)


def _values_text(values: Mapping[str, Any] | None, fields: list[str] | None = None) -> str:
    if values is None:
        return "(no local record)"
    names = fields or [k for k in values if k not in ("id", "external_id")]
    return "; ".join(f"{field_label(n)}: {_value(values.get(n))}" for n in names)


def _value(value: Any) -> str:
    if value is None or value == "":
        return "∅"
    if isinstance(value, list):
        return f"{len(value)} line(s)"
    return str(value)


def conflict_fields(entry: JournalEntry) -> list[str]:
    """The fields where a conflict's two values differ."""
    expected = entry.expected if entry.undo_state != "conflict" else entry.after
    found = entry.found if entry.undo_state != "conflict" else entry.undo_found
    if not expected or not found:
        return []
    return [k for k in found if k not in ("id", "external_id") and expected.get(k) != found.get(k)]


def journal_frame(entries: list[JournalEntry]) -> pd.DataFrame:
    """One row per record of a run: operation, result, why; for a conflict both values of
    the fields that differ (expected: as the preview or the run left it; found: now)."""
    rows = []
    for e in entries:
        undo_conflict = e.undo_state == "conflict"
        differ = conflict_fields(e)
        expected = e.after if undo_conflict else e.expected
        found = e.undo_found if undo_conflict else e.found
        conflict = e.state == "conflict" or undo_conflict
        rows.append(
            {
                "Record": e.external_id,
                "Operation": OP_WORDS.get(e.op, e.op),
                "Result": RESULT_WORDS.get(e.state, e.state),
                "Undo": {"undone": "↩️ restored", "conflict": "⚠️ left (changed since)"}.get(
                    e.undo_state or "", ""
                ),
                "Why": e.message or "",
                "Expected": _values_text(expected, differ) if conflict and differ else "",
                "Found": _values_text(found, differ or None) if conflict else "",
            }
        )
    return pd.DataFrame(rows)


def follow_undo(user: UserContext, run_id: int) -> None:
    """The undo's progress, read from the run every second until it ends (then a rerun)."""

    @st.fragment(run_every=1.0)
    def progress() -> None:
        run = get_services().apply.run(user, run_id)
        if run.state == "undoing" and not run.error:
            st.info(f"↩️ Undoing run {run_id}…")
            return
        st.rerun()

    progress()


def journal_csv(entries: list[JournalEntry]) -> str:
    """The per-record results as CSV text (every value as JSON text)."""
    rows = journal_csv_rows(entries)
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()


def journal_csv_rows(entries: list[JournalEntry]) -> list[dict[str, Any]]:
    """The per-record results for a spreadsheet: every value as JSON text."""
    return [
        {
            "record": e.external_id,
            "operation": e.op,
            "result": e.state,
            "message": e.message or "",
            "undo": e.undo_state or "",
            "expected": json.dumps(e.expected, default=str) if e.expected else "",
            "wanted": json.dumps(e.wanted, default=str) if e.wanted else "",
            "before": json.dumps(e.before, default=str) if e.before else "",
            "after": json.dumps(e.after, default=str) if e.after else "",
            "found": json.dumps(e.found or e.undo_found, default=str)
            if (e.found or e.undo_found)
            else "",
        }
        for e in entries
    ]


__all__ = [
    "apply_controls",
    "follow_undo",
    "journal_csv",
    "journal_frame",
    "result_sentence",
    "runs_frame",
]
