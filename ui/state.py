"""Every session-state key the dashboard uses, with typed accessors.

Streamlit-authenticator owns `authentication_status`, `username`, `name`, `logout` (and a few
more); the keys here are ours. Widget keys live with their widgets in the pages.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import streamlit as st

VIEWED = "sp_viewed_snapshots"
FLASH = "sp_flash"
PAGE_OFFSETS = "sp_page_offsets"


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
