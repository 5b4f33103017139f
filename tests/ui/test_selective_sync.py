"""The Selective sync screen: what it would include, saving (editor+), read-only for viewers."""

from __future__ import annotations

from collections.abc import Callable

from core.bootstrap import Services
from core.services.actors import UserContext
from tests.ui.appkit import open_page, texts


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
