"""The Users screen (admins): add, reset password, change role, deactivate."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.bootstrap import Services
from core.errors import NotFoundError, SignInRefused
from core.services.actors import UserContext
from tests.ui.appkit import PASSWORD, errors, open_page, texts


def test_lists_and_adds_users(services: Services, ctx: Callable[[str], UserContext]) -> None:
    at = open_page("users", "admin")
    assert set(at.dataframe[0].value["username"]) == {"ada", "eddie", "vera"}
    form = {t.label: t for t in at.text_input}
    form["Username"].input("olga")
    form["Full name"].input("Olga Ops")
    form["E-mail"].input("olga@acme.example")
    form["Password (at least 8 characters)"].input("olga-pass-123")
    at.selectbox(key="add_user_role").set_value("editor")
    at.button(key="add_user_submit").click().run()
    assert not at.exception
    assert "olga was added as editor" in texts(at)
    assert services.accounts.user_context("olga").role == "editor"
    assert services.accounts.sign_in("olga", "olga-pass-123").username == "olga"


def test_short_password_is_refused_with_a_sentence(services: Services) -> None:
    at = open_page("users", "admin")
    form = {t.label: t for t in at.text_input}
    form["Username"].input("short")
    form["Password (at least 8 characters)"].input("abc")
    at.button(key="add_user_submit").click().run()
    assert any("8 characters" in e.value for e in at.error)


def test_reset_role_and_deactivate(services: Services, ctx: Callable[[str], UserContext]) -> None:
    at = open_page("users", "admin")
    at.selectbox(key="manage_user").set_value("vera").run()
    next(t for t in at.text_input if t.label == "New password").input("new-vera-pass")
    at.button(key="reset_password_submit").click().run()
    assert "password of vera was reset" in texts(at)
    assert services.accounts.sign_in("vera", "new-vera-pass").username == "vera"
    with pytest.raises(SignInRefused):
        services.accounts.sign_in("vera", PASSWORD)

    at.selectbox(key="role_of_vera").set_value("editor").run()
    at.button(key="change_role").click().run()
    assert services.accounts.user_context("vera").role == "editor"

    at.button(key="deactivate_user").click().run()
    assert not at.exception
    with pytest.raises(NotFoundError):
        services.accounts.user_context("vera")


def test_admin_cannot_deactivate_themself(services: Services) -> None:
    at = open_page("users", "admin")
    at.selectbox(key="manage_user").set_value("ada").run()
    assert at.button(key="deactivate_user").disabled


def test_a_wrong_email_and_a_too_long_name_are_refused_with_sentences(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    at = open_page("users", "admin")
    form = {t.label: t for t in at.text_input}
    form["Username"].input("olga")
    form["Full name"].input("O" * 150)
    form["E-mail"].input("olga.acme.example")
    form["Password (at least 8 characters)"].input("olga-pass-123")
    at.button(key="add_user_submit").click().run()
    assert not at.exception
    error = errors(at)
    assert "'olga.acme.example' is not a valid e-mail address" in error
    assert "150 characters long; at most 100 are allowed" in error
    assert "olga" not in {u.username for u in services.accounts.list_users(ctx("admin"))}
