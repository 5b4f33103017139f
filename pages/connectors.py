"""Connectors (admins): the organization's WooCommerce stores and Odoo databases."""

import streamlit as st

from core.errors import SyncPreviewError
from core.services.connectors import CREDENTIAL_FIELDS
from ui import format as fmt
from ui import state
from ui.auth import require_user
from ui.demo import load_demo_button
from ui.preview import browser_zone
from ui.services import get_services

user = require_user("admin")
services = get_services()
tz = browser_zone()

CREDENTIAL_LABEL = {
    "consumer_key": "Consumer key",
    "consumer_secret": "Consumer secret",
    "database": "Database",
    "username": "Username",
    "password": "Password",
    "api_key": "API key",
}
PROTOCOLS = {"xmlrpc": "XML-RPC (Odoo 8 and later)", "json2": "JSON-2 API (Odoo 19 and later)"}
CONFIRM_DELETE = "sp_confirm_delete"

st.title("🔌 Connectors")
st.caption(
    "Where previews read from. Keys and passwords are stored encrypted and never shown "
    "again; leave a secret empty when editing to keep the stored one."
)

connectors = services.connectors.list(user)
if not connectors:
    st.info("No connectors yet. Add one below, or load the demo stores to try things out.")
for connector in connectors:
    with st.container(border=True):
        head, test_col, delete_col = st.columns([6, 2, 2], vertical_alignment="center")
        head.markdown(
            f"**{fmt.SOURCE_ICON[connector.sync_type]} {connector.name}** · "
            f"{fmt.SOURCE_LABEL[connector.sync_type]}"
        )
        where = (
            "demo sandbox on this machine (started automatically)"
            if connector.options.get("sandbox")
            else connector.base_url
        )
        masked = " · ".join(
            f"{CREDENTIAL_LABEL.get(k, k)}: `{v}`" for k, v in connector.masked_credentials.items()
        )
        head.caption(f"{where} · {masked} · changed {fmt.date_time(connector.updated_at, tz)}")
        if test_col.button("🧪 Test connection", key=f"test_{connector.id}"):
            with st.spinner(f"Talking to {connector.name}…"):
                try:
                    said = services.connectors.test(user, connector.id)
                except SyncPreviewError as err:
                    st.error(f"❌ {err}")
                else:
                    st.success(f"✅ {said}")
        if delete_col.button("🗑️ Delete", key=f"delete_{connector.id}"):
            st.session_state[CONFIRM_DELETE] = connector.id
        if st.session_state.get(CONFIRM_DELETE) == connector.id:
            st.warning(
                f"Delete **{connector.name}**? Its previews will no longer be refreshed. "
                "This cannot be undone."
            )
            yes, no, _ = st.columns([2, 2, 6])
            if yes.button("Yes, delete", key=f"confirm_delete_{connector.id}", type="primary"):
                try:
                    services.connectors.delete(user, connector.id)
                except SyncPreviewError as err:
                    st.error(str(err))
                else:
                    st.session_state.pop(CONFIRM_DELETE, None)
                    state.flash("success", f"🗑️ {connector.name} was deleted.")
                    st.rerun()
            if no.button("Cancel", key=f"cancel_delete_{connector.id}"):
                st.session_state.pop(CONFIRM_DELETE, None)
                st.rerun()
        with st.expander("✏️ Edit"), st.form(f"edit_{connector.id}", clear_on_submit=True):
            name = st.text_input("Name", value=connector.name)
            base_url = st.text_input("Address (URL)", value=connector.base_url)
            secrets = {
                field: st.text_input(
                    CREDENTIAL_LABEL[field],
                    type="password",
                    placeholder="unchanged — type to replace",
                    key=f"edit_{connector.id}_{field}",
                )
                for field in CREDENTIAL_FIELDS[connector.sync_type]
            }
            protocol = None
            if connector.sync_type == "odoo":
                current = str(connector.options.get("protocol", "xmlrpc"))
                protocol = st.selectbox(
                    "Protocol",
                    list(PROTOCOLS),
                    index=list(PROTOCOLS).index(current) if current in PROTOCOLS else 0,
                    format_func=PROTOCOLS.__getitem__,
                )
            if st.form_submit_button("💾 Save changes", key=f"save_{connector.id}"):
                options = None
                if protocol is not None:
                    options = {**connector.options, "protocol": protocol}
                try:
                    services.connectors.update(
                        user,
                        connector.id,
                        name=name,
                        base_url=base_url,
                        credentials=secrets,
                        options=options,
                    )
                except SyncPreviewError as err:
                    st.error(str(err))
                else:
                    state.flash("success", f"💾 {name} was saved.")
                    st.rerun()

st.subheader("➕ Add a connector")
sync_type = st.radio(
    "Type",
    list(CREDENTIAL_FIELDS),
    format_func=lambda s: f"{fmt.SOURCE_ICON[s]} {fmt.SOURCE_LABEL[s]}",
    horizontal=True,
    key="new_connector_type",
)
with st.form("add_connector", clear_on_submit=True):
    name = st.text_input("Name", placeholder="My web shop")
    base_url = st.text_input(
        "Address (URL)",
        placeholder="https://shop.example.com"
        if sync_type == "woocommerce"
        else "https://erp.example.com",
    )
    secrets = {
        field: st.text_input(CREDENTIAL_LABEL[field], type="password", key=f"new_{field}")
        for field in CREDENTIAL_FIELDS[sync_type]
    }
    protocol = None
    if sync_type == "odoo":
        protocol = st.selectbox("Protocol", list(PROTOCOLS), format_func=PROTOCOLS.__getitem__)
    if st.form_submit_button("➕ Add connector", key="add_connector_submit", type="primary"):
        try:
            added = services.connectors.add(
                user,
                sync_type,
                name,
                base_url,
                secrets,
                {"protocol": protocol} if protocol else None,
            )
        except SyncPreviewError as err:
            st.error(str(err))
        else:
            state.flash("success", f"➕ {added.name} was added. Use “Test connection” to check it.")
            st.rerun()

st.subheader("🎁 Demo stores")
st.caption(
    "Adds a demo WooCommerce store and a demo Odoo (running on this machine) and local "
    "records that differ from them, so that previews have something to show."
)
if load_demo_button(user, key="load_demo_connectors"):
    st.rerun()  # list the demo connectors
