"""Actors are made by the accounts service, which checks their organization; each acts with
its role and is named in the activity log as before."""

from __future__ import annotations

import pytest

from core.errors import NotFoundError, PermissionDenied, SignInRefused
from core.services.activity import ActivityFilter
from core.services.actors import ApiCaller, Operator, Scheduler, UserContext


def _issued(services, org_id, subject, *, service=None):
    """An API token of ``org_id`` for ``subject`` as the CLI issues it: its recorded id."""
    grant = services.api_tokens.issue(
        services.accounts.operator(org_id), subject, days=1, service=service
    )
    return grant.kind, grant.token_id


def test_an_api_token_speaks_for_a_user_of_its_organization_or_for_a_service(services, admin):
    other = services.accounts.create_organization(
        "Other",
        admin_username="olga",
        admin_name="Olga",
        admin_email="o@o.io",
        admin_password="password123",
    )
    services.accounts.add_user(admin, "vic", "Vic", "vic@acme.io", "password123", "viewer")
    kind, vic_token = _issued(services, admin.org_id, "vic")
    assert kind == "user"
    as_user = services.accounts.api_actor(admin.org_id, " Vic ", kind=kind, token_id=vic_token)
    assert isinstance(as_user, UserContext) and (as_user.username, as_user.role) == (
        "vic",
        "viewer",
    )
    kind, billing = _issued(services, admin.org_id, "billing")
    assert kind == "service"
    assert services.accounts.api_actor(
        admin.org_id, "billing", kind="service", token_id=billing
    ) == ApiCaller(admin.org_id, "billing")
    # a user of another organization is no user here: only a service may be issued that name
    assert _issued(services, admin.org_id, "olga")[0] == "service"
    # a deactivated user's token is refused: it never becomes a service token
    services.accounts.set_active(admin, "vic", False)
    with pytest.raises(SignInRefused, match="'vic' was deactivated or no longer exists"):
        services.accounts.api_actor(admin.org_id, "vic", kind="user", token_id=vic_token)
    # a token this server did not issue (or revoked) is refused
    with pytest.raises(SignInRefused, match="revoked, or was not issued"):
        services.accounts.api_actor(admin.org_id, "billing", kind="service", token_id="made-up")
    services.api_tokens.revoke(services.accounts.operator(admin.org_id), billing)
    with pytest.raises(SignInRefused, match="revoked"):
        services.accounts.api_actor(admin.org_id, "billing", kind="service", token_id=billing)
    assert services.accounts.gateway_caller(other.org_id).log_name == "api:gateway"
    with pytest.raises(NotFoundError, match="There is no organization"):
        services.accounts.gateway_caller(other.org_id + 1000)
    with pytest.raises(SignInRefused):  # an id no table can hold names nothing
        services.accounts.gateway_caller(10**30)


def test_the_operator_and_the_scheduler_find_their_organization(services, admin):
    assert services.accounts.operator("acme") == Operator(admin.org_id)
    assert services.accounts.operator(str(admin.org_id), name="admin") == Operator(
        admin.org_id, "admin"
    )
    assert services.accounts.scheduler(admin.org_id) == Scheduler(admin.org_id)
    with pytest.raises(NotFoundError, match="There is no organization 'nope'"):
        services.accounts.operator("nope")


def test_each_actor_is_named_in_the_log_as_before(services, demo_org):
    org = demo_org.org_id
    services.previews.detect_customer_delta(services.accounts.scheduler(org), "odoo")
    kind, token_id = _issued(services, org, "billing")
    caller = services.accounts.api_actor(org, "billing", kind=kind, token_id=token_id)
    services.previews.detect_product_delta(caller, "odoo")
    services.previews.detect_order_delta(services.accounts.operator(org), "odoo")
    refreshes, _ = services.activity.list_activity(demo_org, ActivityFilter(action="refresh"))
    assert {(e.entity_type, e.user) for e in refreshes} == {
        ("customers", "scheduler"),
        ("products", "api:billing"),
        ("orders", None),
    }


def test_services_may_refresh_but_not_manage(services, demo_org):
    kind, token_id = _issued(services, demo_org.org_id, "billing")
    caller = services.accounts.api_actor(demo_org.org_id, "billing", kind=kind, token_id=token_id)
    with pytest.raises(PermissionDenied, match="api:billing may not add connectors"):
        services.connectors.add(caller, "odoo", "Another", "http://127.0.0.1:9", {})
    with pytest.raises(PermissionDenied, match="api:billing may not manage users"):
        services.accounts.list_users(caller)
