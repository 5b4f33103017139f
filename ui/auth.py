"""The auth gate: first-run setup, login, logout, and the guard every page starts with.

`entry_gate()` runs in `app.py` on every run; `require_user()` is the first call of every
page script. A page normally runs after the gate, so the guard only re-checks the session;
when a page script runs on its own (a deep link that reaches a fresh server before any
`st.navigation` call), the guard renders the gate itself and stops the page.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from core.errors import NotFoundError, SyncPreviewError
from core.services.actors import ROLE_LABEL, Role, UserContext
from ui import state
from ui.format import md
from ui.services import get_services

COOKIE_NAME = "sync_preview_auth"
MAX_LOGIN_ATTEMPTS = 5
ROLE_BADGE = {"viewer": "👀 viewer", "editor": "✏️ editor", "admin": "🛡️ admin"}


def entry_gate() -> UserContext | None:
    """Render setup or login when nobody is signed in; return the signed-in user otherwise."""
    services = get_services()
    if services.accounts.needs_setup():
        render_setup_form()
        return None
    authenticator, credentials = _build_authenticator()
    if not state.authenticated_username() and st.session_state.get("logout"):
        # Signed out in this session: keep asking the browser to drop the cookie. The
        # logout run's own request can be lost when another rerun overtakes it, and a
        # cookie left behind would sign the user in again on the next visit.
        authenticator.cookie_controller.delete_cookie()
    sidebar_top = st.sidebar.container() if state.authenticated_username() else None
    if state.authenticated_username():
        # Logout is handled before the login below, so that a logout run shows the login
        # form; the cookie component then reruns the script by itself (no st.rerun here).
        authenticator.logout(
            "🚪 Log out", location="sidebar", key="logout_btn", callback=_on_logout
        )
    if not state.authenticated_username():
        _render_login(authenticator, credentials)
    username = state.authenticated_username()
    if username is None:
        return None
    ctx = _context(username)
    if ctx is None:
        return None
    if state.login_recorded_for() != ctx.username:
        services.accounts.record_login(ctx)
        state.set_login_recorded(ctx.username)
    with sidebar_top if sidebar_top is not None else st.sidebar.container():
        st.markdown(f"**🏢 {md(ctx.org_name)}**")
        st.caption(f"Signed in as **{md(ctx.name)}** ({md(ctx.username)}) · {ROLE_BADGE[ctx.role]}")
    return ctx


def signed_in_user() -> UserContext | None:
    """The session's user without rendering anything (None when nobody is signed in)."""
    username = state.authenticated_username()
    if username is None:
        return None
    try:
        return get_services().accounts.user_context(username)
    except NotFoundError:
        return None


def require_user(role: Role = "viewer") -> UserContext:
    """The first call of every page: the signed-in user with at least ``role``, or stop."""
    username = state.authenticated_username()
    if username is None:
        # This page runs without the app's gate (a deep link on a fresh server).
        if entry_gate() is None:
            st.stop()
        username = state.authenticated_username()
    ctx = _context(username) if username else None
    if ctx is None:
        st.stop()
    assert ctx is not None
    if not ctx.can(role):
        st.warning(f"This screen is for users who are {ROLE_LABEL[role]} or above.")
        st.stop()
    flash = state.pop_flash()
    if flash:  # the result of what the user did on the previous run
        getattr(st, flash[0])(flash[1])
    return ctx


# --- internals ------------------------------------------------------------------------------


def _build_authenticator() -> tuple[stauth.Authenticate, dict[str, Any]]:
    """The authenticator over a fresh copy of the active users (once per script run).

    Each user's failed attempts come from the database, so `max_login_attempts` locks an
    account across sessions and browsers; the library counts in the copy (it mutates it).
    """
    services = get_services()
    credentials: dict[str, Any] = copy.deepcopy(services.accounts.login_credentials())
    settings = services.settings
    authenticator = stauth.Authenticate(
        credentials,
        cookie_name=COOKIE_NAME,
        cookie_key=str(settings.cookie_key),
        cookie_expiry_days=float(settings.cookie_expiry_days),
        auto_hash=False,
        login_sleep_time=float(settings.login_sleep_seconds),
    )
    return authenticator, credentials


