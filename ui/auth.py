"""The auth gate: first-run setup, sign-in, logout, and the guard every page starts with.

`entry_gate()` runs in `app.py` on every run; `require_user()` is the first call of every
page script. A page normally runs after the gate, so the guard only re-checks the session;
when a page script runs on its own (a deep link that reaches a fresh server before any
`st.navigation` call), the guard renders the gate itself and stops the page.

Passwords are checked by `AccountService.sign_in` (which also slows guessing down); the
"stay signed in" cookie is streamlit-authenticator's, holding the user's login key
(``"<org id>/<username>"``). The sign-in form asks for the organization only when the
installation has more than one.
"""

from __future__ import annotations

import contextlib
import time

import streamlit as st
import streamlit_authenticator as stauth

from core.errors import NotFoundError, SignInRefused, StoreError, SyncPreviewError
from core.services.actors import ROLE_LABEL, Role, UserContext
from ui import state
from ui.format import md
from ui.services import get_services

COOKIE_NAME = "sync_preview_auth"
ROLE_BADGE = {"viewer": "👀 viewer", "editor": "✏️ editor", "admin": "🛡️ admin"}


def entry_gate(known: UserContext | None = None) -> UserContext | None:
    """Render setup or sign-in when nobody is signed in; return the signed-in user otherwise.

    ``known``: the session's user as ``signed_in_user`` read it at the start of this run (an
    active account: users exist and the database answers), so not read again. While our
    database does not answer, say so (one sentence) instead of anything else.
    """
    needs_setup = False
    if known is None:
        try:
            needs_setup = get_services().accounts.needs_setup()
        except StoreError as err:
            st.error(str(err), icon="🛑")
            return None
    authenticator = _build_authenticator()
    if needs_setup:
        return render_setup_form(authenticator)
    if not state.authenticated_username() and st.session_state.get("logout"):
        # Signed out in this session: keep asking the browser to drop the cookie. The
        # logout run's own request can be lost when another rerun overtakes it, and a
        # cookie left behind would sign the user in again on the next visit.
        authenticator.cookie_controller.delete_cookie()
    sidebar_top = st.sidebar.container() if state.authenticated_username() else None
    if state.authenticated_username():
        # Logout is handled before the sign-in below, so that a logout run shows the form;
        # the cookie component then reruns the script by itself (no st.rerun here).
        authenticator.logout(
            "🚪 Log out", location="sidebar", key="logout_btn", callback=_on_logout
        )
    if not state.authenticated_username():
        _render_login(authenticator)
    key = state.authenticated_username()
    if key is None:
        return None
    ctx = known if known is not None and known.login_key == key else _context(key)
    if ctx is None:
        return None
    with sidebar_top if sidebar_top is not None else st.sidebar.container():
        st.markdown(f"**🏢 {md(ctx.org_name)}**")
        st.caption(f"Signed in as **{md(ctx.name)}** ({md(ctx.username)}) · {ROLE_BADGE[ctx.role]}")
    return ctx


def signed_in_user() -> UserContext | None:
    """The session's user without rendering anything (None when nobody is signed in)."""
    key = state.authenticated_username()
    if key is None:
        return None
    try:
        return get_services().accounts.user_context(key)
    except (NotFoundError, StoreError):  # the gate says why
        return None


def require_user(role: Role = "viewer") -> UserContext:
    """The first call of every page: the signed-in user with at least ``role``, or stop."""
    ctx = state.take_gate_user()  # the app's gate checked the account this run
    if ctx is None:
        key = state.authenticated_username()
        if key is None:
            # This page runs without the app's gate (a deep link on a fresh server).
            if entry_gate() is None:
                st.stop()
            key = state.authenticated_username()
        ctx = _context(key) if key else None
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


def _build_authenticator() -> stauth.Authenticate:
    """The authenticator, for its cookie and logout button (once per script run); it holds
    no users: passwords are checked by ``AccountService.sign_in``."""
    settings = get_services().settings
    return stauth.Authenticate(
        {"usernames": {}},
        cookie_name=COOKIE_NAME,
        cookie_key=str(settings.cookie_key),
        cookie_expiry_days=float(settings.cookie_expiry_days),
        auto_hash=False,
    )


def _render_login(authenticator: stauth.Authenticate) -> None:
    # Not in a session that signed out: until the browser has dropped the cookie, the cookie
    # component may still hand back its old value, which would sign the user in again.
    token = None if st.session_state.get("logout") else authenticator.cookie_controller.get_cookie()
    if token and isinstance(token.get("username"), str):
        # A valid "stay signed in" cookie: sign in from it without drawing the form, then
        # start the run again, so that the navigation (declared before the gate) is built
        # for the signed-in user. No cookie has to be written here, so the rerun is safe.
        with contextlib.suppress(NotFoundError):  # a deactivated user's cookie: form below
            ctx = get_services().accounts.user_context(token["username"])
            state.sign_in(ctx.login_key, ctx.name)
            st.rerun()
    # After a form sign-in this run ends with the form still mounted: the cookie component
    # rendered inside must stay to write the cookie (it then reruns the script by itself).
    with st.container(key="login_box"):
        _login_form(authenticator)


def _login_form(authenticator: stauth.Authenticate) -> None:
    services = get_services()
    ask_org = services.accounts.sign_in_needs_organization()
    st.title("🔄 Sync Preview")
    st.caption("See what a sync would change before it runs.")
    with st.form("login"):
        st.subheader("Sign in")
        organization = (
            st.text_input("Organization", placeholder="its short name, e.g. acme")
            if ask_org
            else None
        )
        username = st.text_input("Username")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Login")
    if not submitted:
        return
    try:
        ctx = services.accounts.sign_in(
            username, password, organization=organization, client=_client_address()
        )
    except SignInRefused as err:
        if err.retry_after is None:  # a wrong password: slow the next guess down a little
            time.sleep(float(services.settings.login_sleep_seconds))
        st.error(str(err))  # one message, whatever refused it
        return
    except SyncPreviewError as err:
        st.error(str(err))
        return
    state.sign_in(ctx.login_key, ctx.name)
    authenticator.cookie_controller.set_cookie()


def _client_address() -> str | None:
    """The browser's address as the server sees it (a proxy's, behind one), when known."""
    try:
        address = st.context.ip_address
    except Exception:  # not served over a connection (tests), or an older Streamlit
        return None
    return str(address) if address else None


def _context(key: str) -> UserContext | None:
    """The user's context, or None (with a message) when the account is gone."""
    try:
        return get_services().accounts.user_context(key)
    except NotFoundError as err:
        state.sign_out_locally()
        st.error(md(err))
        return None


def _on_logout(info: dict[str, object]) -> None:
    key = info.get("username")
    if key:
        with contextlib.suppress(SyncPreviewError):
            accounts = get_services().accounts
            accounts.record_logout(accounts.user_context(str(key)))
    st.session_state.pop(state.VIEWED, None)


def render_setup_form(authenticator: stauth.Authenticate) -> UserContext | None:
    """First run: create the organization and its admin, then sign the admin in (with the
    "stay signed in" cookie, so that a reload right after keeps them signed in)."""
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
        return None
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
        return None
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
        return None
    state.sign_in(ctx.login_key, ctx.name)
    # The cookie component must stay mounted to write the cookie (it then reruns the script
    # by itself): no st.rerun here; the first page is drawn below the form in this run.
    authenticator.cookie_controller.set_cookie()
    state.flash(
        "success",
        f"🎉 {md(ctx.org_name)} is ready and you are signed in as its administrator. "
        "Load the demo stores to try Sync Preview, or add your own connectors.",
    )
    return ctx
