"""Every session-state key the dashboard uses, with typed accessors.

Streamlit-authenticator owns `authentication_status`, `username`, `name`, `logout` (and a few
more); the keys here are ours. Widget keys live with their widgets in the pages.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import streamlit as st

from core.services.actors import UserContext
from ui import format as fmt

VIEWED = "sp_viewed_snapshots"
FLASH = "sp_flash"
PAGE_OFFSETS = "sp_page_offsets"
PREVIEW_KIND = "sp_preview_kind"
SELECTIVE_DRAFTS = "sp_selective_drafts"
KIND_TABS = "preview_kind_tabs"  # the widget's own key
FOLLOWED_JOBS = "sp_followed_jobs"
FAILED_PREVIEWS = "sp_failed_previews"
DEMO_JOB = "sp_demo_job"
GATE_USER = "sp_gate_user"


def _get(key: str, default: Any) -> Any:
    return st.session_state.setdefault(key, default)


# --- authentication (the library's keys, read only) ----------------------------------------


def authenticated_username() -> str | None:
    """The signed-in user's login key (``"<org id>/<username>"``; a bare username from an
    older session), or None (streamlit-authenticator's state)."""
    if st.session_state.get("authentication_status") is True:
        name = st.session_state.get("username")
        return str(name) if name else None
    return None


def sign_in(login_key: str, name: str) -> None:
    """Mark this session signed in as the user with this login key (``"<org id>/<name>"``);
    the library's cookie, when written next, holds the same key."""
    st.session_state["authentication_status"] = True
    st.session_state["username"] = login_key
    st.session_state["name"] = name
    st.session_state["logout"] = None


def pass_gate(ctx: UserContext) -> None:
    """The app's gate let ``ctx`` in on this run: the page's guard takes it instead of reading
    the account again (``take_gate_user``)."""
    st.session_state[GATE_USER] = ctx


def take_gate_user() -> UserContext | None:
    """The user the app's gate let in on this run, once (None when the page runs without the
    gate: a deep link on a fresh server)."""
    ctx = st.session_state.pop(GATE_USER, None)
    return ctx if isinstance(ctx, UserContext) else None


def sign_out_locally() -> None:
    """Forget the signed-in user of this session (a deactivated account)."""
    for key in ("authentication_status", "username", "name"):
        st.session_state[key] = None


# --- our keys -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewed:
    """The snapshot this session last opened for one (connector, entity), and how it was
    served."""

    snapshot_id: int
    cache_hit: bool


def viewed(connector_id: int, entity_type: str) -> Viewed | None:
    value = _get(VIEWED, {}).get(f"{connector_id}/{entity_type}")
    return value if isinstance(value, Viewed) else None


def set_viewed(connector_id: int, entity_type: str, snapshot_id: int, cache_hit: bool) -> None:
    _get(VIEWED, {})[f"{connector_id}/{entity_type}"] = Viewed(snapshot_id, cache_hit)


def page_offset(table: str) -> int:
    """The first row shown by a paged table (0 when new)."""
    return int(_get(PAGE_OFFSETS, {}).get(table, 0))


def set_page_offset(table: str, offset: int) -> None:
    _get(PAGE_OFFSETS, {})[table] = max(0, int(offset))


def kind_tabs(kinds: tuple[str, ...]) -> str:
    """The key of the Preview's tabs (of ``kinds``, in this order), opened on the kind this
    session chose last: Streamlit forgets a widget's state on a run that does not draw it
    (another page), ours is kept."""
    if KIND_TABS not in st.session_state:
        chosen = _get(PREVIEW_KIND, kinds[0])
        st.session_state[KIND_TABS] = fmt.kind_title(chosen if chosen in kinds else kinds[0])
    return KIND_TABS


def remember_kind(kinds: tuple[str, ...]) -> None:
    """The tabs' callback: keep the kind the user opened."""
    label = st.session_state.get(KIND_TABS)
    for kind in kinds:
        if label == fmt.kind_title(kind):
            st.session_state[PREVIEW_KIND] = kind


# --- selective sync: choices not saved yet ----------------------------------------------------


def selective_drafts() -> dict[tuple[int, str], dict[str, bool]]:
    """The Selective-sync choices changed but not saved, per (connector id, entity): kept
    while the user looks at another one (Streamlit forgets the state of widgets it does not
    draw)."""
    drafts: dict[tuple[int, str], dict[str, bool]] = _get(SELECTIVE_DRAFTS, {})
    return drafts


def keep_selective_choice(connector_id: int, entity_type: str, name: str, widget_key: str) -> None:
    """A checkbox's callback: remember its new value as a draft."""
    draft = selective_drafts().setdefault((connector_id, entity_type), {})
    draft[name] = bool(st.session_state.get(widget_key))


def drop_selective_draft(connector_id: int, entity_type: str) -> None:
    """Forget the draft of one (connector, entity), once saved."""
    selective_drafts().pop((connector_id, entity_type), None)


FLASH_SECONDS = 3.0


def flash(kind: str, message: str) -> None:
    """A message for the next runs (after an action that reruns the script).

    It is shown on every run of the next few seconds, not just once: components (the
    login cookie) may rerun the script by themselves right after the action.
    """
    st.session_state[FLASH] = (kind, message, time.monotonic() + FLASH_SECONDS)


def pop_flash() -> tuple[str, str] | None:
    """The pending message (kind, text), or None once it has been shown long enough."""
    value = st.session_state.get(FLASH)
    if not isinstance(value, tuple):
        return None
    kind, message, until = value
    if time.monotonic() > until:
        st.session_state.pop(FLASH, None)
    return kind, message


def followed_job(connector_id: int, entity_type: str) -> int | None:
    """The refresh job this session saw running for the preview (to notice it ended)."""
    followed: dict[tuple[int, str], int] = _get(FOLLOWED_JOBS, {})
    return followed.get((connector_id, entity_type))


def follow_job(connector_id: int, entity_type: str, job_id: int | None) -> None:
    """Remember (or forget, with None) the refresh job running for the preview."""
    followed: dict[tuple[int, str], int] = _get(FOLLOWED_JOBS, {})
    if job_id is None:
        followed.pop((connector_id, entity_type), None)
    else:
        followed[(connector_id, entity_type)] = job_id


def failed_preview(connector_id: int, entity_type: str) -> str | None:
    """Why the preview's last computation this session followed failed (so that the page does
    not queue it again by itself, in a loop); None when it did not."""
    failed: dict[tuple[int, str], str] = _get(FAILED_PREVIEWS, {})
    return failed.get((connector_id, entity_type))


def set_failed_preview(connector_id: int, entity_type: str, error: str | None) -> None:
    """Remember (or forget, with None) that the preview's computation failed."""
    failed: dict[tuple[int, str], str] = _get(FAILED_PREVIEWS, {})
    if error is None:
        failed.pop((connector_id, entity_type), None)
    else:
        failed[(connector_id, entity_type)] = error


def demo_job() -> int | None:
    """The demo load this session started or saw running (to say how it ended)."""
    value = st.session_state.get(DEMO_JOB)
    return value if isinstance(value, int) else None


def set_demo_job(job_id: int | None) -> None:
    """Follow (or stop following, with None) a demo load."""
    if job_id is None:
        st.session_state.pop(DEMO_JOB, None)
    else:
        st.session_state[DEMO_JOB] = job_id


# --- applying a sync: records left out by hand, the confirmation, the run in progress --------

EXCLUDED = "sp_apply_excluded"
EXCLUDED_VERSION = "sp_apply_excluded_version"
CONFIRM_APPLY = "sp_confirm_apply"
ACTIVE_RUNS = "sp_active_runs"
CONFIRM_UNDO = "sp_confirm_undo"


def excluded(connector_id: int, entity_type: str) -> set[str]:
    """The external ids this session unticked for (connector, entity): left out of an apply;
    kept across reruns, refreshes and visits to other pages."""
    chosen: dict[tuple[int, str], set[str]] = _get(EXCLUDED, {})
    return chosen.setdefault((connector_id, entity_type), set())


def ticks_version(connector_id: int, entity_type: str) -> int:
    """Bumped when the ticks are reset, so that the tables' editors start afresh."""
    return int(_get(EXCLUDED_VERSION, {}).get((connector_id, entity_type), 0))


def keep_ticks(widget_key: str, connector_id: int, entity_type: str, ids: list[str]) -> None:
    """A record table's callback: its "Sync" ticks (by row of the page) into the set of
    records left out."""
    edits = st.session_state.get(widget_key) or {}
    left_out = excluded(connector_id, entity_type)
    for row, changed in (edits.get("edited_rows") or {}).items():
        if "Sync" not in changed or int(row) >= len(ids):
            continue
        if changed["Sync"]:
            left_out.discard(ids[int(row)])
        else:
            left_out.add(ids[int(row)])


def set_ticked(connector_id: int, entity_type: str, external_id: str, widget_key: str) -> None:
    """A single record's "Sync this record" checkbox callback."""
    left_out = excluded(connector_id, entity_type)
    if st.session_state.get(widget_key):
        left_out.discard(external_id)
    else:
        left_out.add(external_id)


def tick_all(connector_id: int, entity_type: str) -> None:
    """Include every record again."""
    excluded(connector_id, entity_type).clear()
    versions: dict[tuple[int, str], int] = _get(EXCLUDED_VERSION, {})
    versions[(connector_id, entity_type)] = versions.get((connector_id, entity_type), 0) + 1


def confirming_apply() -> tuple[int, str] | None:
    value = st.session_state.get(CONFIRM_APPLY)
    return value if isinstance(value, tuple) else None


def ask_apply(connector_id: int, entity_type: str) -> None:
    st.session_state[CONFIRM_APPLY] = (connector_id, entity_type)


def cancel_apply() -> None:
    st.session_state[CONFIRM_APPLY] = None


def active_run(connector_id: int, entity_type: str) -> int | None:
    """The apply run this session started for (connector, entity) and still follows."""
    value = _get(ACTIVE_RUNS, {}).get((connector_id, entity_type))
    return int(value) if isinstance(value, int) else None


def set_active_run(connector_id: int, entity_type: str, run_id: int | None) -> None:
    _get(ACTIVE_RUNS, {})[(connector_id, entity_type)] = run_id


def confirming_undo() -> int | None:
    value = st.session_state.get(CONFIRM_UNDO)
    return value if isinstance(value, int) else None


def ask_undo(run_id: int | None) -> None:
    st.session_state[CONFIRM_UNDO] = run_id
