"""Apply on the Preview and the Sync runs view (AppTest): who sees it, what the confirmation
says, the run in Activity."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.bootstrap import Services
from core.services.actors import UserContext
from tests.ui.appkit import open_page, shown, texts


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_only_editors_and_admins_see_apply(role: str, services: Services) -> None:
    at = open_page("preview", role)
    assert not at.exception
    assert any(b.key == "apply" for b in at.button) == (role != "viewer")


def test_the_confirmation_says_what_will_happen(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    editor = ctx("editor")
    snap = services.previews.latest(editor, "woocommerce", "customers")
    assert snap is not None
    at = open_page("preview", "editor")
    at.button(key="apply").click().run()
    assert not at.exception
    sentence = (
        f"will create {snap.counts['new']}, update {snap.counts['updated']}, delete 0 customers "
        "in the built-in store"
    )
    assert sentence in shown(texts(at))
    assert "Left out by the selective settings: deleted records." in shown(texts(at))
    at.button(key="apply_cancel").click().run()
    assert sentence not in shown(texts(at))
    assert services.apply.runs(editor)[1] == 0  # nothing was started


def test_the_sync_runs_tab_lists_a_run_and_a_viewer_cannot_undo(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    editor = ctx("editor")
    run = services.apply.start(editor, "woocommerce", "customers")
    services.apply.execute(editor, run.id)
    for role, can_undo in (("viewer", False), ("editor", True)):
        at = open_page("activity", role, {"activity_tabs": "🔁 Sync runs"})
        assert not at.exception
        assert f"Run {run.id} succeeded: created" in shown(texts(at))
        assert any(b.key == "undo" for b in at.button) == can_undo


def test_the_confirmation_names_your_database_or_says_write_back_is_off(
    services: Services, ctx: Callable[[str], UserContext], tmp_dir
) -> None:
    import sqlite3

    from core.services.local_data import LocalMapping

    shop = tmp_dir / "apply_shop.sqlite"
    conn = sqlite3.connect(shop)
    conn.execute("CREATE TABLE clients (no INTEGER PRIMARY KEY, woo_id TEXT, mail TEXT)")
    conn.commit()
    conn.close()
    admin, editor = ctx("admin"), ctx("editor")
    local = services.local_data
    local.set_database(admin, local.draft_settings(kind="sqlite", database=str(shop)))
    local.save_mapping(
        admin,
        LocalMapping.create(
            "woocommerce",
            "customers",
            table="clients",
            match="id:woo_id",
            columns={"email": "mail"},
        ),
    )
    snap = services.previews.get_preview_snapshot(editor, "woocommerce", "customers")
    assert snap.local is not None and snap.local["kind"] == "database"

    at = open_page("preview", "editor")
    at.button(key="apply").click().run()
    assert not at.exception
    said = shown(texts(at))
    assert "write-back is off" in said and "Connectors › Your database" in said
    assert not any(b.key == "apply_confirm" for b in at.button)

    local.set_write_back(admin, "woocommerce", "customers", enabled=True)
    at = open_page("preview", "editor")
    at.button(key="apply").click().run()
    assert not at.exception
    assert (
        f"will create {snap.counts['new']}, update 0, delete 0 customers in your database "
        "(table clients)"
    ) in shown(texts(at))
    assert services.apply.runs(editor)[1] == 0
