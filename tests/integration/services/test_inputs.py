"""What people type is checked in the services, so the dashboard, the API and the command line
refuse the same things: e-mail addresses, lengths of names, connector addresses."""

from __future__ import annotations

import logging

import pytest

from core.bootstrap import Services
from core.db.connector_store import ConnectorStore
from core.db.tenancy import tenant_session
from core.errors import InvalidRequest, SyncPreviewError
from core.sandbox import SandboxServer
from core.services.actors import UserContext
from core.services.events import ConnectorAdded, record
from core.services.inputs import MAX_ORG_NAME, MAX_PERSON_NAME, MAX_USERNAME

WOO_KEYS = {"consumer_key": "ck_test_1234567890", "consumer_secret": "cs_test_abcdefghij"}


def _usernames(services: Services, admin: UserContext) -> list[str]:
    return [u.username for u in services.accounts.list_users(admin)]


@pytest.mark.parametrize(
    ("email", "says"),
    [
        ("jane", "must have an @-sign"),
        ("jane@", "not a valid e-mail address"),
        ("jane@example", "not a valid e-mail address"),
        ("jane doe@example.com", "not a valid e-mail address"),
        ("", "Enter an e-mail address"),
    ],
)
def test_a_user_with_a_wrong_email_is_refused(
    services: Services, admin: UserContext, email: str, says: str
) -> None:
    with pytest.raises(InvalidRequest, match=says):
        services.accounts.add_user(admin, "jane", "Jane Doe", email, "password123", "viewer")
    assert "jane" not in _usernames(services, admin)


def test_an_email_is_stored_in_its_checked_form(services: Services, admin: UserContext) -> None:
    view = services.accounts.add_user(
        admin, "jane", "Jane Doe", "  Jane.Doe@Example.COM ", "password123", "viewer"
    )
    assert view.email == "jane.doe@example.com"


def test_too_long_names_are_refused_with_the_limit(services: Services, admin: UserContext) -> None:
    with pytest.raises(InvalidRequest) as caught:
        services.accounts.add_user(
            admin, "j" * (MAX_USERNAME + 1), "J" * 500, "jane@example.com", "password123", "viewer"
        )
    message = str(caught.value)
    # both problems at once, each with its limit
    assert f"at most {MAX_USERNAME}" in message and f"at most {MAX_PERSON_NAME}" in message
    assert "500 characters" in message
    assert len(_usernames(services, admin)) == 1


def test_a_name_with_a_line_break_is_refused(services: Services, admin: UserContext) -> None:
    with pytest.raises(InvalidRequest, match="line breaks"):
        services.accounts.add_user(
            admin, "jane", "Jane\nDoe", "jane@example.com", "password123", "viewer"
        )


def test_setup_checks_every_field_and_creates_nothing(services: Services) -> None:
    with pytest.raises(InvalidRequest) as caught:
        services.accounts.create_organization(
            "A" * (MAX_ORG_NAME + 1),
            admin_username="ann",
            admin_name="Ann",
            admin_email="ann-at-acme",
            admin_password="correct horse battery",
        )
    message = str(caught.value)
    assert f"at most {MAX_ORG_NAME}" in message and "e-mail" in message
    assert services.accounts.needs_setup()


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("shop.example.com", "must start with http:// or https://"),
        ("file:///etc/passwd", "must start with http:// or https://"),
        ("ftp://shop.example.com", "must start with http:// or https://"),
        ("https://", "must start with http:// or https://"),
        ("https://shop.example.com:99999", "not a valid web address"),
        ("https://shop example.com", "contains spaces"),
        ("http://user:PASS@shop.example.com", "Do not put a user name or password"),
    ],
)
def test_a_connector_address_is_checked_on_save(
    services: Services, admin: UserContext, address: str, says: str
) -> None:
    with pytest.raises(InvalidRequest, match=says) as caught:
        services.connectors.add(admin, "woocommerce", "Shop", address, WOO_KEYS)
    assert "PASS" not in str(caught.value)
    assert services.connectors.list(admin) == []
    woo = services.connectors.add(admin, "woocommerce", "Shop", "https://shop.example.com/", {})
    with pytest.raises(InvalidRequest, match=says):
        services.connectors.update(admin, woo.id, base_url=address)
    assert services.connectors.list(admin)[0].base_url == "https://shop.example.com"


