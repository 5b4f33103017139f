"""Following background jobs on the dashboard: start a refresh, show its progress to every
user of the organization (a fragment that polls the job row), cancel it. Pages never compute:
a missing or expired preview is queued for a worker too, and with no worker alive the page
says so (and how to start one)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import streamlit as st

from core.errors import SyncPreviewError
from core.services.actors import UserContext
from core.services.connectors import ConnectorView
from core.services.jobs import JobView
from core.services.previews import PreviewProgress
from ui import format as fmt
from ui import state
from ui.preview import progress_text, show_refusal
from ui.services import get_services

#: How often an open Preview looks at its refresh job (seconds).
POLL_SECONDS = 1.0


def no_worker(what: str) -> str:
    """What the page says while ``what`` waits in the queue and no worker runs."""
    return (
        f"No worker is running, so {what} waits in the queue: start one with "
        "`python -m core worker` (`scripts/run` starts one beside the dashboard). It runs as "
        "soon as a worker starts."
    )


def start_refresh(user: UserContext, connector: ConnectorView, entity_type: str) -> None:
    """Queue a refresh for a worker (or join the one running); returns at once."""
    state.set_failed_preview(connector.id, entity_type, None)  # asked again: queue it again
    try:
        job, created = get_services().previews.enqueue_refresh(
            user, connector.sync_type, entity_type, connector=connector.id
        )
    except SyncPreviewError as err:
        show_refusal(err, refreshing=True)
        return
    state.follow_job(connector.id, entity_type, job.id)
    if not created:
        st.info(f"A refresh started by {job.started_by or 'the operator'} is already running.")


def compute_if_missing(user: UserContext, connector: ConnectorView, entity_type: str) -> None:
    """A missing or expired preview is computed by a worker, never in the page script: queue
    it (or join the refresh running), so that the page follows the job; with no worker alive
    it waits in the queue (``follow_refresh`` says so). Not again by itself after it failed
    for this session (the page offers to try again)."""
    if state.failed_preview(connector.id, entity_type) is not None:
        return
    services = get_services()
    followed = state.followed_job(connector.id, entity_type)
    if followed is not None:  # not queued again while it runs, nor after it failed
        ended = services.jobs.get(user, followed)
        if ended.active:
            return
        if ended.state == "failed":
            state.set_failed_preview(connector.id, entity_type, ended.error or "")
            return
        if ended.state == "cancelled":
            state.set_failed_preview(
                connector.id, entity_type, f"The refresh was cancelled by {ended.cancelled_by}."
            )
            return
    try:
        job = services.previews.enqueue_missing(
            user, connector.sync_type, entity_type, connector=connector.id
        )
    except SyncPreviewError as err:
        show_refusal(err, refreshing=False)
        return
    if job is not None:
        state.follow_job(connector.id, entity_type, job.id)


def job_progress(job: JobView, entity_type: str) -> str:
    """What the progress bar says of a job's phase."""
    if job.state == "queued":
        return "Waiting for a worker…"
    if job.cancel_requested:
        return "Cancelling…"
    detail: dict[str, Any] = dict(job.detail or {})
    p = PreviewProgress(
        job.phase if job.phase in _PHASES else "fetching",  # type: ignore[arg-type]
        job.fraction,
        connector=detail.get("connector"),
        pages_done=int(detail.get("pagesDone") or 0),
        pages_total=detail.get("pagesTotal"),
        records_done=int(detail.get("recordsDone") or 0),
        changes=detail.get("changes"),
    )
    return progress_text(p, entity_type)


_PHASES = ("waiting", "fetching", "reading_local", "comparing", "storing", "done")


def headline(job: JobView, now: datetime) -> str:
    """ "Refreshing — started by alice 40 s ago, 62 %"."""
    who = job.started_by or "the operator"
    return (
        f"Refreshing — started by {fmt.md(who)} {fmt.ago(job.created_at, now)}, {job.fraction:.0%}"
    )


def _cancel(user: UserContext, job_id: int) -> None:
    try:
        get_services().jobs.cancel(user, job_id)
    except SyncPreviewError as err:
        state.flash("error", str(err))


def follow_refresh(user: UserContext, connector: ConnectorView, entity_type: str) -> None:
    """The progress of this preview's refresh, whoever started it, while it runs (a fragment
    that polls the job row); when it ends, the page is run again so that the new preview
    appears. With no refresh running nothing is drawn and nothing polls."""
    services = get_services()
    running = services.previews.running_refresh(
        user, connector.sync_type, entity_type, connector=connector.id
    )
    if running is None and state.followed_job(connector.id, entity_type) is None:
        return

    @st.fragment(run_every=POLL_SECONDS)
    def progress() -> None:
        job = services.previews.running_refresh(
            user, connector.sync_type, entity_type, connector=connector.id
        )
        followed = state.followed_job(connector.id, entity_type)
        if job is None:
            state.follow_job(connector.id, entity_type, None)
            if followed is not None:  # it ended: say how, and show the new preview
                ended = services.jobs.get(user, followed)
                if ended.state == "failed":
                    state.set_failed_preview(connector.id, entity_type, ended.error or "")
                    state.flash("error", f"The refresh failed: {ended.error}")
                elif ended.state == "cancelled":
                    state.flash("warning", f"The refresh was cancelled by {ended.cancelled_by}.")
                elif (ended.result or {}).get("notice"):  # it took over an abandoned refresh
                    state.flash("warning", str((ended.result or {})["notice"]))
                elif ended.state == "succeeded":
                    state.flash("success", f"✅ Preview of {fmt.md(connector.name)} refreshed.")
            st.rerun()
        state.follow_job(connector.id, entity_type, job.id)
        now = datetime.now(UTC)
        with st.container(border=True, key="refresh_job"):
            st.markdown(f"**🔄 {headline(job, now)}**")
            st.progress(min(max(job.fraction, 0.0), 1.0), text=job_progress(job, entity_type))
            if job.state == "queued" and not services.jobs.workers_alive():
                st.warning(no_worker("this preview"), icon="⏸️")
            may_cancel = user.can("editor") or job.started_by == user.log_name
            if may_cancel and not job.cancel_requested:
                st.button(
                    "Cancel refresh", key="cancel_refresh", on_click=_cancel, args=(user, job.id)
                )

    progress()


def jobs_table(user: UserContext, limit: int = 50) -> list[dict[str, Any]]:
    """The organization's recent jobs as table rows."""
    now = datetime.now(UTC)
    rows = []
    for j in get_services().jobs.recent(user, limit):
        took = j.duration_seconds(now)
        rows.append(
            {
                "Started": j.created_at,
                "Job": f"{j.kind} #{j.id}",
                "What": " ".join(
                    x for x in (j.sync_type, fmt.ENTITY_LABEL.get(j.entity_type or "", "")) if x
                ),
                "State": j.state
                + (f" ({j.phase} {j.fraction:.0%})" if j.state == "running" else ""),
                "Duration": "" if took is None else f"{took:.1f} s",
                "By": j.started_by or "operator",
                "Error": j.error or "",
            }
        )
    return rows
