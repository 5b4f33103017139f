"""The Connectors screen's "Your database" sections: the organization's own database
(connection, test), the mapping editor per source and entity (table or query, columns to
fields, match key, order lines, a live sample, version history) and the file import.

Every action is one call of ``services.local_data``; the only work done while the page runs
is a sample of the first rows (a ``LIMIT`` read)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from core.errors import SyncPreviewError
from core.services.actors import UserContext
from core.services.local_data import (
    COMPARABLE_FIELDS,
    KIND_LABELS,
    KINDS,
    ColumnInfo,
    DatabaseView,
    LinesMapping,
    LocalMapping,
    MappingVersion,
)
from ui import format as fmt
from ui import state
from ui.services import get_services

NOT_COMPARED = "— not compared —"
NATURAL_WORDS = {"customers": "e-mail", "products": "SKU", "orders": "order number"}
SAMPLE_ROWS = 20
KIND_WORDS = {"postgresql": "PostgreSQL", "mysql": "MySQL / MariaDB", "sqlite": "SQLite file"}


def _error(err: SyncPreviewError) -> None:
    st.error(f"❌ {fmt.md(err)}")


# --- the connection -------------------------------------------------------------------------


def _shown(view: DatabaseView | None, loc: fmt.Locality) -> None:
    if view is None:
        st.info(
            "No database of yours is connected: previews compare the stores with our own "
            "tables (the demo data, or a file you import below)."
        )
        return
    secret = f" · password {view.password_masked}" if view.password_set else ""
    st.markdown(f"**{view.kind_label}** · {fmt.md(view.url)}{secret}")
    if view.tested_at is not None:
        when = fmt.date_time(view.tested_at, loc)
        icon = "✅" if view.test_ok else "❌"
        st.caption(f"{icon} Last test ({when}): {fmt.md(view.test_message or '')}")


def database_section(user: UserContext, loc: fmt.Locality) -> None:
    """The connection to the organization's database: shown, tested, changed."""
    services = get_services()
    view = services.local_data.database(user)
    _shown(view, loc)
    if view is not None and st.button("🧪 Test connection", key="localdb_test"):
        with st.spinner("Connecting read-only…"):
            check = services.local_data.test_database(user)
        (st.success if check.ok else st.error)(
            f"{'✅' if check.ok else '❌'} {fmt.md(check.message)}"
        )
    with st.expander("✏️ Connect your database" if view is None else "✏️ Change the connection"):
        kind = st.radio(
            "Kind",
            KINDS,
            index=KINDS.index(view.kind) if view is not None else 0,
            format_func=lambda k: KIND_WORDS[k],
            horizontal=True,
            key="localdb_kind",
        )
        with st.form("localdb_form", clear_on_submit=False):
            fields: dict[str, Any] = {"kind": kind}
            same = view is not None and view.kind == kind
            if kind == "sqlite":
                fields["database"] = st.text_input(
                    "File path",
                    value=view.database if same and view else "",
                    placeholder="/srv/data/shop.sqlite",
                    key="localdb_path",
                )
            else:
                url = st.text_input(
                    "URL (instead of the fields below)",
                    placeholder=f"{kind}://USER@HOST:{5432 if kind == 'postgresql' else 3306}/DB",
                    key="localdb_url",
                )
                host, port = st.columns([3, 1])
                fields["host"] = host.text_input(
                    "Host", value=(view.host or "") if same and view else "", key="localdb_host"
                )
                fields["port"] = port.text_input(
                    "Port",
                    value=str(view.port or "") if same and view else "",
                    key="localdb_port",
                )
                fields["database"] = st.text_input(
                    "Database", value=view.database if same and view else "", key="localdb_db"
                )
                fields["user"] = st.text_input(
                    "User", value=(view.user or "") if same and view else "", key="localdb_user"
                )
                fields["password"] = st.text_input(
                    "Password",
                    type="password",
                    placeholder="unchanged — type to replace" if same and view else "",
                    key="localdb_password",
                )
                fields["url"] = url or None
            st.caption(
                "Sync Preview only reads: every read runs in a read-only transaction with a "
                "time limit. The password is stored encrypted and never shown again."
            )
            test_col, save_col, _ = st.columns([2, 2, 4])
            tested = test_col.form_submit_button("🧪 Test connection", key="localdb_try")
            saved = save_col.form_submit_button("💾 Save", type="primary", key="localdb_save")
        if tested or saved:
            try:
                draft = services.local_data.draft_settings(**fields)
                if tested:
                    with st.spinner("Connecting read-only…"):
                        check = services.local_data.test_database(user, draft)
                    (st.success if check.ok else st.error)(
                        f"{'✅' if check.ok else '❌'} {fmt.md(check.message)}"
                    )
                else:
                    done = services.local_data.set_database(user, draft)
                    state.flash("success", f"💾 Your database is set: {fmt.md(done.url)}.")
                    st.rerun()
            except SyncPreviewError as err:
                _error(err)