def _render_login(authenticator: stauth.Authenticate, credentials: dict[str, Any]) -> None:
    if authenticator.cookie_controller.get_cookie():
        # A valid "stay signed in" cookie: sign in from it without drawing the form, then
        # start the run again, so that the navigation (declared before the gate) is built
        # for the signed-in user. No cookie has to be written here, so the rerun is safe.
        with contextlib.suppress(LoginError):  # e.g. a deactivated user's cookie: form below
            authenticator.login(location="unrendered", key="login")
        username = state.authenticated_username()
        if username:
            # a visit signed in by the cookie is not a sign-in: the log keeps password ones
            state.set_login_recorded(username)
            st.rerun()
    # After a form login this run ends with the form still mounted: the cookie component
    # rendered inside must stay to write the cookie (it then reruns the script by itself).
    with st.container(key="login_box"):
        _login_form(authenticator, credentials)


def _login_form(authenticator: stauth.Authenticate, credentials: dict[str, Any]) -> None:
    before = _attempts(credentials)
    st.title("🔄 Sync Preview")
    st.caption("See what a sync would change before it runs.")
    try:
        authenticator.login(
            location="main",
            key="login",
            max_login_attempts=MAX_LOGIN_ATTEMPTS,
            fields={"Form name": "Sign in", "Username": "Username", "Password": "Password"},
        )
    except LoginError as err:
        if "attempts" in str(err):
            st.error(
                f"Too many failed sign-in attempts ({MAX_LOGIN_ATTEMPTS}). "
                "Ask your administrator to reset your password."
            )
        else:
            st.error("This account cannot sign in. Ask your administrator.")
    finally:
        _persist_failed_attempts(credentials, before)
    if st.session_state.get("authentication_status") is False:
        st.error("Username or password is incorrect.")


def _attempts(credentials: dict[str, Any]) -> dict[str, int]:
    return {
        name: int(user.get("failed_login_attempts") or 0)
        for name, user in credentials["usernames"].items()
    }


def _persist_failed_attempts(credentials: dict[str, Any], before: dict[str, int]) -> None:
    """Record in the database each wrong password the library counted during this run."""
    accounts = get_services().accounts
    for name, count in _attempts(credentials).items():
        for _ in range(count - before.get(name, 0)):
            accounts.record_failed_login(name)


def _context(username: str) -> UserContext | None:
    """The user's context, or None (with a message) when the account is gone."""
    try:
        return get_services().accounts.user_context(username)
    except NotFoundError as err:
        state.sign_out_locally()
        st.error(md(err))
        return None


def _on_logout(info: dict[str, Any]) -> None:
    username = info.get("username")
    if username:
        try:
            ctx = get_services().accounts.user_context(str(username))
            get_services().accounts.record_logout(ctx)
        except SyncPreviewError:
            pass
    state.set_login_recorded(None)
    st.session_state.pop(state.VIEWED, None)


def render_setup_form() -> None:
    """First run: create the organization and its admin, then sign the admin in."""
    st.title("🔄 Welcome to Sync Preview")
    st.write(
        "Nobody has set up this installation yet. Create your organization and its first "
        "administrator; you can invite colleagues afterwards."
    )
    with st.form("setup"):
        org_name = st.text_input("Organization name", placeholder="Acme Trading Ltd")
        c1, c2 = st.columns(2)
        username = c1.text_input("Admin username", placeholder="jane")
        name = c2.text_input("Admin full name", placeholder="Jane Doe")
        email = st.text_input("Admin e-mail", placeholder="jane@example.com")
        c3, c4 = st.columns(2)
        password = c3.text_input("Password (at least 8 characters)", type="password")
        repeat = c4.text_input("Repeat the password", type="password")
        submitted = st.form_submit_button("Create organization", type="primary", key="setup_submit")
    if not submitted:
        return
    problems = []
    if not org_name.strip():
        problems.append("Give the organization a name.")
    if not username.strip():
        problems.append("Choose a username for the administrator.")
    if "@" not in email:
        problems.append("Enter the administrator's e-mail address.")
    if password != repeat:
        problems.append("The two passwords differ.")
    if problems:
        for p in problems:
            st.error(p)
        return
    try:
        ctx = get_services().accounts.create_organization(
            org_name,
            admin_username=username.strip(),
            admin_name=name.strip() or username.strip(),
            admin_email=email.strip(),
            admin_password=password,
        )
    except SyncPreviewError as err:
        st.error(md(err))
        return
    state.sign_in_without_cookie(ctx.username, ctx.name)
    state.flash(
        "success",
        f"🎉 {md(ctx.org_name)} is ready and you are signed in as its administrator. "
        "Load the demo stores to try Sync Preview, or add your own connectors.",
    )
    st.rerun()