def _stored_as_typed(
    services: Services, admin: UserContext, sync_type: str, address: str, creds: dict[str, str]
) -> int:
    """A connector saved before addresses were checked (written below the service), with
    the activity row the old service wrote for it."""
    with tenant_session(services.sessions, admin.org_id) as s:
        row = ConnectorStore(s, services.connectors.vault).add(
            sync_type, "Old shop", address, creds
        )
        record(s, ConnectorAdded(row.id, "Old shop", sync_type, address), by=admin.log_name)
        return row.id


@pytest.mark.parametrize("address", ["shop.example.com", "file:///etc/passwd"])
def test_testing_a_stored_bad_address_says_why_without_a_crash(
    services: Services, admin: UserContext, address: str
) -> None:
    connector_id = _stored_as_typed(services, admin, "woocommerce", address, WOO_KEYS)
    with pytest.raises(InvalidRequest, match="must start with http:// or https://"):
        services.connectors.test(admin, connector_id)
    events, _ = services.activity.list_activity(admin, limit=1)
    assert events[0].action == "connector_tested" and events[0].status == "failed"
    # a refresh through it fails with the same sentence (not as an internal error)
    with pytest.raises(SyncPreviewError, match="must start with http:// or https://"):
        services.previews.get_preview_snapshot(admin, "woocommerce", "customers")


def test_a_stored_password_in_an_address_is_masked_everywhere(
    services: Services,
    admin: UserContext,
    sandbox: SandboxServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    address = sandbox.url.replace("http://", "http://shopuser:PASS-1234@")
    connector_id = _stored_as_typed(services, admin, "woocommerce", address, WOO_KEYS)
    viewer = services.accounts.add_user(admin, "vic", "Vic", "vic@acme.io", "password123", "viewer")
    vic = services.accounts.user_context(viewer.username)

    shown = services.connectors.list(admin)[0]
    assert shown.base_url == sandbox.url.replace("http://", "http://shopuser:•••@")
    events, _ = services.activity.list_activity(vic)  # what a viewer reads
    added = next(e for e in events if e.action == "connector_added")
    assert added.details == {"connector": "Old shop", "base_url": shown.base_url}

    with caplog.at_level(logging.DEBUG):
        try:
            services.connectors.test(admin, connector_id)
        except SyncPreviewError as err:
            assert "PASS-1234" not in str(err)
        try:
            services.previews.get_preview_snapshot(admin, "woocommerce", "customers")
        except SyncPreviewError as err:
            assert "PASS-1234" not in str(err)
    assert "PASS-1234" not in caplog.text
    events, _ = services.activity.list_activity(vic)
    assert "PASS-1234" not in repr(events)

    # the admin can rename it: the masked address in the form is taken as unchanged
    renamed = services.connectors.update(
        admin, connector_id, name="Old shop (renamed)", base_url=shown.base_url
    )
    assert renamed.name == "Old shop (renamed)" and renamed.base_url == shown.base_url


def test_non_secret_credentials_are_shown_and_secrets_masked(
    services: Services, admin: UserContext
) -> None:
    odoo = services.connectors.add(
        admin,
        "odoo",
        "ERP",
        "https://erp.example.com",
        {"database": "acme-prod", "username": "sync.bot", "password": "s3cret-password-1"},
    )
    assert odoo.shown_credentials["database"] == "acme-prod"
    assert odoo.shown_credentials["username"] == "sync.bot"
    assert odoo.shown_credentials["password"] not in ("s3cret-password-1", "")
    assert "s3cret" not in odoo.shown_credentials["password"]
