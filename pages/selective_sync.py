"""Selective sync: which kinds of change a sync from one connector of one entity may include."""

from dataclasses import replace
from datetime import UTC, datetime

import streamlit as st

from core.errors import SyncPreviewError
from ui import format as fmt
from ui import state
from ui.auth import require_user
from ui.browser import locality
from ui.connectors import pick_connector
from ui.services import get_services
from ui.warming import show_stop

user = require_user()
services = get_services()
loc = locality()

st.title("✅ Selective sync")
st.caption(
    "Choose which kinds of change a sync may apply, per connector and entity. "
    "The counts come from the latest preview; Apply on the Preview writes the kinds chosen here."
)

connectors = services.connectors.list(user)
if not connectors:
    st.info(
        "Settings belong to a connector (a sync is from one store), and there is none yet: "
        "an admin can add one on the Connectors page."
    )
    st.stop()
pick_source, pick_entity = st.columns(2)
connector = pick_connector(user, connectors, key="sel_connector", where=pick_source)
entity_type = pick_entity.selectbox(
    "Entity", fmt.ENTITY_TYPES, format_func=fmt.ENTITY_LABEL.__getitem__, key="sel_entity"
)

saved = services.selective.get_selective_config(
    user, connector.sync_type, entity_type, connector=connector.id
)
editable = user.can("editor")
suffix = f"{connector.id}_{entity_type}"
draft = state.selective_drafts().get((connector.id, entity_type), {})


def include_box(label: str, kind: str) -> bool:
    """One kind's checkbox, on its unsaved value when the user changed it and looked away."""
    name, key = f"include_{kind}", f"inc_{kind}_{suffix}"
    return st.checkbox(
        label,
        value=draft.get(name, getattr(saved, name)),
        key=key,
        disabled=not editable,
        on_change=state.keep_selective_choice,
        args=(connector.id, entity_type, name, key),
    )


def unsaved_elsewhere() -> list[str]:
    """The other (connector, entity) pairs whose choices differ from the saved ones
    ("Demo Odoo · Products")."""
    names = {c.id: c for c in connectors}
    out = []
    for (connector_id, entity), choices in state.selective_drafts().items():
        other = names.get(connector_id)
        if other is None or (connector_id, entity) == (connector.id, entity_type):
            continue
        stored = services.selective.get_selective_config(
            user, other.sync_type, entity, connector=connector_id
        )
        if any(getattr(stored, name) != value for name, value in choices.items()):
            out.append(f"{fmt.md(other.name)} · {fmt.ENTITY_LABEL.get(entity, entity)}")
    return out


choice = replace(
    saved,
    include_new=include_box("🆕 Include new records", "new"),
    include_updated=include_box("✏️ Include updated records", "updated"),
    include_deleted=include_box("🗑️ Include deleted records", "deleted"),
)
notice = st.empty()  # filled at the end: whether these choices are saved, after any Save
elsewhere = unsaved_elsewhere()
if elsewhere:
    st.warning(
        "⚠️ Unsaved choices for "
        + ", ".join(f"**{where}**" for where in elsewhere)
        + ": they are kept while you look here; open them again and **Save**, or they are not "
        "applied."
    )

preview = services.previews.latest(user, connector.sync_type, entity_type, connector=connector.id)
if preview is None:
    st.info(
        f"There is no preview of {fmt.md(connector.name)}'s "
        f"{fmt.ENTITY_LABEL[entity_type].lower()} yet; open it on the Preview screen."
    )
else:
    included = choice.included_counts(preview.counts)
    total = fmt.number(sum(included.values()), loc)
    st.markdown(
        f"**With these settings a sync would apply {total} changes** "
        f"(preview computed {fmt.ago(preview.computed_at, datetime.now(UTC))}):"
    )
    for column, kind in zip(st.columns(3), fmt.KINDS, strict=True):
        column.metric(
            f"{fmt.KIND_ICON[kind]} {fmt.KIND_LABEL[kind]}",
            fmt.number(included[kind], loc),
            help=f"{fmt.number(preview.counts.get(kind, 0), loc)} in the preview",
            border=True,
        )

