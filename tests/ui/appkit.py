"""Helpers for the AppTest tests: open the app or a page as a seeded user, read the screen."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from ui.format import WORD_JOINER

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
ENTRY = str(Path(__file__).with_name("app_entry.py"))
PASSWORD = "secret-pass-1"
USERS = {"admin": "ada", "editor": "eddie", "viewer": "vera"}


def open_app(
    username: str | None = None, *, script: str = ENTRY, session: dict[str, Any] | None = None
) -> AppTest:
    """The app, signed in as ``username`` (session state, as after a login) or anonymous;
    ``session`` sets more session state first (what the user chose on earlier runs)."""
    at = AppTest.from_file(script, default_timeout=60)
    for key, value in (session or {}).items():
        at.session_state[key] = value
    if username:
        at.session_state["authentication_status"] = True
        at.session_state["username"] = username
        at.session_state["name"] = username.title()
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(page: str, role: str | None, session: dict[str, Any] | None = None) -> AppTest:
    """``pages/<page>.py`` opened through the app by the seeded user with ``role``."""
    at = open_app(USERS[role] if role else None, session=session)
    at.switch_page(str(ROOT / "pages" / f"{page}.py")).run()
    assert not at.exception, at.exception
    return at


def deep_link(page: str, username: str | None = None) -> AppTest:
    """``pages/<page>.py`` run on its own, as a first request to a fresh server runs it.

    With the real app.py next to pages/, AppTest runs in Streamlit's legacy multipage mode:
    after the first run, the page script runs without app.py (the security trap).
    """
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()  # anonymous: registers every page (hidden)
    if username:
        at.session_state["authentication_status"] = True
        at.session_state["username"] = username
        at.session_state["name"] = username.title()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Everything written on the screen (markdown, captions, titles, alerts), as one text."""
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "success",
        "warning",
        "error",
        "text",
    ):
        parts.extend(str(el.value) for el in getattr(at, kind))
    parts.extend(str(m.label) + " " + str(m.value) for m in at.metric)
    return "\n".join(parts)


_RENDER = MarkdownIt("commonmark").enable("strikethrough")


def shown(markdown: str) -> str:
    """What a Markdown text reads as on screen (rendered by CommonMark, tags and the
    invisible word joiners that keep addresses from becoming links removed)."""
    text = html.unescape(re.sub(r"<[^>]+>", "", _RENDER.render(markdown))).strip()
    return text.replace(WORD_JOINER, "")


def errors(at: AppTest) -> str:
    """The error messages on the screen, as they read."""
    return " ".join(shown(str(e.value)) for e in at.error)
