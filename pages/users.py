"""Users (admins): who can use the organization's dashboard, with which role."""

import streamlit as st

from core.errors import SyncPreviewError
from ui import format as fmt
from ui import state
from ui.auth import ROLE_BADGE, require_user
from ui.services import get_services

user = require_user("admin")
services = get_services()
ROLES = ("viewer", "editor", "admin")
ROLE_HELP = (
    "viewer: sees previews and activity · editor: also refreshes previews and saves selective "
    "sync · admin: also manages connectors and users"
)

st.title("👥 Users")
st.caption(ROLE_HELP)


def act(message: str, action, *args) -> None:  # noqa: ANN001
    """Run an admin action; flash its result and rerun, or show the refusal."""
    try:
        action(user, *args)
    except SyncPreviewError as err:
        st.error(fmt.md(err))
    else:
        state.flash("success", message)
        st.rerun()


users = services.accounts.list_users(user)
st.dataframe(
    [
        {
            "username": u.username,
            "name": u.name,
            "e-mail": u.email,
            "role": ROLE_BADGE.get(u.role, u.role),
            "active": "✅ yes" if u.active else "⛔ no",
        }
        for u in users
    ],
    hide_index=True,
    key="users_table",
)

add_col, manage_col = st.columns(2, gap="large")
with add_col:
    st.subheader("➕ Add a user")
    with st.form("add_user", clear_on_submit=True):
        username = st.text_input("Username")
        name = st.text_input("Full name")
        email = st.text_input("E-mail")
        password = st.text_input("Password (at least 8 characters)", type="password")
        role = st.selectbox("Role", ROLES, key="add_user_role")
        if st.form_submit_button("➕ Add user", key="add_user_submit", type="primary"):
            act(
                f"➕ {fmt.md(username.strip().lower())} was added as {role}.",
                services.accounts.add_user,
                username.strip(),
                name.strip(),
                email.strip(),
                password,
                role,
            )

with manage_col:
    st.subheader("🛠️ Manage a user")
    names = [u.username for u in users]
    target = st.selectbox("User", names, key="manage_user")
    chosen = next(u for u in users if u.username == target)
    with st.form("reset_password", clear_on_submit=True):
        new_password = st.text_input("New password", type="password")
        if st.form_submit_button("🔑 Reset password", key="reset_password_submit"):
            act(
                f"🔑 The password of {fmt.md(target)} was reset.",
                services.accounts.reset_password,
                target,
                new_password,
            )
    role_col, apply_col = st.columns([2, 1], vertical_alignment="bottom")
    new_role = role_col.selectbox(
        "Role", ROLES, index=ROLES.index(chosen.role), key=f"role_of_{target}"
    )
    if apply_col.button("Change role", key="change_role", disabled=new_role == chosen.role):
        act(f"{fmt.md(target)} is now {new_role}.", services.accounts.set_role, target, new_role)
    if chosen.active:
        if st.button("⛔ Deactivate", key="deactivate_user", disabled=target == user.username):
            act(
                f"⛔ {fmt.md(target)} was deactivated and can no longer sign in.",
                services.accounts.set_active,
                target,
                False,
            )
    elif st.button("✅ Reactivate", key="activate_user"):
        act(f"✅ {fmt.md(target)} can sign in again.", services.accounts.set_active, target, True)
