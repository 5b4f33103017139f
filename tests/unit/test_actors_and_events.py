"""Who may do what (one table of permissions), and what each kind of event writes to the log."""

from __future__ import annotations

import pytest

from core.errors import PermissionDenied
from core.services import actors, events
from core.services.actors import (
    ApiCaller,
    Operator,
    Scheduler,
    UserContext,
    authorize,
    checked,
    is_checked,
)

PERMISSIONS = {
    name: value for name, value in vars(actors).items() if isinstance(value, actors.Permission)
}


def _user(role: str) -> UserContext:
    # as AccountService makes them (it checked the organization and the user)
    return checked(UserContext(1, "ann", "Ann", role, 7, "Acme", "acme"))


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_a_user_may_do_what_their_role_allows(role: str) -> None:
    rank = actors.ROLE_RANK[role]
    for permission in PERMISSIONS.values():
        allowed = rank >= actors.ROLE_RANK[permission.role]
        if allowed:
            authorize(_user(role), permission)
        else:
            with pytest.raises(PermissionDenied) as denied:
                authorize(_user(role), permission)
            need = actors.ROLE_LABEL[permission.role]
            assert str(denied.value) == (
                f"You need to be {need} to {permission.action}; your role is {role}."
            )


def test_services_act_as_editors_and_the_operator_as_admin() -> None:
    caller, timer, operator = (
        checked(ApiCaller(7, "billing")),
        checked(Scheduler(7)),
        checked(Operator(7)),
    )
    for actor in (caller, timer):
        authorize(actor, actors.REFRESH_PREVIEWS)
        authorize(actor, actors.CHANGE_SELECTIVE_SYNC)
        with pytest.raises(PermissionDenied, match="may not add users"):
            authorize(actor, actors.ADD_USERS)
    for permission in PERMISSIONS.values():
        authorize(operator, permission)


def test_an_actor_made_by_hand_may_do_nothing() -> None:
    """Only actors AccountService made (after checking their organization) pass authorize:
    a service can never act in an organization nobody checked."""
    made_by_hand: list[actors.Actor] = [
        UserContext(1, "ann", "Ann", "admin", 7, "Acme", "acme"),
        ApiCaller(7, "billing"),
        Scheduler(7),
        Operator(7),
    ]
    for actor in made_by_hand:
        assert not is_checked(actor)
        for permission in (actors.VIEW, actors.CHANGE_SELECTIVE_SYNC, actors.EXPIRE_PREVIEWS):
            with pytest.raises(PermissionDenied, match="has not identified"):
                authorize(actor, permission)
        assert is_checked(checked(actor)) and actor == checked(actor)  # type: ignore[type-var]


def test_the_activity_log_names_each_actor_as_before() -> None:
    assert _user("viewer").log_name == "ann"
    assert ApiCaller(7, "billing-service").log_name == "api:billing-service"
    assert ApiCaller(7).log_name == "api"
    assert ApiCaller(7, "x" * 100).log_name == "api:" + "x" * 60  # the column holds 64
    assert ApiCaller(7, "gateway").log_name == "api:gateway"
    assert Operator(7).log_name is None
    assert Operator(7, "admin").log_name == "admin"
    assert Scheduler(7).log_name == "scheduler"


def _row(event: events.ActivityEvent) -> dict[str, object]:
    return {
        "action": event.name,
        "status": event.status,
        "cache_hit": event.cache_hit,
        **{c: event.column(c) for c in events.COLUMNS if event.column(c) is not None},
        "details": event.details(),
    }


def test_events_fill_the_log_as_the_old_action_strings_did() -> None:
    counts = {"new": 1, "updated": 2, "deleted": 0, "unchanged": 3}
    assert _row(events.PreviewViewed(4, "Main Odoo", "odoo", "orders", counts)) == {
        "action": "view",
        "status": "ok",
        "cache_hit": True,
        "connector_id": 4,
        "sync_type": "odoo",
        "entity_type": "orders",
        "counts": counts,
        "duration_ms": 0,
        "details": {"connector": "Main Odoo"},
    }
    refreshed = events.PreviewRefreshed(4, "Main Odoo", "odoo", "orders", counts, 120, 2)
    assert _row(refreshed)["details"] == {"connector": "Main Odoo", "duplicates_collapsed": 2}
    failed = events.RefreshFailed(
        4, "Main Odoo", "odoo", "orders", 90, "Odoo did not answer.", "ExternalTimeout"
    )
    assert _row(failed) == {
        "action": "refresh",
        "status": "failed",
        "cache_hit": False,
        "connector_id": 4,
        "sync_type": "odoo",
        "entity_type": "orders",
        "duration_ms": 90,
        "error": "Odoo did not answer.",
        "details": {"connector": "Main Odoo", "error_type": "ExternalTimeout"},
    }
    bug = events.RefreshFailed(4, "M", "odoo", "orders", 9, "…", "InternalError", "3f2a9c0d41b7")
    assert bug.details() == {
        "connector": "M",
        "error_type": "InternalError",
        "reference": "3f2a9c0d41b7",
    }
    saved = events.SelectiveSyncSaved(4, "Main Odoo", "odoo", "orders", True, False, True)
    assert saved.column("connector_id") == 4
    assert saved.details() == {
        "connector": "Main Odoo",
        "includeNew": True,
        "includeUpdated": False,
        "includeDeleted": True,
    }
    assert _row(events.PreviewsExpired("odoo", None, 2))["details"] == {"snapshots": 2}
    expired = events.PreviewsExpired("odoo", None, 2, connector_id=4, connector="Main Odoo")
    assert _row(expired)["connector_id"] == 4
    assert expired.details() == {"snapshots": 2, "connector": "Main Odoo"}
    assert _row(events.SignInFailed("Wrong password."))["status"] == "failed"
    assert _row(events.SignedOut())["action"] == "logout"
    assert events.DemoLoaded({"woocommerce": 10, "odoo": 5}).details() == {
        "woocommerce": 10,
        "odoo": 5,
    }
    tested = events.ConnectorTested(4, "Main", "odoo", "Odoo refused the password.")
    assert (tested.status, tested.details()) == ("failed", {"connector": "Main"})
    assert events.ConnectorTested(4, "Main", "odoo").status == "ok"
    assert events.ConnectorUpdated(4, "Main", "odoo", ["password"]).details() == {
        "connector": "Main",
        "credentials_changed": ["password"],
    }


def test_the_activity_screen_offers_every_action_once() -> None:
    assert events.ACTIONS == (
        "view",
        "refresh",
        "invalidate",
        "select",
        "warm",
        "apply_started",
        "apply",
        "undo",
        "login",
        "logout",
        "setup",
        "demo_loaded",
        "connector_added",
        "connector_updated",
        "connector_deleted",
        "connector_default",
        "connector_tested",
        "localdb_set",
        "localdb_tested",
        "localdb_removed",
        "mapping_saved",
        "write_back_switched",
        "file_imported",
        "user_added",
        "password_reset",
        "user_unlocked",
        "role_changed",
        "user_activated",
        "user_deactivated",
        "api_token_issued",
        "api_token_revoked",
    )
