"""The dashboard's pages, and which role sees which."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.services.actors import Role, UserContext


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    role: Role


ROOT = Path(__file__).resolve().parents[1]

PAGES = (
    PageSpec("pages/preview.py", "Preview", "🔍", "viewer"),
    PageSpec("pages/selective_sync.py", "Selective sync", "✅", "viewer"),
    PageSpec("pages/activity.py", "Activity", "📜", "viewer"),
    PageSpec("pages/connectors.py", "Connectors", "🔌", "admin"),
    PageSpec("pages/users.py", "Users", "👥", "admin"),
)


def visible_pages(ctx: UserContext | None) -> list[PageSpec]:
    """The pages this user may open (every page when nobody is signed in: they are hidden)."""
    return [p for p in PAGES if ctx is None or ctx.can(p.role)]


def pages_for(ctx: UserContext | None) -> list[st.Page]:
    """The navigation's pages for this user; the Preview is the default."""
    return [
        st.Page(page_path(p.path), title=p.title, icon=p.icon, default=(i == 0))
        for i, p in enumerate(visible_pages(ctx))
    ]


def page_path(relative: str) -> str:
    """The absolute path of a page script (so that it resolves whatever the entry file)."""
    return str(ROOT / relative)
