"""The dashboard's pages, and which role sees which."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.services.context import UserContext


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    role: str


PAGES = (
    PageSpec("pages/preview.py", "Preview", "🔍", "viewer"),
    PageSpec("pages/selective_sync.py", "Selective sync", "✅", "viewer"),
    PageSpec("pages/activity.py", "Activity", "📜", "viewer"),
    PageSpec("pages/connectors.py", "Connectors", "🔌", "admin"),
    PageSpec("pages/users.py", "Users", "👥", "admin"),
)


def pages_for(ctx: UserContext | None) -> list[st.Page]:
    """The pages this user may open (every page, hidden, when nobody is signed in)."""
    return [
        st.Page(p.path, title=p.title, icon=p.icon, default=(i == 0))
        for i, p in enumerate(PAGES)
        if ctx is None or ctx.can(p.role)
    ]
