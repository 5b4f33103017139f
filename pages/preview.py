"""Preview: what a sync from one connector of one entity would change, with the field-level
diff."""

from datetime import UTC, datetime

import streamlit as st

from ui import format as fmt
from ui import state
from ui.apply import apply_controls
from ui.auth import require_user
from ui.browser import locality
from ui.connectors import pick_connector
from ui.demo import demo_outcome, load_demo_button
from ui.jobs import compute_if_missing, follow_refresh, start_refresh
from ui.nav import page_path
from ui.preview import csv_export, local_side, open_snapshot, show_counts
from ui.records import RecordReader, highlight
from ui.services import get_services
from ui.tables import record_columns
from ui.warming import warming_stop_notice

user = require_user()
services = get_services()
loc = locality()

st.title("🔍 Sync preview")
st.caption("What a sync would change in your database, before anything is synced.")

demo_outcome(user)  # a demo load this session followed may have ended since its last run
connectors = services.connectors.list(user)
if not connectors:
    st.info("There is no connection to a WooCommerce store or Odoo yet.")
    if user.can("admin"):
        st.write(
            "Load the demo stores (a WooCommerce store and an Odoo running on this machine) "
            "to try Sync Preview right away, or add a connector to your own system."
        )
        load_demo_button(user, key="load_demo")  # a worker loads it; the page follows
        st.page_link(page_path("pages/connectors.py"), label="Add a connector", icon="🔌")
    else:
        st.write("Ask an administrator of your organization to add one.")
    st.stop()

pick_source, pick_entity, actions = st.columns([3, 3, 2], vertical_alignment="bottom")
connector = pick_connector(user, connectors, key="preview_connector", where=pick_source)
entity_type = pick_entity.selectbox(
    "Entity", fmt.ENTITY_TYPES, format_func=fmt.ENTITY_LABEL.__getitem__, key="preview_entity"
)
refresh = user.can("editor") and actions.button(
    "🔄 Refresh",
    key="refresh",
    type="primary",
    help=f"Fetch the records from {fmt.md(connector.name)} again and recompute",
)

# The counts are what an open waits for: drawn before the refresh's progress and notices
# (their queries), which keep their place above them.
jobs_area = st.container()
snapshot = open_snapshot(user, connector, entity_type)
if snapshot is not None:
    show_counts(snapshot, loc)
with jobs_area:
    if refresh:  # a worker refreshes; the page follows the job (so does every other user's)
        start_refresh(user, connector, entity_type)
    else:  # a missing or expired preview too
        compute_if_missing(user, connector, entity_type)
    follow_refresh(user, connector, entity_type)
    warming_stop_notice(user, connector, entity_type, loc)
if snapshot is None:  # none computed yet: a worker computes it (its progress is shown above)
    failed = state.failed_preview(connector.id, entity_type)
    if failed is not None:
        st.error(f"The preview could not be computed: {fmt.md(failed)}")
        st.button(
            "Try again",
            key="retry_preview",
            on_click=state.set_failed_preview,
            args=(connector.id, entity_type, None),
        )
    st.stop()

# --- cache status ---------------------------------------------------------------------------
previous = snapshot.previous_counts
now = datetime.now(UTC)
computed = (
    f"Computed {fmt.ago(snapshot.computed_at, now)} "
    f"({fmt.date_time(snapshot.computed_at, loc)}, in {fmt.duration(snapshot.duration_ms)})"
)
if snapshot.expires_at > now:
    freshness = f"🟢 fresh until {fmt.clock_time(snapshot.expires_at, loc)}"
else:
    freshness = f"🟠 expired at {fmt.clock_time(snapshot.expires_at, loc)}"
served = "served from the cache" if snapshot.cache_hit else "just computed"
since = " · small numbers: change since the previous preview" if previous is not None else ""
whose = f"{fmt.md(snapshot.connector_name)} · {fmt.ENTITY_LABEL[snapshot.entity_type]}"
st.caption(f"{whose} · {computed} · {freshness} · {served}{since}")
if snapshot.refresh_error:
    failed_at = snapshot.refresh_failed_at or now
    st.warning(
        f"⚠️ The last refresh of {fmt.md(snapshot.connector_name)} ({fmt.ago(failed_at, now)}) "
        f"failed: {fmt.md(snapshot.refresh_error)} The preview shown is the last one that "
        "succeeded."
    )
if snapshot.duplicates_collapsed:
    st.caption(
        f"{fmt.number(snapshot.duplicates_collapsed, loc)} duplicate records from the source "
        "were counted once."
    )
if snapshot.not_compared or snapshot.notes:
    with st.expander("ℹ️ What was read", expanded=bool(snapshot.not_compared)):
        if snapshot.not_compared:
            fields = ", ".join(fmt.field_label(f) for f in snapshot.not_compared)
            st.markdown(f"**Not compared:** {fields}")
        for note in snapshot.notes:
            st.markdown(f"- {fmt.md(note)}")
local_side(snapshot)
guard = services.previews.change_warning(user, snapshot)
if guard is not None:
    st.warning(f"🚧 **Check before you sync.** {guard.sentence()}", icon=None)

# --- apply ----------------------------------------------------------------------------------
can_apply = user.can("editor")
if can_apply:
    apply_controls(user, connector, snapshot)
left_out = state.excluded(connector.id, snapshot.entity_type)

