"""Preview: what a sync from one connector of one entity would change, with the field-level
diff."""

from datetime import UTC, datetime

import streamlit as st

from ui import format as fmt
from ui import state
from ui.auth import require_user
from ui.connectors import pick_connector
from ui.demo import load_demo_button
from ui.nav import page_path
from ui.preview import browser_zone, csv_export, open_snapshot, refresh_snapshot
from ui.services import get_services

user = require_user()
services = get_services()
tz = browser_zone()

st.title("🔍 Sync preview")
st.caption("What a sync would change in your database, before anything is synced.")

connectors = services.connectors.list(user)
if not connectors:
    st.info("There is no connection to a WooCommerce store or Odoo yet.")
    if user.can("admin"):
        st.write(
            "Load the demo stores (a WooCommerce store and an Odoo running on this machine) "
            "to try Sync Preview right away, or add a connector to your own system."
        )
        if load_demo_button(user, key="load_demo"):
            st.rerun()  # the preview of the demo stores
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
    help=f"Fetch the records from {connector.name} again and recompute",
)

snapshot = refresh_snapshot(user, connector, entity_type) if refresh else None
if snapshot is None:  # not refreshed, or the refresh was refused: the current preview
    snapshot = open_snapshot(user, connector, entity_type)
if snapshot is None:
    st.stop()

# --- counts ---------------------------------------------------------------------------------
previous = snapshot.previous_counts
for column, kind in zip(st.columns(4), ("new", "updated", "deleted", "unchanged"), strict=True):
    count = snapshot.counts.get(kind, 0)
    column.metric(
        f"{fmt.KIND_ICON[kind]} {fmt.KIND_LABEL[kind]}",
        f"{count:,}",
        delta=None if previous is None else count - previous.get(kind, 0),
        delta_color="off",
        delta_description="since the previous preview" if previous is not None else None,
        border=True,
    )

# --- cache status ---------------------------------------------------------------------------
now = datetime.now(UTC)
computed = (
    f"Computed {fmt.ago(snapshot.computed_at, now)} "
    f"({fmt.date_time(snapshot.computed_at, tz)}, in {fmt.duration(snapshot.duration_ms)})"
)
if snapshot.expires_at > now:
    freshness = f"🟢 fresh until {fmt.clock_time(snapshot.expires_at, tz)}"
else:
    freshness = f"🟠 expired at {fmt.clock_time(snapshot.expires_at, tz)}"
served = "served from the cache" if snapshot.cache_hit else "just computed"
whose = f"{snapshot.connector_name} · {fmt.ENTITY_LABEL[snapshot.entity_type]}"
st.caption(f"{whose} · {computed} · {freshness} · {served}")
if snapshot.refresh_error:
    failed_at = snapshot.refresh_failed_at or now
    st.warning(
        f"⚠️ The last refresh of {snapshot.connector_name} ({fmt.ago(failed_at, now)}) failed: "
        f"{snapshot.refresh_error} The preview shown is the last one that succeeded."
    )
if snapshot.duplicates_collapsed:
    st.caption(
        f"{snapshot.duplicates_collapsed:,} duplicate records from the source were counted once."
    )

# --- records --------------------------------------------------------------------------------
tabs = st.tabs(
    [f"{fmt.KIND_ICON[k]} {fmt.KIND_LABEL[k]} ({snapshot.counts.get(k, 0):,})" for k in fmt.KINDS]
)
PAGE_SIZE = 50
for tab, kind in zip(tabs, fmt.KINDS, strict=True):
    with tab:
        table = f"{snapshot.snapshot_id}/{kind}"
        search_col, download_col = st.columns([4, 1], vertical_alignment="bottom")
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
        download_col.download_button(
            "⬇️ CSV",
            data=csv_export(user, snapshot.snapshot_id, kind, search.strip()),
            file_name=fmt.csv_name(snapshot.connector_name, snapshot.entity_type, kind),
            mime="text/csv",
            key=f"csv_{kind}",
            help=(
                f"All {fmt.KIND_LABEL[kind].lower()} records of {snapshot.connector_name} "
                "(matching the search)"
            ),
        )
        if not page.records:
            st.info("Nothing matches the search." if search else f"No {kind} records.")
            continue
        shown = fmt.records_frame(kind, page.records)
        st.dataframe(
            shown, hide_index=True, column_config=fmt.column_labels(shown), key=f"table_{kind}"
        )
        first, last = page.offset + 1, page.offset + len(page.records)
        info, prev_col, next_col = st.columns([4, 1, 1], vertical_alignment="center")
        info.caption(f"Rows {first:,}–{last:,} of {page.total:,}")
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
            st.subheader("What changed")
            titles = [
                fmt.record_title(snapshot.entity_type, rec.get("after") or {})
                for rec in page.records
            ]
            chosen = st.selectbox("Record", titles, key=f"diff_record_{table}_{page.offset}")
            all_fields = st.toggle("Show unchanged fields too", key="diff_all_fields")
            diff = fmt.diff_frame(page.records[titles.index(chosen)], only_changed=not all_fields)
            st.table(fmt.highlight_changes(diff))
