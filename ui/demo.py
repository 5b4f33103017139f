"""The "Load demo data" action, shown after setup and on the Connectors screen.

A worker loads the demo (a "demo" job, ``core.services.demo``); the page queues it and follows
its row, so that a rerun, another page or a closed tab does not stop it, and every admin of
the organization sees it running. When it ends the page runs again: the demo connectors appear
(they are added last, with their local records already there), or the failure is said.
"""

from __future__ import annotations

import streamlit as st

from core.errors import SyncPreviewError
from core.services.actors import UserContext
from core.services.jobs import JobView
from ui import format as fmt
from ui import state
from ui.jobs import POLL_SECONDS, no_worker
from ui.services import get_services


def load_demo_button(ctx: UserContext, *, key: str = "load_demo") -> None:
    """The button that queues the demo's load, or the progress of the load queued or running
    (anyone's in the organization); when it ends, its result is flashed and the page runs
    again."""
    demo_outcome(ctx)
    services = get_services()
    running = services.demo.running(ctx)
    job_id = running.id if running is not None else None
    if job_id is None:
        if not st.button("🎁 Load demo data", key=key, type="primary"):
            return
        try:
            job_id = services.demo.enqueue(ctx).id
        except SyncPreviewError as err:
            st.error(fmt.md(err))
            return
    state.set_demo_job(job_id)
    _follow(ctx, job_id)


def _follow(ctx: UserContext, job_id: int) -> None:
    """The load's progress, read from its job row every ``POLL_SECONDS`` until it ends."""
    services = get_services()

    @st.fragment(run_every=POLL_SECONDS)
    def progress() -> None:
        job = services.jobs.get(ctx, job_id)
        if job.active:
            st.progress(min(max(job.fraction, 0.0), 1.0), text=_step(job))
            if job.state == "queued" and not services.jobs.workers_alive():
                st.warning(no_worker("the demo data"), icon="⏸️")
            return
        st.rerun()  # the whole page: how it ended, the demo connectors and their previews

    progress()


def demo_outcome(ctx: UserContext) -> None:
    """Say how the demo load this session followed ended, once (flashed, and the page runs
    again to show it): it may have ended between two runs of the page, after which the page
    no longer offers the demo (the connectors are there)."""
    job_id = state.demo_job()
    if job_id is None:
        return
    job = get_services().jobs.get(ctx, job_id)
    if job.active:
        return
    state.set_demo_job(None)
    _say_how_it_ended(job)
    st.rerun()


def _step(job: JobView) -> str:
    if job.state == "queued":
        return "Waiting for a worker to load the demo data…"
    message = (job.detail or {}).get("message")
    return str(message) if message else "Starting the demo stores…"


def _say_how_it_ended(job: JobView) -> None:
    if job.state == "succeeded":
        total = int((job.result or {}).get("total") or 0)
        state.flash(
            "success",
            f"🎁 Demo data loaded: two demo stores (WooCommerce and Odoo) and {total:,} local "
            "records that differ from them a little, so the preview has something to show.",
        )
    elif job.state == "cancelled":
        state.flash("warning", f"Loading the demo data was cancelled by {job.cancelled_by}.")
    else:
        state.flash(
            "error",
            f"The demo data could not be loaded: {fmt.md(job.error)} No demo connector was added; "
            "click **Load demo data** to try again.",
        )
