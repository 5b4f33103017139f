"""The Connectors screen (admins): masked secrets, add, edit keeping secrets, test, delete."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.proto.TextInput_pb2 import TextInput as TextInputProto
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import TextInput

from core.bootstrap import Services
from core.db.connector_store import ConnectorStore
from core.db.tenancy import tenant_session
from core.services.actors import UserContext
from tests.ui.appkit import open_page, texts
from ui.format import md

SECRETS = ("cs_sandbox", "ck_sandbox", "sandbox-key")


def _no_secret_on_screen(at: AppTest) -> None:
    shown = texts(at)
    for secret in SECRETS:
        assert secret not in shown
    assert all(t.value == "" for t in at.text_input if is_password(t))


def is_password(field: TextInput) -> bool:
    """A field whose typing is hidden (the widget's ``type="password"``)."""
    return bool(field.proto.type == TextInputProto.PASSWORD)


def test_lists_connectors_with_shown_credentials(services: Services) -> None:
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
    assert "cs_live_abcdefghij" not in added[0].shown_credentials.values()
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


def _add_form(at: AppTest, name: str, address: str) -> None:
    form_fields = [t for t in at.text_input if t.label in ("Name", "Address (URL)")][-2:]
    form_fields[0].input(name)
    form_fields[1].input(address)
    at.text_input(key="new_consumer_key").input("ck_live_1234567890")
    at.text_input(key="new_consumer_secret").input("cs_live_abcdefghij")
    at.button(key="add_connector_submit").click().run()


@pytest.mark.parametrize(
    "address", ["shop.example.com", "file:///etc/passwd", "http://bob:hunter22@shop.example.com"]
)
def test_a_bad_address_is_refused_on_save(
    address: str, services: Services, ctx: Callable[[str], UserContext]
) -> None:
    at = open_page("connectors", "admin")
    _add_form(at, "Main shop", address)
    assert not at.exception
    assert at.error and "hunter22" not in texts(at)
    assert not [c for c in services.connectors.list(ctx("admin")) if c.name == "Main shop"]
    assert at.button(key="add_connector_submit")  # the form is still there


@pytest.mark.parametrize("address", ["shop.example.com", "file:///etc/passwd"])
def test_testing_a_stored_bad_address_shows_a_sentence(
    address: str, services: Services, ctx: Callable[[str], UserContext]
) -> None:
    admin = ctx("admin")
    with tenant_session(services.sessions, admin.org_id) as s:  # saved before the check
        old = ConnectorStore(s, services.connectors.vault).add(
            "woocommerce", "Old shop", address, {"consumer_key": "ck_1234567890abc"}
        )
    at = open_page("connectors", "admin")
    at.button(key=f"test_{old.id}").click().run()
    assert not at.exception
    assert any(md("must start with http:// or https://") in e.value for e in at.error)
    assert at.button(key=f"save_{old.id}") and at.button(key="add_connector_submit")


def test_the_odoo_username_is_shown_and_editable(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    admin = ctx("admin")
    odoo = next(c for c in services.connectors.list(admin) if c.sync_type == "odoo")
    username = odoo.shown_credentials["username"]
    at = open_page("connectors", "admin")
    assert f"Username: {md(username)}" in texts(at)
    field = at.text_input(key=f"edit_{odoo.id}_username")
    assert not is_password(field) and field.value == username
    assert is_password(at.text_input(key=f"edit_{odoo.id}_password"))
    assert at.text_input(key=f"edit_{odoo.id}_password").value == ""
    _no_secret_on_screen(at)
    at.text_input(key=f"edit_{odoo.id}_username").input("sync.bot")
    at.button(key=f"save_{odoo.id}").click().run()
    assert not at.exception
    shown = next(c for c in services.connectors.list(admin) if c.id == odoo.id)
    assert shown.shown_credentials["username"] == "sync.bot"
    events, _ = services.activity.list_activity(admin, limit=1)
    assert events[0].details == {"connector": "Demo Odoo", "credentials_changed": ["username"]}


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


def test_the_options_of_a_source_are_in_its_forms(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    admin = ctx("admin")
    woo = next(c for c in services.connectors.list(admin) if c.sync_type == "woocommerce")
    at = open_page("connectors", "admin")
    at.checkbox(key=f"edit_{woo.id}_include_guests").check()
    at.text_input(key=f"edit_{woo.id}_customer_roles").input("customer, subscriber")
    at.button(key=f"save_{woo.id}").click().run()
    assert not at.exception
    saved = next(c for c in services.connectors.list(admin) if c.id == woo.id)
    assert saved.options["include_guests"] is True
    assert saved.options["customer_roles"] == "customer, subscriber"
    # the add form of each source shows its options; Odoo's companies are a line of text
    assert at.checkbox(key="new_query_string_auth").value is False
    at.radio(key="new_connector_type").set_value("odoo").run()
    assert at.text_input(key="new_companies").value == ""
    assert at.selectbox(key="new_protocol").value == "xmlrpc"