# --- records --------------------------------------------------------------------------------
# The chosen kind is kept across reruns (paging, searching, a refresh, another entity, a
# visit to another page): the tabs keep state under labels that do not change.
tabs = st.tabs(
    [fmt.kind_title(k) for k in fmt.KINDS],
    key=state.kind_tabs(fmt.KINDS),
    on_change=state.remember_kind,
    args=(fmt.KINDS,),
)
reader = RecordReader(snapshot.sync_type, snapshot.entity_type, loc)
PAGE_SIZE = 50
for tab, kind in zip(tabs, fmt.KINDS, strict=True):
    if not tab.open:
        continue  # only the chosen kind is read and drawn
    with tab:
        table = f"{snapshot.snapshot_id}/{kind}"
        search_col, *download_cols = st.columns(
            [3, 1, 1] if kind == "updated" else [4, 1], vertical_alignment="bottom"
        )
        search = search_col.text_input(
            "Search",
            key=f"search_{kind}",
            placeholder="e-mail, name, sku or number",
            on_change=state.set_page_offset,
            args=(table, 0),
        )
        page = services.previews.page_records(
            user,
            snapshot.snapshot_id,
            kind,
            search=search.strip(),
            limit=PAGE_SIZE,
            offset=state.page_offset(table),
        )
        what = (
            f"All {fmt.KIND_LABEL[kind].lower()} records of {fmt.md(snapshot.connector_name)} "
            "(matching the search)"
        )
        download_cols[0].download_button(
            "⬇️ CSV",
            data=csv_export(user, snapshot, kind, search.strip()),
            file_name=fmt.csv_name(snapshot.connector_name, snapshot.entity_type, kind),
            mime="text/csv",
            key=f"csv_{kind}",
            help=f"{what}: one row per record"
            + (", each field before and after" if kind == "updated" else ""),
        )
        if kind == "updated":
            download_cols[1].download_button(
                "⬇️ CSV per change",
                data=csv_export(user, snapshot, kind, search.strip(), by_change=True),
                file_name=fmt.csv_name(
                    snapshot.connector_name, snapshot.entity_type, f"{kind}-changes"
                ),
                mime="text/csv",
                key="csv_updated_changes",
                help=f"{what}: one row per changed field",
            )
        if not page.records:
            st.info("Nothing matches the search." if search else f"No {kind} records.")
            continue
        shown = reader.table(kind, page.records)
        ids = [str(r.get("external_id")) for r in page.records]
        if can_apply:  # ticked: part of the apply; unticked: left out (kept across reruns)
            shown.insert(0, "Sync", [i not in left_out for i in ids])
        version = state.ticks_version(connector.id, snapshot.entity_type)
        table_key = f"table_{table}_{page.offset}_{search.strip()}_{version}"
        columns = record_columns(reader)
        if can_apply:
            columns["Sync"] = st.column_config.CheckboxColumn(
                "Sync",
                help="Untick to leave this record out of the apply",
                width="small",
                disabled=kind == "updated",
            )
        if kind == "updated":  # a click on a row shows its changes below
            picked = st.dataframe(
                shown,
                hide_index=True,
                column_config=columns,
                placeholder="",
                key=table_key,
                on_select="rerun",
                selection_mode="single-row",
                selection_default={"selection": {"rows": [0]}},
            )
        elif can_apply:
            st.data_editor(
                shown,
                hide_index=True,
                column_config=columns,
                disabled=[c for c in shown.columns if c != "Sync"],
                placeholder="",
                key=table_key,
                on_change=state.keep_ticks,
                args=(table_key, connector.id, snapshot.entity_type, ids),
            )
        else:
            st.dataframe(
                shown,
                hide_index=True,
                column_config=columns,
                placeholder="",
                key=table_key,
            )
        first, last = page.offset + 1, page.offset + len(page.records)
        info, prev_col, next_col = st.columns([4, 1, 1], vertical_alignment="center")
        info.caption(
            f"Rows {fmt.number(first, loc)}–{fmt.number(last, loc)} of "
            f"{fmt.number(page.total, loc)}"
        )
        prev_col.button(
            "◀ Previous",
            key=f"prev_{kind}",
            disabled=page.offset == 0,
            on_click=state.set_page_offset,
            args=(table, page.offset - PAGE_SIZE),
        )
        next_col.button(
            "Next ▶",
            key=f"next_{kind}",
            disabled=last >= page.total,
            on_click=state.set_page_offset,
            args=(table, page.offset + PAGE_SIZE),
        )
        if kind == "updated":
            rows = picked.selection.rows
            st.subheader("What changed")
            if not rows:
                st.caption("Click a row of the table to see what changes in it.")
                continue
            record = page.records[rows[0]]
            st.caption(f"{fmt.md(reader.title(record))} — click another row to see its changes.")
            if can_apply:
                record_id = str(record.get("external_id"))
                tick_key = f"sync_one_{snapshot.snapshot_id}_{record_id}_{version}"
                st.checkbox(
                    "Sync this record (untick to leave it out of the apply)",
                    value=record_id not in left_out,
                    key=tick_key,
                    on_change=state.set_ticked,
                    args=(connector.id, snapshot.entity_type, record_id, tick_key),
                )
            all_fields = st.toggle("Show unchanged fields too", key="diff_all_fields")
            diff = reader.diff(record, only_changed=not all_fields)
            st.table(highlight(diff.drop(columns="changed"), list(diff["changed"])))
            lines = reader.lines_diff(record)
            if lines is not None:
                st.markdown("**Order lines**")
                st.table(highlight(lines, [bool(c) for c in lines["Change"]]))
