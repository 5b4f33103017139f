"""Activity: the organization's log, the change counts over time, the operational figures,
and the history of each connector's previews."""

from datetime import date, timedelta

import altair as alt
import streamlit as st

from ui import format as fmt
from ui import state
from ui.activity import (
    ACTIONS,
    STATUS_WORDS,
    action_word,
    counts_over_time,
    csv_export,
    events_frame,
    history_frame,
    history_series,
    make_filter,
)
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

CHANGE_COLOURS = {"new": "#16a34a", "updated": "#2563eb", "deleted": "#dc2626"}
when_column = st.column_config.DatetimeColumn("When", format="localized", timezone=loc.tz_name)


def show_log() -> None:
    """The change counts over time and the filtered, paged log."""
    st.subheader("Changes found over time")
    series = counts_over_time(user, flt, tz)
    if series.empty:
        st.info("No refresh in this period yet.")
    else:
        chart = (
            alt.Chart(series)
            .mark_line(point=True)
            .encode(
                x=alt.X("when:T", title=None, axis=alt.Axis(format="%d %b %H:%M")),
                y=alt.Y("count:Q", title="records"),
                color=alt.Color(
                    "kind:N",
                    scale=alt.Scale(
                        domain=[fmt.KIND_LABEL[k] for k in CHANGE_COLOURS],
                        range=list(CHANGE_COLOURS.values()),
                    ),
                    title=None,
                ),
                strokeDash=alt.StrokeDash("connector:N", title=None),
                tooltip=["when:T", "connector:N", "entity:N", "kind:N", "count:Q"],
            )
            .properties(height=160)
            .facet(row=alt.Row("entity:N", title=None))
        )
        st.altair_chart(chart, width="stretch")

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
        chart = (
            alt.Chart(series)
            .mark_line(point=True)
            .encode(
                x=alt.X("when:T", title=None, axis=alt.Axis(format="%d %b %H:%M")),
                y=alt.Y("count:Q", title="records"),
                color=alt.Color(
                    "kind:N",
                    scale=alt.Scale(
                        domain=[fmt.KIND_LABEL[k] for k in CHANGE_COLOURS],
                        range=list(CHANGE_COLOURS.values()),
                    ),
                    title=None,
                ),
                strokeDash=alt.StrokeDash("entity:N", title=None),
                tooltip=["when:T", "entity:N", "kind:N", "count:Q"],
            )
            .properties(height=180)
        )
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


log_tab, history_tab, jobs_tab = st.tabs(
    ["📜 Log", "🕒 Preview history per connector", "⚙️ Jobs"],
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
