"""The connector picker of the Preview and Selective sync screens: the organization's
connectors grouped by source ("🛒 WooCommerce — Acme live shop"), on the one the user picked
last (kept in the database, so the same after signing out or in another browser)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from core.services.actors import UserContext
from core.services.connectors import ConnectorView
from ui import format as fmt
from ui.services import get_services


def connector_label(connector: ConnectorView) -> str:
    """'🛒 WooCommerce — Acme live shop'."""
    return f"{fmt.source_title(connector.sync_type)} — {connector.name}"


def picker_order(connectors: Sequence[ConnectorView]) -> list[ConnectorView]:
    """Grouped by source in the registry's order; in each, the default first, then as added."""
    return sorted(connectors, key=lambda c: (fmt.source_rank(c.sync_type), not c.is_default, c.id))


def _remember(user: UserContext, key: str) -> None:
    get_services().preferences.remember_connector(user, int(st.session_state[key]))


def pick_connector(
    user: UserContext,
    connectors: Sequence[ConnectorView],
    *,
    key: str,
    where: Any = st,
) -> ConnectorView:
    """A select box of ``connectors`` (at least one) in ``where``; a choice is remembered for
    ``user``. It opens on the user's last choice, else on the first source's default."""
    ordered = picker_order(connectors)
    by_id = {c.id: c for c in ordered}
    if st.session_state.get(key) not in by_id:
        remembered = get_services().preferences.connector(user)
        st.session_state[key] = remembered if remembered in by_id else ordered[0].id
    chosen = where.selectbox(
        "Connector",
        list(by_id),
        format_func=lambda cid: connector_label(by_id[cid]),
        key=key,
        on_change=_remember,
        args=(user, key),
    )
    return by_id[int(chosen)]
