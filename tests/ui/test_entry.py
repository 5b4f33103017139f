"""First run, login, logout and the role gate, through app.py."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.bootstrap import Services, build_services
from core.config import load_settings
from core.services import signin
from tests.ui.appkit import PASSWORD, USERS, deep_link, errors, open_app, texts
from tests.ui.workers import Worker, rerun_until
from ui.auth import COOKIE_NAME
from ui.nav import visible_pages


def _login(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    return at.button(key="FormSubmitter:login-Login").click().run()


def _cookie_written(at: AppTest) -> bool:
    """True when this run asked the browser to store the sign-in cookie."""
    calls = [
        json.loads(el.proto.json_args)
        for el in at.get("component_instance")
        if el.proto.component_name.endswith("cookie_manager")
    ]
    return any(c.get("method") == "set" and c.get("cookie") == COOKIE_NAME for c in calls)


def _activity(services: Services, action: str, status: str = "ok") -> list[str | None]:
    admin = services.accounts.user_context(USERS["admin"])
    events, _ = services.activity.list_activity(admin, limit=500)
    return [e.user for e in events if e.action == action and e.status == status]


def test_first_run_creates_the_organization_and_offers_demo_data(
    empty_dir: Path, start_worker: Callable[..., Worker]
) -> None:
    at = open_app()
    assert "Welcome to Sync Preview" in texts(at)
    assert at.button(key="setup_submit")
    labels = [t.label for t in at.text_input]
    values = ["Globex", "gina", "Gina Admin", "gina@globex.example", PASSWORD, PASSWORD]
    for field, value in zip(at.text_input, values, strict=True):
        field.input(value)
    assert labels[0] == "Organization name"
    at.button(key="setup_submit").click().run()
    assert not at.exception
    assert "Globex is ready" in texts(at)
    # signed in with the "stay signed in" cookie too, as after a sign-in with the form: a
    # reload right after setup does not ask for the password
    assert at.session_state["username"].endswith("/gina")
    assert _cookie_written(at)

    services = build_services(load_settings(data_dir=empty_dir))
    try:
        assert not services.accounts.needs_setup()
        admin = services.accounts.user_context("gina")
        assert (admin.role, admin.org_name) == ("admin", "Globex")
        assert services.connectors.list(admin) == []

        start_worker()  # as scripts/run starts one beside the dashboard
        at.button(key="load_demo").click().run()
        assert not at.exception
        # a worker loads it; the page follows the job, then the preview's job
        rerun_until(at, "the demo loaded", lambda a: "Demo data loaded" in texts(a))
        rerun_until(at, "the demo's preview", lambda a: bool(a.metric))
        assert [m.label for m in at.metric][:1] == ["🆕 New"]
        names = sorted(c.name for c in services.connectors.list(admin))
        assert names == ["Demo Odoo", "Demo WooCommerce store"]
    finally:
        services.close()


def test_a_database_that_does_not_answer_is_one_sentence(
    empty_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg2://nobody@127.0.0.1:{port}/none")
    at = open_app()
    assert [e.value for e in at.error] == [
        "Our database did not answer (it may be restarting or busy); try again in a moment."
    ]
    assert not at.text_input  # no form that could not work


def test_setup_refuses_different_passwords(empty_dir: Path) -> None:
    at = open_app()
    for t, value in zip(
        at.text_input,
        ["Globex", "gina", "Gina", "g@x.example", PASSWORD, "other-pass"],
        strict=True,
    ):
        t.input(value)
    at.button(key="setup_submit").click().run()
    assert "The two passwords differ." in [e.value for e in at.error]
    services = build_services(load_settings(data_dir=empty_dir))
    try:
        assert services.accounts.needs_setup()
    finally:
        services.close()


def test_login_shows_the_preview_and_logs_the_login_once(services: Services) -> None:
    at = open_app()
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert "Sync preview" not in texts(at)
    _login(at, USERS["editor"], PASSWORD)
    assert not at.exception
    assert "Sync preview" in texts(at)
    at.run()
    assert "Acme" in " ".join(m.value for m in at.sidebar.markdown)
    assert _activity(services, "login").count(USERS["editor"]) == 1


def test_wrong_passwords_slow_the_account_down_with_one_message(services: Services) -> None:
    at = open_app()
    _login(at, USERS["viewer"], "not-the-password")
    assert [e.value for e in at.error] == ["Username or password is incorrect."]
    for _ in range(signin.ACCOUNT.free - 1):
        _login(at, USERS["viewer"], "not-the-password")
    # the account now waits: even the right password is refused, with one message only
    _login(at, USERS["viewer"], PASSWORD)
    (shown,) = [e.value for e in at.error]
    assert shown.startswith("Too many failed sign-ins for this account or from this address.")
    assert "Try again in" in shown and "ask an administrator to unlock" in shown
    assert at.session_state["authentication_status"] is not True
    assert USERS["viewer"] not in _activity(services, "login")
    failed = _activity(services, "login", "failed")
    assert failed.count(USERS["viewer"]) == signin.ACCOUNT.free
    # the wait is the account's, not the browser session's: a new session waits too
    fresh = open_app()
    _login(fresh, USERS["viewer"], PASSWORD)
    assert len(fresh.error) == 1 and fresh.session_state["authentication_status"] is not True
    # an admin unlocks it (the CLI does the same: python -m core unlock)
    admin = services.accounts.user_context(USERS["admin"])
    assert services.accounts.unlock(admin, USERS["viewer"]) is True
    unlocked = open_app()
    _login(unlocked, USERS["viewer"], PASSWORD)
    assert unlocked.session_state["authentication_status"] is True
    assert not unlocked.error


def test_with_two_organizations_the_form_asks_which(services: Services) -> None:
    other = services.accounts.create_organization(
        "Globex",
        admin_username=USERS["admin"],  # the same username, in another organization
        admin_name="Gus Globex",
        admin_email="gus@globex.example",
        admin_password="globex-pass-9",
    )
    at = open_app()
    assert [t.label for t in at.text_input] == ["Organization", "Username", "Password"]
    at.text_input[0].input(other.org_slug)
    at.text_input[1].input(USERS["admin"])
    at.text_input[2].input("globex-pass-9")
    at.button(key="FormSubmitter:login-Login").click().run()
    assert not at.exception and at.session_state["authentication_status"] is True
    at.run()
    assert "Globex" in " ".join(m.value for m in at.sidebar.markdown)
    # Acme's admin, same username, signs in to Acme with Acme's password
    acme = open_app()
    for field, value in zip(acme.text_input, ["acme", USERS["admin"], PASSWORD], strict=True):
        field.input(value)
    acme.button(key="FormSubmitter:login-Login").click().run()
    acme.run()
    assert "Acme" in " ".join(m.value for m in acme.sidebar.markdown)
    # Globex's password does not open Acme: one message, which reveals nothing
    wrong = open_app()
    for field, value in zip(
        wrong.text_input, ["acme", USERS["admin"], "globex-pass-9"], strict=True
    ):
        field.input(value)
    wrong.button(key="FormSubmitter:login-Login").click().run()
    assert [e.value for e in wrong.error] == ["Username or password is incorrect."]


def test_logout_ends_the_session_and_is_logged(services: Services) -> None:
    at = open_app(USERS["admin"])
    at.sidebar.button(key="logout_btn").click().run()
    assert not at.exception
    assert at.session_state["authentication_status"] is None
    at.run()
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert USERS["admin"] in _activity(services, "logout")


def test_a_deactivated_user_loses_access(services: Services) -> None:
    at = open_app(USERS["viewer"])
    assert "Sync preview" in texts(at)
    admin = services.accounts.user_context(USERS["admin"])
    services.accounts.set_active(admin, USERS["viewer"], False)
    at.run()
    assert "This account does not exist or was deactivated." in errors(at)
    assert "Sync preview" not in texts(at)


@pytest.mark.parametrize("page", ["preview", "selective_sync", "activity", "connectors", "users"])
def test_every_page_guards_itself(page: str, data_dir: Path) -> None:
    at = deep_link(page)
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    shown = texts(at)
    assert "Demo WooCommerce store" not in shown and "Acme" not in shown
    assert not at.dataframe and not at.metric


@pytest.mark.parametrize(
    ("role", "titles"),
    [
        ("viewer", ["Preview", "Selective sync", "Activity"]),
        ("editor", ["Preview", "Selective sync", "Activity"]),
        ("admin", ["Preview", "Selective sync", "Activity", "Connectors", "Users"]),
    ],
)
def test_navigation_shows_what_the_role_may_open(
    role: str, titles: list[str], services: Services
) -> None:
    user = services.accounts.user_context(USERS[role])
    assert [p.title for p in visible_pages(user)] == titles


@pytest.mark.parametrize("page", ["connectors", "users"])
@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_admin_pages_refuse_other_roles(page: str, role: str, data_dir: Path) -> None:
    at = deep_link(page, USERS[role])  # not in their navigation: only reachable this way
    assert any("an admin" in w.value for w in at.warning)
    assert "Demo WooCommerce store" not in texts(at)
    assert not at.dataframe and not at.button
