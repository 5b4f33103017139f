"""Activity: the organization's log, the change counts over time, the operational figures."""

from datetime import date, timedelta

import altair as alt
import streamlit as st

from ui import format as fmt
from ui import state
from ui.activity import ACTIONS, counts_over_time, csv_export, events_frame, make_filter
from ui.auth import require_user
from ui.connectors import connector_label, picker_order
from ui.preview import browser_zone
from ui.services import get_services

user = require_user()
services = get_services()
tz = browser_zone()
PAGE_SIZE = 50

st.title("📜 Activity")
st.caption("Who looked at, refreshed or changed what, and how the previews performed.")

connectors = {c.id: c for c in picker_order(services.connectors.list(user))}
with st.container(border=True):
    row1 = st.columns(4)
    action = row1[0].selectbox(
        "Action", ("", *ACTIONS), format_func=lambda a: a or "any", key="act_action"
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
        "Status", ("", "ok", "failed", "logout"), format_func=lambda s: s or "any", key="act_status"
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
    fmt.percent(stats.cache_hit_ratio),
    help=f"{stats.cache_hits:,} served from the cache, {stats.refreshes:,} computed",
    border=True,
)
figures[1].metric("Refresh p50", fmt.duration(stats.p50_ms), border=True)
figures[2].metric("Refresh p95", fmt.duration(stats.p95_ms), border=True)
figures[3].metric("Failed refreshes", f"{stats.failures:,}", border=True)
figures[4].metric("External timeouts", f"{stats.timeouts:,}", border=True)
if stats.failures_by_source or stats.timeouts_by_source:
    st.caption(
        f"By source — failures: {fmt.by_source(stats.failures_by_source)} · "
        f"timeouts: {fmt.by_source(stats.timeouts_by_source)}"
    )

# --- change counts over time ----------------------------------------------------------------
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
                    domain=["new", "updated", "deleted"], range=["#16a34a", "#2563eb", "#dc2626"]
                ),
                title=None,
            ),
            strokeDash=alt.StrokeDash("connector:N", title=None),
            tooltip=["when:T", "connector:N", "entity:N", "kind:N", "count:Q"],
        )
        .properties(height=160)
        .facet(row=alt.Row("entity:N", title=None))
    )
    st.altair_chart(chart, use_container_width=True)

# --- the log --------------------------------------------------------------------------------
st.subheader("Log")
table = f"activity/{flt}"
offset = state.page_offset(table)
events, total = services.activity.list_activity(user, flt, limit=PAGE_SIZE, offset=offset)
head, download = st.columns([5, 1], vertical_alignment="bottom")
head.caption(
    f"Rows {offset + 1:,}–{offset + len(events):,} of {total:,}" if events else "No events match."
)
download.download_button(
    "⬇️ CSV",
    data=csv_export(user, flt, tz),
    file_name="activity.csv",
    mime="text/csv",
    key="activity_csv",
)
if events:
    st.dataframe(events_frame(events, tz), hide_index=True, key="activity_table")
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
