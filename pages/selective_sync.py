"""Selective sync: which kinds of change a sync from one connector of one entity may include."""

from dataclasses import replace
from datetime import UTC, datetime

import streamlit as st

from core.errors import SyncPreviewError
from ui import format as fmt
from ui.auth import require_user
from ui.connectors import pick_connector
from ui.preview import browser_zone
from ui.services import get_services

user = require_user()
services = get_services()
tz = browser_zone()

st.title("✅ Selective sync")
st.caption(
    "Choose which kinds of change a sync may apply, per connector and entity. "
    "The counts come from the latest preview."
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
choice = replace(
    saved,
    include_new=st.checkbox(
        "🆕 Include new records",
        value=saved.include_new,
        key=f"inc_new_{suffix}",
        disabled=not editable,
    ),
    include_updated=st.checkbox(
        "✏️ Include updated records",
        value=saved.include_updated,
        key=f"inc_updated_{suffix}",
        disabled=not editable,
    ),
    include_deleted=st.checkbox(
        "🗑️ Include deleted records",
        value=saved.include_deleted,
        key=f"inc_deleted_{suffix}",
        disabled=not editable,
    ),
)

preview = services.previews.latest(user, connector.sync_type, entity_type, connector=connector.id)
if preview is None:
    st.info(
        f"There is no preview of {connector.name}'s "
        f"{fmt.ENTITY_LABEL[entity_type].lower()} yet; open it on the Preview screen."
    )
else:
    included = choice.included_counts(preview.counts)
    st.markdown(
        f"**With these settings a sync would apply {sum(included.values()):,} changes** "
        f"(preview computed {fmt.ago(preview.computed_at, datetime.now(UTC))}):"
    )
    for column, kind in zip(st.columns(3), fmt.KINDS, strict=True):
        column.metric(
            f"{fmt.KIND_ICON[kind]} {fmt.KIND_LABEL[kind]}",
            f"{included[kind]:,}",
            help=f"{preview.counts.get(kind, 0):,} in the preview",
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
            st.error(str(err))
        else:
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
                f"✅ Saved. A sync of {entity_type} from {connector.name} will include {what}."
            )
else:
    st.caption("👀 You can see these settings; editors and admins can change them.")

if saved.updated_at is not None:
    st.caption(
        f"Last saved by **{saved.updated_by or 'an operator'}** on "
        f"{fmt.date_time(saved.updated_at, tz)}."
    )
else:
    st.caption("Not saved yet: these are the defaults (new and updated records, no deletions).")
