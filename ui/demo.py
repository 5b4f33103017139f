"""The "Load demo data" action, shown after setup and on the Connectors screen."""

from __future__ import annotations

import streamlit as st

from core.errors import SyncPreviewError
from core.services.actors import UserContext
from ui import format as fmt
from ui import state
from ui.services import get_services

#: DemoService.load reports one step per source and entity.
DEMO_STEPS = 6


def load_demo_button(ctx: UserContext, *, key: str = "load_demo") -> bool:
    """A button that loads the demo stores with a progress bar; True once loaded.

    The caller reruns the script then; the result message is flashed on the next run.
    """
    if not st.button("🎁 Load demo data", key=key, type="primary"):
        return False
    bar = st.progress(0.0, text="Starting the demo stores…")
    done = 0

    def step(message: str) -> None:
        nonlocal done
        done += 1
        bar.progress(min(done / DEMO_STEPS, 1.0), text=message)

    try:
        loaded = get_services().demo.load(ctx, progress=step)
    except SyncPreviewError as err:
        bar.empty()
        st.error(fmt.md(err))
        return False
    bar.empty()
    total = sum(loaded.values())
    message = (
        f"🎁 Demo data loaded: two demo stores (WooCommerce and Odoo) and {total:,} local "
        "records that differ from them a little, so the preview has something to show."
    )
    state.flash("success", message)  # shown by the page after the caller's rerun
    return True
