"""Text that people type is shown as text: a name like ``**bold** [click](…)`` never renders
as bold text or a link, wherever it appears (sidebar, headings, captions, messages).

The screen's Markdown is rendered here by a CommonMark renderer, the language Streamlit's
Markdown follows; the browser test checks the real page too.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from core.bootstrap import Services
from core.db.models import Organization, User
from core.db.tenancy import system_session, tenant_session
from core.services.actors import UserContext
from tests.ui.appkit import open_page, shown

TYPED = "**bold** [click](https://evil.example) _it_ :red[x] $m$"
RENDER = MarkdownIt("commonmark").enable("strikethrough")


def bodies(at: AppTest) -> list[str]:
    """Every Markdown text on the screen (main area and sidebar)."""
    found: list[str] = []
    for kind in ("markdown", "caption", "info", "success", "warning", "error"):
        found.extend(str(el.value) for el in getattr(at, kind))
        found.extend(str(el.value) for el in getattr(at.sidebar, kind))
    return found


def assert_shown_as_typed(at: AppTest, typed: str = TYPED) -> None:
    where = [b for b in bodies(at) if "bold" in b]
    assert where, "the typed text is on the screen"
    for body in where:
        h = RENDER.render(body)
        assert "<strong>bold" not in h and "<a " not in h and "<em>it" not in h, h
    assert any(typed in shown(b) for b in where), [shown(b) for b in where]


@pytest.fixture
def typed_names(services: Services, ctx: Callable[[str], UserContext]) -> None:
    """The organization and the viewer are named with Markdown in their names."""
    viewer = ctx("viewer")
    with system_session(services.sessions) as s:
        s.get_one(Organization, viewer.org_id).name = f"Org {TYPED}"
    with tenant_session(services.sessions, viewer.org_id) as s:
        s.get_one(User, viewer.user_id).name = f"Vera {TYPED}"


def test_names_in_the_sidebar_are_text(typed_names: None) -> None:
    at = open_page("preview", "viewer")
    sidebar = [str(m.value) for m in [*at.sidebar.markdown, *at.sidebar.caption]]
    assert any(f"Org {TYPED}" in shown(b) for b in sidebar)
    assert any(f"Vera {TYPED}" in shown(b) for b in sidebar)
    for body in sidebar:
        h = RENDER.render(body)
        assert "<a " not in h and "<strong>bold" not in h, h


def test_a_connector_name_is_text_on_the_connectors_screen(
    services: Services, ctx: Callable[[str], UserContext]
) -> None:
    at = open_page("connectors", "admin")
    form = [t for t in at.text_input if t.label in ("Name", "Address (URL)")][-2:]
    form[0].input(TYPED)
    form[1].input("https://shop.example.com")
    at.text_input(key="new_consumer_key").input("ck_live_1234567890")
    at.text_input(key="new_consumer_secret").input("cs_live_abcdefghij")
    at.button(key="add_connector_submit").click().run()
    assert not at.exception
    assert any(c.name == TYPED for c in services.connectors.list(ctx("admin")))
    assert_shown_as_typed(at)  # the list's heading and the "was added" message


def test_an_error_quoting_typed_text_shows_it_as_text(services: Services) -> None:
    at = open_page("users", "admin")
    fields = {t.label: t for t in at.text_input}
    fields["Username"].input("jane")
    fields["Full name"].input("Jane")
    fields["E-mail"].input(TYPED)
    fields["Password (at least 8 characters)"].input("password123")
    at.button(key="add_user_submit").click().run()
    assert not at.exception
    errors = [RENDER.render(str(e.value)) for e in at.error]
    assert errors and "<a " not in errors[0] and "<strong>" not in errors[0], errors
