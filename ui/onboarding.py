"""What a new administrator sees right after the first-run setup."""

from __future__ import annotations

import streamlit as st

from core.services.context import UserContext
from ui import state
from ui.demo import load_demo_button
from ui.nav import page_path


def render_onboarding(ctx: UserContext) -> None:
    """Offer demo data, then lead to the preview (or to the connectors)."""
    st.title(f"🎉 {ctx.org_name} is ready")
    st.write(
        f"You are signed in as **{ctx.name}**, the organization's administrator. "
        "Load the demo stores to try Sync Preview right away, or connect your own "
        "WooCommerce store or Odoo on the Connectors screen."
    )
    loaded = load_demo_button(ctx)
    c1, c2 = st.columns(2)
    if c1.button(
        "🔍 Open the preview", key="open_preview", type="primary" if loaded else "secondary"
    ):
        state.set_onboarding(False)
        st.switch_page(page_path("pages/preview.py"))
    if c2.button("🔌 Set up my own connectors", key="open_connectors"):
        state.set_onboarding(False)
        st.switch_page(page_path("pages/connectors.py"))
