"""Activity: the organization's log, the change counts over time, the operational figures,
and the history of each connector's previews."""

from datetime import date, timedelta

import altair as alt
import streamlit as st

from core.errors import SyncPreviewError
from ui import format as fmt
from ui import state
from ui.activity import (
    ACTIONS,
    STATUS_WORDS,
    action_word,
    changes_chart,
    counts_over_time,
    csv_export,
    events_frame,
    history_frame,
    history_series,
    make_filter,
)
from ui.apply import follow_undo, journal_csv, journal_frame, result_sentence, runs_frame
from ui.auth import require_user
from ui.browser import locality
from ui.connectors import connector_label, pick_connector, picker_order
from ui.jobs import jobs_table
from ui.services import get_services

user = require_user()
services = get_services()
loc = locality()
tz = loc.tz
PAGE_SIZE = 50

st.title("📜 Activity")
st.caption("Who looked at, refreshed or changed what, and how the previews performed.")

connectors = {c.id: c for c in picker_order(services.connectors.list(user))}
with st.container(border=True):
    row1 = st.columns(4)
    action = row1[0].selectbox(
        "Action",
        ("", *ACTIONS),
        format_func=lambda a: action_word(a) if a else "any",
        key="act_action",
    )
    sync_type = row1[1].selectbox(
        "Source",
        ("", *fmt.source_keys()),
        format_func=lambda s: fmt.source_label(s) if s else "any",
        key="act_source",
    )
    connector_id = row1[2].selectbox(
        "Connector",
        (None, *connectors),
        format_func=lambda c: "any" if c is None else connector_label(connectors[c]),
        key="act_connector",
    )
    entity_type = row1[3].selectbox(
        "Entity",
        ("", *fmt.ENTITY_TYPES),
        format_func=lambda e: fmt.ENTITY_LABEL.get(e, "any"),
        key="act_entity",
    )
    row2 = st.columns(3)
    who = row2[0].text_input("User", placeholder="username", key="act_user")
    status = row2[1].selectbox(
        "Status",
        ("", "ok", "failed"),
        format_func=lambda s: STATUS_WORDS.get(s, "any"),
        key="act_status",
    )
    today = date.today()
    days = row2[2].date_input(
        "Period", value=(today - timedelta(days=6), today), max_value=today, key="act_days"
    )

flt = make_filter(
    action=action,
    connector_id=connector_id,
    sync_type=sync_type,
    entity_type=entity_type,
    user=who,
    status=status,
    days=days if isinstance(days, tuple | list) else (days,),
    tz=tz,
)

# --- operational figures --------------------------------------------------------------------
stats = services.activity.stats(user, flt)
st.subheader("How previews performed")
figures = st.columns(5)
figures[0].metric(
    "Cache hit ratio",
    fmt.percent(stats.cache_hit_ratio, loc),
    help=f"{fmt.number(stats.cache_hits, loc)} served from the cache, "
    f"{fmt.number(stats.refreshes, loc)} computed",
    border=True,
)
figures[1].metric("Refresh p50", fmt.duration(stats.p50_ms), border=True)
figures[2].metric("Refresh p95", fmt.duration(stats.p95_ms), border=True)
figures[3].metric("Failed refreshes", fmt.number(stats.failures, loc), border=True)
figures[4].metric("External timeouts", fmt.number(stats.timeouts, loc), border=True)
if stats.failures_by_source or stats.timeouts_by_source:
    st.caption(
        f"By source — failures: {fmt.by_source(stats.failures_by_source)} · "
        f"timeouts: {fmt.by_source(stats.timeouts_by_source)}"
    )

when_column = st.column_config.DatetimeColumn("When", format="localized", timezone=loc.tz_name)


def show_log() -> None:
    """The change counts over time and the filtered, paged log."""
    st.subheader("Changes found over time")
    series = counts_over_time(user, flt, tz)
    if series.empty:
        st.info("No refresh in this period yet.")
    else:
        lines = changes_chart(series, "connector").properties(height=160)
        st.altair_chart(lines.facet(row=alt.Row("entity:N", title=None)), width="stretch")

    st.subheader("Log")
    table = f"activity/{flt}"
    offset = state.page_offset(table)
    events, total = services.activity.list_activity(user, flt, limit=PAGE_SIZE, offset=offset)
    head, download = st.columns([5, 1], vertical_alignment="bottom")
    head.caption(
        f"Rows {fmt.number(offset + 1, loc)}–{fmt.number(offset + len(events), loc)} of "
        f"{fmt.number(total, loc)}"
        if events
        else "No events match."
    )
    download.download_button(
        "⬇️ CSV",
        data=csv_export(user, flt, loc),
        file_name="activity.csv",
        mime="text/csv",
        key="activity_csv",
    )
    if events:
        st.dataframe(
            events_frame(events, loc),
            hide_index=True,
            key="activity_table",
            placeholder="",
            column_config={"When": when_column},
        )
        prev_col, next_col, _ = st.columns([1, 1, 6])
        prev_col.button(
            "◀ Previous",
            key="activity_prev",
            disabled=offset == 0,
            on_click=state.set_page_offset,
            args=(table, offset - PAGE_SIZE),
        )
        next_col.button(
            "Next ▶",
            key="activity_next",
            disabled=offset + len(events) >= total,
            on_click=state.set_page_offset,
            args=(table, offset + PAGE_SIZE),
        )


