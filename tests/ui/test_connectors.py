"""The Connectors screen (admins): masked secrets, add, edit keeping secrets, test, delete."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from core.bootstrap import Services
from core.services.actors import UserContext
from tests.ui.appkit import open_page, texts

SECRETS = ("cs_sandbox", "ck_sandbox", "sandbox-key")


def _no_secret_on_screen(at: AppTest) -> None:
    shown = texts(at)
    for secret in SECRETS:
        assert secret not in shown
    assert all(t.value == "" for t in at.text_input if t.type == "password")


def test_lists_connectors_with_masked_credentials(services: Services) -> None:
    at = open_page("connectors", "admin")
    shown = texts(at)
    assert "Demo WooCommerce store" in shown and "Demo Odoo" in shown
    assert "Consumer secret" in shown
    _no_secret_on_screen(at)


def test_add_a_connector(services: Services, ctx: Callable[[str], UserContext]) -> None:
    at = open_page("connectors", "admin")
    form_fields = [t for t in at.text_input if t.label in ("Name", "Address (URL)")][-2:]
    form_fields[0].input("Main shop")
    form_fields[1].input("https://shop.example.com")
    at.text_input(key="new_consumer_key").input("ck_live_1234567890")
    at.text_input(key="new_consumer_secret").input("cs_live_abcdefghij")
    at.button(key="add_connector_submit").click().run()
    assert not at.exception
    added = [c for c in services.connectors.list(ctx("admin")) if c.name == "Main shop"]
    assert len(added) == 1 and added[0].base_url == "https://shop.example.com"
    assert "cs_live_abcdefghij" not in added[0].masked_credentials.values()
    assert "Main shop was added" in texts(at)
    assert "cs_live_abcdefghij" not in texts(at)


def test_edit_without_retyping_keeps_the_secret_and_test_connection(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    admin = ctx("admin")
    woo = next(c for c in services.connectors.list(admin) if c.sync_type == "woocommerce")
    at = open_page("connectors", "admin")
    name_field = next(
        t for t in at.text_input if t.label == "Name" and t.value == "Demo WooCommerce store"
    )
    name_field.input("Renamed demo shop")
    at.button(key=f"save_{woo.id}").click().run()
    assert not at.exception
    assert any(c.name == "Renamed demo shop" for c in services.connectors.list(admin))

    at.button(key=f"test_{woo.id}").click().run()  # the kept secret still signs in
    assert not at.exception
    assert any("Connected to WooCommerce" in s.value for s in at.success)
    _no_secret_on_screen(at)


def test_delete_asks_for_confirmation(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    admin = ctx("admin")
    odoo = next(c for c in services.connectors.list(admin) if c.sync_type == "odoo")
    at = open_page("connectors", "admin")
    at.button(key=f"delete_{odoo.id}").click().run()
    assert any("cannot be undone" in w.value for w in at.warning)
    assert any(c.id == odoo.id for c in services.connectors.list(admin))
    at.button(key=f"confirm_delete_{odoo.id}").click().run()
    assert not at.exception
    assert all(c.id != odoo.id for c in services.connectors.list(admin))
    assert "Demo Odoo was deleted" in texts(at)


def test_make_default_and_delete_the_default(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    admin = ctx("admin")
    demo = next(c for c in services.connectors.list(admin) if c.sync_type == "woocommerce")
    added = services.connectors.add(
        admin, "woocommerce", "Acme live shop", "https://shop.example.com", {}
    )
    at = open_page("connectors", "admin")
    assert "⭐ Default for WooCommerce" in texts(at)
    assert not any(b.key == f"default_{demo.id}" for b in at.button)
    at.button(key=f"default_{added.id}").click().run()
    assert not at.exception
    assert "Acme live shop is now the default WooCommerce connector" in texts(at)
    defaults = {c.name for c in services.connectors.list(admin) if c.is_default}
    assert defaults == {"Acme live shop", "Demo Odoo"}
    assert any(b.key == f"default_{demo.id}" for b in at.button)

    at.button(key=f"delete_{added.id}").click().run()
    at.button(key=f"confirm_delete_{added.id}").click().run()
    assert not at.exception
    defaults = {c.name for c in services.connectors.list(admin) if c.is_default}
    assert defaults == {"Demo WooCommerce store", "Demo Odoo"}  # the next one of its source
