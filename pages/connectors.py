"""Connectors (admins): the organization's WooCommerce stores, Odoo databases and other
sources; what each source's form asks for comes from its spec (the source registry)."""

from collections.abc import Callable
from functools import partial
from typing import Any

import streamlit as st

from core.errors import SyncPreviewError
from core.services import catalog
from core.services.catalog import CredentialField, SourceOption
from ui import format as fmt
from ui import state
from ui.auth import require_user
from ui.browser import locality
from ui.demo import load_demo_button
from ui.local_data import database_section, import_section, mapping_section
from ui.services import get_services

user = require_user("admin")
services = get_services()
loc = locality()

CONFIRM_DELETE = "sp_confirm_delete"


def change(action: Callable[[], Any], done: Callable[[Any], str]) -> None:
    """Make a change; on success flash ``done(its result)`` and show the page again."""
    try:
        result = action()
    except SyncPreviewError as err:
        st.error(fmt.md(err))
    else:
        state.flash("success", done(result))
        st.rerun()


def delete(connector_id: int, name: str) -> str:
    services.connectors.delete(user, connector_id)
    st.session_state.pop(CONFIRM_DELETE, None)
    return name


def credential_input(field: CredentialField, current: str | None, key: str) -> str:
    """A credential's field: a secret one is empty ("type to replace"), never echoed; another
    one (an Odoo database or user name) shows its value."""
    if field.secret:
        placeholder = "unchanged — type to replace" if current is not None else ""
        return st.text_input(field.label, type="password", placeholder=placeholder, key=key)
    return st.text_input(field.label, value=current or "", key=key)


def option_input(option: SourceOption, current: Any = None, key: str = "") -> Any:
    """One of a source's options as its kind asks (a drop-down, a checkbox or a text line),
    on ``current`` when set; ``key`` tells the widgets of several forms apart."""
    help_text = option.help or None
    widget_key = f"{key}_{option.name}" if key else None
    if option.kind == "flag":
        on = bool(current) if current is not None else bool(option.default)
        return st.checkbox(option.label, value=on, help=help_text, key=widget_key)
    if option.kind == "text":
        return st.text_input(
            option.label,
            value=str(current if current is not None else option.default),
            placeholder=option.placeholder,
            help=help_text,
            key=widget_key,
        )
    choices = list(option.choices)
    value = current if current in option.choices else option.default
    return str(
        st.selectbox(
            option.label,
            choices,
            index=choices.index(str(value)),
            format_func=lambda choice: str(option.choices[choice]),
            help=help_text,
            key=widget_key,
        )
    )


st.title("🔌 Connectors")
st.caption(
    "Where previews read from. Keys and passwords are stored encrypted and never shown "
    "again; leave a secret empty when editing to keep the stored one."
)

connectors = services.connectors.list(user)
if not connectors:
    st.info("No connectors yet. Add one below, or load the demo stores to try things out.")