def show_history() -> None:
    """The previews computed from one connector over the period: a chart and a table."""
    choices = services.connectors.list(user)
    if not choices:
        st.info("There are no connectors yet.")
        return
    chosen = pick_connector(user, choices, key="history_connector").id
    history = services.previews.history(
        user, chosen, entity_type=flt.entity_type, since=flt.since, until=flt.until
    )
    st.caption(
        f"Every preview computed from {fmt.md(history.connector.name)} in the period chosen "
        "above (and of the entity chosen there), newest first."
    )
    if not history.entries:
        st.info("No preview of this connector was computed in this period.")
        return
    series = history_series(history, tz)
    if not series.empty:
        chart = changes_chart(series, "entity").properties(height=180)
        st.altair_chart(chart, width="stretch")
    st.dataframe(
        history_frame(history),
        hide_index=True,
        key="history_table",
        placeholder="",
        column_config={"When": when_column},
    )


def show_jobs() -> None:
    """The organization's recent background jobs (refreshes), with state and duration."""
    rows = jobs_table(user)
    alive = services.jobs.workers_alive()
    st.caption(
        f"{alive} worker(s) running." if alive else "⚠️ No worker is running: queued jobs wait."
    )
    if not rows:
        st.info("No background job yet: a refresh from the Preview runs as one.")
        return
    st.dataframe(
        rows,
        hide_index=True,
        key="jobs_table",
        column_config={"Started": when_column},
    )


RESULT_FILTERS = {
    "All": (),
    "Conflicts": ("conflict",),
    "Applied": ("done",),
    "Skipped": ("skipped",),
    "Not applied yet": ("pending",),
    "Left at undo (changed since)": ("undo_conflict",),
}


def show_runs() -> None:
    """The applies of the organization: state, counts, who, how long; one run's per-record
    results (searchable, downloadable) and its Undo."""
    runs, total = services.apply.runs(user, limit=100)
    if not runs:
        st.info("No sync was applied yet. Apply one from the Preview.")
        return
    st.caption(f"{fmt.number(total, loc)} run(s), newest first.")
    st.dataframe(
        runs_frame(runs),
        hide_index=True,
        key="runs_table",
        placeholder="",
        column_config={"When": when_column},
    )
    by_id = {r.id: r for r in runs}
    run_id = st.selectbox(
        "Run",
        list(by_id),
        format_func=lambda i: (
            f"Run {i} · {by_id[i].connector_name} · {fmt.ENTITY_LABEL[by_id[i].entity_type]}"
        ),
        key="runs_pick",
    )
    run = services.apply.run(user, run_id)
    st.markdown(f"**{fmt.md(result_sentence(run))}**")
    st.caption(
        f"Planned: it {fmt.md(run.plan_sentence())}; "
        f"{fmt.number(run.excluded, loc)} left out by hand. Started by "
        f"{fmt.md(run.created_by or 'the operator')}."
        + (
            f" Undone by {fmt.md(run.undone_by or 'the operator')}: "
            f"{fmt.number((run.undo_counts or {}).get('restored', 0), loc)} restored, "
            f"{fmt.number((run.undo_counts or {}).get('conflicts', 0), loc)} left as they were "
            "changed after the apply."
            if run.state == "undone"
            else ""
        )
    )
    if run.state == "undoing" and run.error:
        st.error(fmt.md(run.error))
    if run.state == "undoing" and not run.error:
        follow_undo(user, run.id)
    elif run.can_undo and user.can("editor"):
        if state.confirming_undo() == run.id:
            with st.container(border=True, key="undo_confirmation"):
                st.markdown(
                    f"**Undo run {run.id}?** The records it wrote get their values from before "
                    "the run back; a record changed since the run is left as it is and "
                    "reported."
                )
                go, cancel, _ = st.columns([1, 1, 4])
                if go.button("↩️ Undo now", key="undo_confirm", type="primary"):
                    try:
                        services.apply.enqueue(user, run.id, undo=True)  # a worker undoes it
                    except SyncPreviewError as err:
                        st.error(fmt.md(err))
                    else:
                        state.ask_undo(None)
                        st.rerun()
                cancel.button("Cancel", key="undo_cancel", on_click=state.ask_undo, args=(None,))
        else:
            st.button("↩️ Undo this run…", key="undo", on_click=state.ask_undo, args=(run.id,))

    st.markdown("**Records of this run**")
    which, search_col, download = st.columns([2, 3, 1], vertical_alignment="bottom")
    chosen = which.selectbox("Show", list(RESULT_FILTERS), key="runs_result")
    search = search_col.text_input("Record id", key="runs_search", placeholder="external id")
    page = services.apply.journal(
        user, run.id, states=RESULT_FILTERS[chosen], search=search.strip(), limit=200
    )
    everything = services.apply.journal(
        user, run.id, states=RESULT_FILTERS[chosen], search=search.strip(), limit=10_000
    )
    download.download_button(
        "⬇️ CSV",
        data=journal_csv(everything.entries),
        file_name=f"run-{run.id}-records.csv",
        mime="text/csv",
        key="runs_csv",
    )
    if not page.entries:
        st.info("No record matches.")
        return
    st.caption(
        f"{fmt.number(len(page.entries), loc)} of {fmt.number(page.total, loc)} record(s). "
        "For a conflict: Expected is what the preview (or, at undo, the run) left; Found is "
        "what the local record holds instead."
    )
    st.dataframe(journal_frame(page.entries), hide_index=True, key="runs_records", placeholder="")


log_tab, history_tab, runs_tab, jobs_tab = st.tabs(
    ["📜 Log", "🕒 Preview history per connector", "🔁 Sync runs", "⚙️ Jobs"],
    key="activity_tabs",
    on_change="rerun",
)
if log_tab.open:
    with log_tab:
        show_log()
if history_tab.open:
    with history_tab:
        show_history()
if jobs_tab.open:
    with jobs_tab:
        show_jobs()
if runs_tab.open:
    with runs_tab:
        show_runs()
