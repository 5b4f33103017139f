"""The Selective sync screen: what it would include, saving (editor+), read-only for viewers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from core.bootstrap import Services
from core.errors import AuthError
from core.services.actors import UserContext
from tests.ui.appkit import open_page, texts
from ui.format import md


def test_editor_sees_the_included_counts_and_saves(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    editor = ctx("editor")
    snap = services.previews.latest(editor, "woocommerce", "customers")
    assert snap is not None
    woo = snap.connector_id
    at = open_page("selective_sync", "editor")
    assert "Not saved yet" in texts(at)
    shown = {m.label.split(" ", 1)[1]: m.value for m in at.metric}
    assert shown == {
        "New": str(snap.counts["new"]),
        "Updated": str(snap.counts["updated"]),
        "Deleted": "0",
    }

    at.checkbox(key=f"inc_deleted_{woo}_customers").check()
    at.checkbox(key=f"inc_new_{woo}_customers").uncheck().run()
    shown = {m.label.split(" ", 1)[1]: m.value for m in at.metric}
    assert shown == {
        "New": "0",
        "Updated": str(snap.counts["updated"]),
        "Deleted": str(snap.counts["deleted"]),
    }

    at.button(key="save_selective").click().run()
    assert not at.exception
    assert any(
        "Saved. A sync of customers from Demo WooCommerce store" in s.value for s in at.success
    )
    saved = services.selective.get_selective_config(editor, "woocommerce", "customers")
    assert (saved.include_new, saved.include_updated, saved.include_deleted) == (False, True, True)
    assert saved.updated_by == "eddie"
    assert "Last saved by **eddie**" in texts(at)
    events, _ = services.activity.list_activity(editor, limit=1)
    assert (events[0].action, events[0].user) == ("select", "eddie")


def test_viewer_sees_the_settings_but_cannot_change_them(services: Services) -> None:
    at = open_page("selective_sync", "viewer")
    assert all(c.disabled for c in at.checkbox)
    assert not any(b.key == "save_selective" for b in at.button)
    assert "editors and admins can change them" in texts(at)


def test_unsaved_choices_survive_a_look_at_another_entity(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    editor = ctx("editor")
    woo = next(c for c in services.connectors.list(editor) if c.sync_type == "woocommerce")
    odoo = next(c for c in services.connectors.list(editor) if c.sync_type == "odoo")
    at = open_page("selective_sync", "editor")
    at.checkbox(key=f"inc_deleted_{woo.id}_customers").check().run()
    assert "not saved yet" in texts(at)

    at.selectbox(key="sel_entity").set_value("products").run()
    assert not at.exception
    warning = " ".join(w.value for w in at.warning)
    assert f"Unsaved choices for **{md('Demo WooCommerce store')} · Customers**" in warning
    assert not at.checkbox(key=f"inc_deleted_{woo.id}_products").value
    at.selectbox(key="sel_connector").set_value(odoo.id).run()  # another connector: still said
    assert "Unsaved choices for" in " ".join(w.value for w in at.warning)

    at.selectbox(key="sel_connector").set_value(woo.id)
    at.selectbox(key="sel_entity").set_value("customers").run()
    assert at.checkbox(key=f"inc_deleted_{woo.id}_customers").value  # kept, not dropped
    saved = services.selective.get_selective_config(editor, "woocommerce", "customers")
    assert saved.include_deleted is False  # nothing is saved until Save

    at.button(key="save_selective").click().run()
    saved = services.selective.get_selective_config(editor, "woocommerce", "customers")
    assert saved.include_deleted is True
    assert "not saved yet" not in texts(at)
    at.selectbox(key="sel_entity").set_value("products").run()
    assert "Unsaved" not in " ".join(w.value for w in at.warning)


def test_settings_are_saved_for_the_picked_connector(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    editor = ctx("editor")
    odoo = next(c for c in services.connectors.list(editor) if c.sync_type == "odoo")
    at = open_page("selective_sync", "editor")
    at.selectbox(key="sel_connector").set_value(odoo.id).run()
    assert "There is no preview of Demo Odoo's customers yet" in texts(at)
    at.checkbox(key=f"inc_updated_{odoo.id}_customers").uncheck().run()
    at.button(key="save_selective").click().run()
    assert not at.exception
    saved = services.selective.get_selective_config(editor, None, "customers", connector=odoo.id)
    assert (saved.connector_name, saved.include_updated) == ("Demo Odoo", False)
    woo = services.selective.get_selective_config(editor, "woocommerce", "customers")
    assert woo.include_updated and woo.updated_at is None
    # the Preview screen opens on the connector picked here
    assert services.preferences.connector(editor) == odoo.id


def test_admin_keeps_the_preview_warm_others_see_it_read_only(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    admin = ctx("admin")
    woo = services.previews.latest(admin, "woocommerce", "customers")
    assert woo is not None
    suffix = f"{woo.connector_id}_customers"
    at = open_page("selective_sync", "admin")
    assert at.radio(key=f"warm_how_{suffix}").value == "Off"
    assert at.number_input(key=f"warm_minutes_{suffix}").disabled

    at.radio(key=f"warm_how_{suffix}").set_value("Every N minutes").run()
    at.number_input(key=f"warm_minutes_{suffix}").set_value(20)
    at.button(key="save_warm").click().run()
    assert not at.exception
    assert any("kept warm: every 20 minutes" in s.value for s in at.success)
    chosen = services.warming.get_warm_choice(admin, "woocommerce", "customers")
    assert chosen.every_minutes == 20
    events, _ = services.activity.list_activity(admin, limit=1)
    assert events[0].action == "warm"

    at.radio(key=f"warm_how_{suffix}").set_value("Every hour")
    at.button(key="save_warm").click().run()
    assert services.warming.get_warm_choice(admin, "woocommerce", "customers").every_minutes == 60

    for role in ("editor", "viewer"):
        seen = open_page("selective_sync", role)
        assert not any(b.key == "save_warm" for b in seen.button)
        assert not any(r.key == f"warm_how_{suffix}" for r in seen.radio)
        assert "Workers refresh this preview ahead of time: **every hour**" in texts(seen)
        assert "Admins choose which previews are kept warm" in texts(seen)


def test_a_stopped_warming_says_why_and_an_admin_switches_it_on_again(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    admin = ctx("admin")
    services.warming.set_warm_choice(admin, "woocommerce", "customers", 15)
    woo = services.warming.get_warm_choice(admin, "woocommerce", "customers")
    scheduler = services.accounts.scheduler(admin.org_id)
    refused = AuthError("The store refused the connector's keys (Consumer key is invalid).")
    at_time = datetime(2026, 11, 30, 9, 5, tzinfo=UTC)
    services.warming.stop_after_failure(scheduler, woo.connector_id, "customers", refused, at_time)

    for page in ("selective_sync", "preview"):
        seen = open_page(page, "viewer")
        assert not seen.exception
        (warning,) = [w.value for w in seen.warning if "Keeping this preview warm" in w.value]
        assert "stopped on Nov 30, 2026" in warning
        assert "Consumer key is invalid" in warning
        assert "Fix the connector's credentials" in warning and "switch it on again" in warning
        assert not any(b.key == "resume_warm" for b in seen.button)

    at = open_page("selective_sync", "admin")
    at.button(key="resume_warm").click().run()
    assert not at.exception
    assert not services.warming.get_warm_choice(admin, "woocommerce", "customers").stopped
    assert not any("Keeping this preview warm" in w.value for w in at.warning)
    assert services.warming.get_warm_choice(admin, "woocommerce", "customers").every_minutes == 15