for connector in connectors:
    spec = catalog.find(connector.sync_type)
    credential_fields = spec.credentials if spec is not None else ()
    with st.container(border=True):
        head, default_col, test_col, delete_col = st.columns(
            [6, 2, 2, 2], vertical_alignment="center"
        )
        icon = f"{spec.icon} " if spec is not None else ""
        source = fmt.source_label(connector.sync_type)
        head.markdown(f"{icon}**{fmt.md(connector.name)}** · {source}")
        if connector.is_default:
            default_col.caption(
                f"⭐ Default for {source}",
                help="Used when the command line or the API names no connector",
            )
        elif default_col.button(
            "⭐ Make default",
            key=f"default_{connector.id}",
            help=f"Use it when the command line or the API names no {source} connector",
        ):
            change(
                partial(services.connectors.make_default, user, connector.id),
                lambda made: (
                    f"⭐ {fmt.md(made.name)} is now the default {fmt.source_label(made.sync_type)} "
                    "connector."
                ),
            )
        where = (
            "demo sandbox on this machine (started automatically)"
            if connector.options.get("sandbox")
            else fmt.md(connector.base_url)
        )
        labels = {f.name: f.label for f in credential_fields}
        shown = " · ".join(
            f"{labels.get(k, k)}: {fmt.md(v)}" for k, v in connector.shown_credentials.items()
        )
        head.caption(f"{where} · {shown} · changed {fmt.date_time(connector.updated_at, loc)}")
        if test_col.button("🧪 Test connection", key=f"test_{connector.id}"):
            with st.spinner(f"Talking to {fmt.md(connector.name)}…"):
                try:
                    said = services.connectors.test(user, connector.id)
                except SyncPreviewError as err:
                    st.error(f"❌ {fmt.md(err)}")
                else:
                    st.success(f"✅ {fmt.md(said)}")
        if delete_col.button("🗑️ Delete", key=f"delete_{connector.id}"):
            st.session_state[CONFIRM_DELETE] = connector.id
        if st.session_state.get(CONFIRM_DELETE) == connector.id:
            st.warning(
                f"Delete **{fmt.md(connector.name)}**? Its previews and selective-sync "
                "settings are deleted with it. This cannot be undone."
            )
            yes, no, _ = st.columns([2, 2, 6])
            if yes.button("Yes, delete", key=f"confirm_delete_{connector.id}", type="primary"):
                change(
                    partial(delete, connector.id, connector.name),
                    lambda gone: f"🗑️ {fmt.md(gone)} was deleted.",
                )
            if no.button("Cancel", key=f"cancel_delete_{connector.id}"):
                st.session_state.pop(CONFIRM_DELETE, None)
                st.rerun()
        with st.expander("✏️ Edit"), st.form(f"edit_{connector.id}", clear_on_submit=True):
            name = st.text_input("Name", value=connector.name)
            base_url = st.text_input("Address (URL)", value=connector.base_url)
            secrets = {
                field.name: credential_input(
                    field,
                    connector.shown_credentials.get(field.name, ""),
                    key=f"edit_{connector.id}_{field.name}",
                )
                for field in credential_fields
            }
            chosen = {
                option.name: option_input(
                    option, connector.options.get(option.name), key=f"edit_{connector.id}"
                )
                for option in (spec.options if spec is not None else ())
            }
            if st.form_submit_button("💾 Save changes", key=f"save_{connector.id}"):
                options = {**connector.options, **chosen} if chosen else None
                change(
                    partial(
                        services.connectors.update,
                        user,
                        connector.id,
                        name=name,
                        base_url=base_url,
                        credentials=secrets,
                        options=options,
                    ),
                    lambda saved: f"💾 {fmt.md(saved.name)} was saved.",
                )

st.subheader("➕ Add a connector")
sync_type = st.radio(
    "Type",
    fmt.source_keys(),
    format_func=fmt.source_title,
    horizontal=True,
    key="new_connector_type",
)
new_spec = catalog.get(sync_type)
with st.form("add_connector", clear_on_submit=True):
    name = st.text_input("Name", placeholder="My web shop")
    base_url = st.text_input("Address (URL)", placeholder=new_spec.url_example)
    secrets = {
        field.name: credential_input(field, None, key=f"new_{field.name}")
        for field in new_spec.credentials
    }
    chosen = {option.name: option_input(option, key="new") for option in new_spec.options}
    if st.form_submit_button("➕ Add connector", key="add_connector_submit", type="primary"):
        change(
            partial(
                services.connectors.add, user, sync_type, name, base_url, secrets, chosen or None
            ),
            lambda added: f"➕ {fmt.md(added.name)} was added. Use “Test connection” to check it.",
        )

st.subheader("🗄️ Your database")
st.caption(
    "Your own customers, products and orders: the local side of every preview. Connect your "
    "database (read-only) and map its tables, or import a file below."
)
database_section(user, loc)
st.markdown("#### 🧭 Where your records are")
mapping_section(user, loc)
st.markdown("#### 📥 Import a file")
st.caption(
    "No database access? Upload a CSV or Excel file: it replaces our own records of that kind. "
    "Rows that cannot be read are listed; nothing is imported while any is, unless you choose."
)
import_section(user)

st.subheader("🎁 Demo stores")
st.caption(
    "Adds a demo WooCommerce store and a demo Odoo (running on this machine) and local "
    "records that differ from them, so that previews have something to show."
)
load_demo_button(user, key="load_demo_connectors")  # a worker loads it; the page follows
