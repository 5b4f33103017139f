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
