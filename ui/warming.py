"""Always-warm previews on the dashboard: why the scheduler stopped keeping a preview warm
(``core.services.warming``), and, for admins, switching it on again."""

from __future__ import annotations

import streamlit as st

from core.errors import SyncPreviewError
from core.services.actors import UserContext
from core.services.connectors import ConnectorView
from core.services.warming import WarmChoiceView
from ui import format as fmt
from ui.services import get_services


def stopped_text(warm: WarmChoiceView, loc: fmt.Locality, where: str = "") -> str | None:
    """ "Keeping this preview warm stopped on <when>: <reason>. Fix … and switch it on
    again<where>." (None while it is warmed, or off)."""
    if not warm.stopped or warm.stopped_at is None:
        return None
    reason = (warm.stopped_reason or "").strip()
    if reason and not reason.endswith((".", "!", "?")):
        reason += "."
    return (
        f"⛔ Keeping this preview warm stopped on {fmt.date_time(warm.stopped_at, loc)}: "
        f"{fmt.md(reason)} {warm.fix()} and switch it on again{where}."
    )


def _switch_on_again(user: UserContext, warm: WarmChoiceView) -> None:
    try:
        get_services().warming.set_warm_choice(
            user, warm.sync_type, warm.entity_type, warm.every_minutes, connector=warm.connector_id
        )
    except SyncPreviewError as err:
        st.toast(fmt.md(err))


def show_stop(user: UserContext, warm: WarmChoiceView, loc: fmt.Locality) -> None:
    """The stop's reason, and for admins a button that switches the warming on again."""
    text = stopped_text(warm, loc)
    if text is None:
        return
    st.warning(text)
    if user.can("admin"):
        st.button(
            f"▶️ Switch it on again ({warm.describe()})",
            key="resume_warm",
            on_click=_switch_on_again,
            args=(user, warm),
        )


def warming_stop_notice(
    user: UserContext, connector: ConnectorView, entity_type: str, loc: fmt.Locality
) -> None:
    """On the Preview: why this preview is not kept warm any more, when the scheduler
    stopped it (nothing otherwise)."""
    warm = get_services().warming.get_warm_choice(
        user, connector.sync_type, entity_type, connector=connector.id
    )
    text = stopped_text(warm, loc, " on the Selective sync page")
    if text is not None:
        st.warning(text)