# --- the mapping editor ---------------------------------------------------------------------


def _default_column(field: str, names: Sequence[str], current: LocalMapping | None) -> str:
    if current is not None:
        column = current.column_of.get(field)
        if column in names:
            return str(column)
    for name in names:
        if name.lower() == field.lower():
            return name
    return NOT_COMPARED


def _columns(user: UserContext, source: str, text: str) -> list[ColumnInfo]:
    services = get_services()
    if source == "table":
        return services.local_data.columns(user, text)
    return services.local_data.query_columns(user, text)


def _version_table(versions: Sequence[MappingVersion], loc: fmt.Locality) -> None:
    frame = pd.DataFrame(
        [
            {
                "Version": v.version,
                "Saved": fmt.date_time(v.created_at, loc),
                "By": v.created_by or "the operator",
                "What": v.summary,
            }
            for v in versions
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch")


def _lines(
    user: UserContext, entity: str, tables: Sequence[str], names: Sequence[str], key: str
) -> LinesMapping | None:
    """The orders' lines: none, a second table, or a JSON column."""
    if entity != "orders":
        return None
    where = st.radio(
        "Order lines",
        ["none", "table", "json"],
        format_func={
            "none": "not compared",
            "table": "from a second table",
            "json": "from a JSON column",
        }.get,
        horizontal=True,
        key=f"{key}_lines",
    )
    if where == "none":
        return None
    if where == "json":
        column = st.selectbox("Column with the lines (JSON)", names, key=f"{key}_lines_json")
        cols = st.columns(3)
        keys = [
            c.text_input(f"Key of the {f}", value=f, key=f"{key}_lj_{f}")
            for c, f in zip(cols, ("sku", "quantity", "total"), strict=True)
        ]
        return LinesMapping(json_column=column, sku=keys[0], quantity=keys[1], total=keys[2])
    table = st.selectbox("Lines table", tables, key=f"{key}_lines_table")
    if not table:
        return None
    line_names = [c.name for c in get_services().local_data.columns(user, table)]
    line_cols = st.columns(4)
    chosen = [
        c.selectbox(label, line_names, key=f"{key}_lt_{name}")
        for c, (name, label) in zip(
            line_cols,
            (
                ("order_key", "Order key"),
                ("sku", "SKU"),
                ("quantity", "Quantity"),
                ("total", "Total"),
            ),
            strict=True,
        )
    ]
    return LinesMapping(
        table=table, order_key=chosen[0], sku=chosen[1], quantity=chosen[2], total=chosen[3]
    )


def mapping_section(user: UserContext, loc: fmt.Locality) -> None:
    """Map one source's entity to a table, view or query of the organization's database."""
    services = get_services()
    left, right = st.columns(2)
    sync_type = left.radio(
        "Source", fmt.source_keys(), format_func=fmt.source_title, horizontal=True, key="map_src"
    )
    entity = right.radio(
        "Records",
        list(fmt.ENTITY_LABEL),
        format_func=fmt.ENTITY_LABEL.get,
        horizontal=True,
        key="map_entity",
    )
    current_version = services.local_data.mapping(user, sync_type, entity)
    if current_version is not None:
        st.caption(
            f"In force: version {current_version.version}, saved by "
            f"{fmt.md(current_version.created_by or 'the operator')} "
            f"{fmt.date_time(current_version.created_at, loc)} — {fmt.md(current_version.summary)}"
        )
        if st.button(
            "↩️ Stop using it (compare with our own tables)", key=f"map_stop_{sync_type}_{entity}"
        ):
            try:
                services.local_data.remove_mapping(user, sync_type, entity)
            except SyncPreviewError as err:
                _error(err)
            else:
                state.flash("success", "↩️ The previews compare with our own tables again.")
                st.rerun()
    else:
        st.caption("No mapping yet: this preview compares with our own tables.")
    current = current_version.mapping if current_version is not None else None
    if services.local_data.database(user) is None:
        st.caption("Connect your database above to map its tables.")
        return
    if current is not None:
        write_back_section(user, loc, sync_type, entity, current)
    try:
        tables = [t.name for t in services.local_data.tables(user)]
    except SyncPreviewError as err:
        _error(err)
        return
    key = f"map_{sync_type}_{entity}"
    source = st.radio(
        "Read from",
        ["table", "query"],
        index=1 if current is not None and current.query else 0,
        format_func={"table": "a table or view", "query": "one query (read-only)"}.get,
        horizontal=True,
        key=f"{key}_from",
    )
    if source == "table":
        start = tables.index(current.table) if current and current.table in tables else None
        text = st.selectbox(
            "Table or view", tables, index=start, placeholder="Choose one", key=f"{key}_table"
        )
    else:
        text = st.text_area(
            "Query", value=(current.query or "") if current else "", key=f"{key}_query"
        )
    if not text:
        return
    try:
        columns = _columns(user, source, text)
    except SyncPreviewError as err:
        _error(err)
        return
    names = [c.name for c in columns]
    st.caption("Columns: " + ", ".join(f"{c.name} ({c.type or '?'})" for c in columns))
    words = NATURAL_WORDS[entity]
    match_kind = st.radio(
        "Match records",
        ["id", "natural"],
        index=1 if current is not None and current.match.kind == "natural" else 0,
        format_func={
            "id": "by the store's id, kept in a column",
            "natural": f"by {words} (systems never linked)",
        }.get,
        horizontal=True,
        key=f"{key}_match",
    )
    match = "natural"
    if match_kind == "id":
        guess = current.match.column if current and current.match.column in names else None
        id_column = st.selectbox(
            "Column with the store's id",
            names,
            index=names.index(guess) if guess else None,
            placeholder="Choose the column",
            key=f"{key}_idcol",
        )
        if not id_column:
            return
        match = f"id:{id_column}"
    st.markdown("**Columns → fields** (a field left “not compared” never shows as a change)")
    chosen: dict[str, str] = {}
    fields = [f for f in COMPARABLE_FIELDS[entity] if f != "lines"]
    grid = st.columns(3)
    for i, field in enumerate(fields):
        options = [NOT_COMPARED, *names]
        value = grid[i % 3].selectbox(
            fmt.field_label(field),
            options,
            index=options.index(_default_column(field, names, current)),
            key=f"{key}_f_{field}",
        )
        if value != NOT_COMPARED:
            chosen[field] = value
    lines = _lines(user, entity, tables, names, key)
    try:
        draft = LocalMapping.create(
            sync_type,
            entity,
            match=match,
            columns=chosen,
            table=text if source == "table" else None,
            query=text if source == "query" else None,
            lines=lines,
        )
    except SyncPreviewError as err:
        _error(err)
        return
    st.caption(fmt.md(draft.describe()))
    sample_col, save_col, _ = st.columns([2, 2, 4])
    kept = f"{key}_sample_kept"
    if sample_col.button("👀 Show a sample", key=f"{key}_sample"):
        try:
            st.session_state[kept] = (
                draft.to_json(),
                services.local_data.sample(user, draft, SAMPLE_ROWS),
            )
        except SyncPreviewError as err:
            st.session_state.pop(kept, None)
            _error(err)
    shown = st.session_state.get(kept)
    if shown is not None and shown[0] == draft.to_json():  # the sample of this very draft
        sample = shown[1]
        st.markdown(
            f"**The first {len(sample.records)} rows, as the preview compares them** "
            "(`external_id`: the key matched on)"
        )
        st.dataframe(pd.DataFrame(sample.records), hide_index=True)
        if sample.without_key:
            st.warning(
                f"{len(sample.without_key)} of these rows have no key and cannot be matched."
            )
    if save_col.button("💾 Save mapping", key=f"{key}_save", type="primary"):
        try:
            saved = services.local_data.save_mapping(user, draft)
        except SyncPreviewError as err:
            _error(err)
        else:
            state.flash(
                "success",
                f"💾 Mapping saved (version {saved.version}); the previews of "
                f"{fmt.source_label(sync_type)} {entity} are computed again when next opened.",
            )
            st.rerun()
    versions = services.local_data.history(user, sync_type, entity)
    if versions:
        with st.expander(f"🕘 Versions ({len(versions)})"):
            _version_table(versions, loc)


# --- write-back -----------------------------------------------------------------------------

DELETE_WORDS = {"delete": "Delete the rows", "deactivate": "Mark them inactive (a column)"}


def write_back_section(
    user: UserContext, loc: fmt.Locality, sync_type: str, entity: str, mapping: LocalMapping
) -> None:
    """Whether applies write to the organization's database through the mapping in force
    (admins switch it; others read it): the write user, what a deletion does, a check."""
    services = get_services()
    key = f"wb_{sync_type}_{entity}"
    try:
        view = services.local_data.write_back(user, sync_type, entity)
    except SyncPreviewError as err:
        _error(err)
        return
    with st.container(border=True, key=key):
        st.markdown("**✍️ Write-back** — applies of this preview write to your database")
        st.caption(fmt.md(view.describe()))
        if view.check_message:
            icon = "✅" if view.check_ok else "⚠️"
            when = fmt.date_time(view.checked_at, loc) if view.checked_at else ""
            st.caption(f"{icon} Last check ({when}): {fmt.md(view.check_message)}")
        if user.role != "admin":
            st.caption("Only an admin can switch write-back on or off.")
            return
        on = st.toggle(
            "Write applies to your database",
            value=view.enabled,
            key=f"{key}_on",
            help="Off (the default): applies of a preview that compares with your database "
            "are refused and your database is never written.",
        )
        write_user, password = "", ""
        database = services.local_data.database(user)
        if database is not None and database.kind != "sqlite":  # a file has no users
            left, right = st.columns(2)
            write_user = left.text_input(
                "Write user (optional)",
                value=view.write_user or "",
                key=f"{key}_user",
                help="Leave empty to write with the connection's own user.",
            )
            password = right.text_input(
                "Write user's password",
                type="password",
                value="",
                placeholder="•••••• (kept when left empty)" if view.write_password_set else "",
                key=f"{key}_pw",
            )
        deletes = st.radio(
            "Deleted records",
            list(DELETE_WORDS),
            index=1 if view.active_column else 0,
            format_func=DELETE_WORDS.get,
            horizontal=True,
            key=f"{key}_deletes",
        )
        active: str | None = None
        if deletes == "deactivate" and mapping.table is not None:
            try:
                names = [c.name for c in services.local_data.columns(user, mapping.table)]
            except SyncPreviewError as err:
                _error(err)
                return
            active = st.selectbox(
                "Column that says a row is active (set to false when deleted)",
                names,
                index=names.index(view.active_column) if view.active_column in names else None,
                placeholder="Choose the column",
                key=f"{key}_active",
            )
        save, check, _ = st.columns([2, 2, 4])
        if save.button("💾 Save write-back", key=f"{key}_save", type="primary"):
            if deletes == "deactivate" and not active:
                st.warning("Choose the column that marks a row inactive.")
                return
            try:
                services.local_data.set_write_back(
                    user,
                    sync_type,
                    entity,
                    enabled=on,
                    write_user=write_user or None,
                    write_password=password or None,
                    active_column=active,
                )
            except SyncPreviewError as err:
                _error(err)
            else:
                state.flash(
                    "success",
                    "✍️ Write-back is on: applies write to your database."
                    if on
                    else "✍️ Write-back is off: applies never write to your database.",
                )
                st.rerun()
        if check.button("🔎 Check", key=f"{key}_check"):
            try:
                services.local_data.check_write_back(user, sync_type, entity)
            except SyncPreviewError as err:
                _error(err)
            else:
                st.rerun()


# --- the file import ------------------------------------------------------------------------


def import_section(user: UserContext) -> None:
    """Upload a CSV or Excel file into our own tables, with a validation report."""
    services = get_services()
    left, right = st.columns(2)
    entity = left.radio(
        "Records",
        list(fmt.ENTITY_LABEL),
        format_func=fmt.ENTITY_LABEL.get,
        horizontal=True,
        key="imp_entity",
    )
    target = right.radio(
        "For",
        ["all", *fmt.source_keys()],
        format_func=lambda k: "every source" if k == "all" else fmt.source_title(k),
        horizontal=True,
        key="imp_target",
    )
    upload = st.file_uploader("CSV or Excel (.xlsx) file", type=["csv", "xlsx"], key="imp_file")
    if upload is None:
        return
    data = upload.getvalue()
    try:
        header = services.local_data.file_columns(user, data, upload.name)
    except SyncPreviewError as err:
        _error(err)
        return
    chosen: dict[str, str] = {}
    grid = st.columns(3)
    fields = ["external_id", *COMPARABLE_FIELDS[entity]]
    for i, field in enumerate(fields):
        options = [NOT_COMPARED, *header]
        guess = next((h for h in header if h.lower() == field.lower()), NOT_COMPARED)
        label = "Store id (external_id)" if field == "external_id" else fmt.field_label(field)
        value = grid[i % 3].selectbox(
            label, options, index=options.index(guess), key=f"imp_{entity}_{field}"
        )
        if value != NOT_COMPARED:
            chosen[field] = value
    valid_only = st.checkbox(
        "Import the valid rows even if some rows cannot be read", key="imp_valid_only"
    )
    if st.button("📥 Import", key="imp_go", type="primary"):
        try:
            outcome = services.local_data.import_file(
                user,
                entity,
                data,
                file_name=upload.name,
                columns=chosen,
                valid_only=valid_only,
                sync_type=None if target == "all" else target,
            )
        except SyncPreviewError as err:
            _error(err)
            return
        report = outcome.report
        (st.warning if outcome.refused or report.invalid_rows else st.success)(
            fmt.md(outcome.summary())
        )
        if report.problems:
            st.dataframe(
                pd.DataFrame([p.to_dict() for p in report.problems]),
                hide_index=True,
            )


__all__ = ["KIND_LABELS", "database_section", "import_section", "mapping_section"]