if editable:
    if st.button("💾 Save", key="save_selective", type="primary"):
        try:
            saved = services.selective.save_selective_config(
                user,
                connector.sync_type,
                entity_type,
                connector=connector.id,
                include_new=choice.include_new,
                include_updated=choice.include_updated,
                include_deleted=choice.include_deleted,
            )
        except SyncPreviewError as err:
            st.error(fmt.md(err))
        else:
            state.drop_selective_draft(connector.id, entity_type)
            kinds = [
                kind
                for kind, on in (
                    ("new", saved.include_new),
                    ("updated", saved.include_updated),
                    ("deleted", saved.include_deleted),
                )
                if on
            ]
            what = f"{', '.join(kinds)} records" if kinds else "no changes"
            st.success(
                f"✅ Saved. A sync of {entity_type} from {fmt.md(connector.name)} will include "
                f"{what}."
            )
else:
    st.caption("👀 You can see these settings; editors and admins can change them.")

if (choice.include_new, choice.include_updated, choice.include_deleted) != (
    saved.include_new,
    saved.include_updated,
    saved.include_deleted,
):
    notice.info("✏️ These choices are not saved yet: **Save** applies them.")

if saved.updated_at is not None:
    st.caption(
        f"Last saved by **{fmt.md(saved.updated_by or 'an operator')}** on "
        f"{fmt.date_time(saved.updated_at, loc)}."
    )
else:
    st.caption("Not saved yet: these are the defaults (new and updated records, no deletions).")

st.divider()
st.subheader("♨️ Keep this preview warm")
warm = services.warming.get_warm_choice(
    user, connector.sync_type, entity_type, connector=connector.id
)
show_stop(user, warm, loc)
WARM_OFF, WARM_HOURLY, WARM_EVERY = "Off", "Every hour", "Every N minutes"
HOURLY = services.warming.HOURLY
if not user.can("admin"):
    st.markdown(
        f"Workers refresh this preview ahead of time: **{warm.describe()}**."
        if warm.on and not warm.stopped
        else "Workers do not keep this preview warm: it is computed when someone opens it."
    )
    st.caption("👀 Admins choose which previews are kept warm.")
else:
    st.caption(
        "Workers refresh the preview ahead of time, so that users open a cached one instead "
        "of waiting (done by “scheduler”; not counted against the refresh limit)."
    )
    if warm.every_minutes is None:
        current = WARM_OFF
    elif warm.every_minutes == HOURLY:
        current = WARM_HOURLY
    else:
        current = WARM_EVERY
    how = st.radio(
        "How often",
        (WARM_OFF, WARM_HOURLY, WARM_EVERY),
        index=(WARM_OFF, WARM_HOURLY, WARM_EVERY).index(current),
        horizontal=True,
        key=f"warm_how_{suffix}",
    )
    minutes = st.number_input(
        "Minutes",
        min_value=services.warming.MIN_EVERY_MINUTES,
        max_value=services.warming.MAX_EVERY_MINUTES,
        value=warm.every_minutes if current == WARM_EVERY and warm.every_minutes else 15,
        step=5,
        key=f"warm_minutes_{suffix}",
        disabled=how != WARM_EVERY,
    )
    if st.button("💾 Save warming", key="save_warm"):
        every = {WARM_OFF: None, WARM_HOURLY: HOURLY}.get(how, int(minutes))
        try:
            warm = services.warming.set_warm_choice(
                user, connector.sync_type, entity_type, every, connector=connector.id
            )
        except SyncPreviewError as err:
            st.error(fmt.md(err))
        else:
            st.success(
                f"✅ Saved. {fmt.md(connector.name)}'s {entity_type} preview is kept warm: "
                f"{warm.describe()}."
            )
if warm.updated_at is not None:
    st.caption(
        f"Warming last chosen by **{fmt.md(warm.updated_by or 'an operator')}** on "
        f"{fmt.date_time(warm.updated_at, loc)}."
    )
