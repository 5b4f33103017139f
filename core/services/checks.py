"""What a caller may name: a source and an entity, refused in the words of docs/api.md.

The sources are those of the registry (`core.sources`): a registered source is accepted
everywhere without a change here.
"""

from __future__ import annotations

from core.sources import check_entity_type, check_types
from core.sources import get as _get_source

__all__ = ["check_entity_type", "check_named", "check_sync_type", "check_types"]


def check_sync_type(sync_type: str) -> None:
    """Refuse a source the registry does not know."""
    _get_source(sync_type)


def check_named(sync_type: str | None, entity_type: str) -> None:
    """Refuse an unknown entity, and an unknown source when one is named (a caller that names
    a connector may leave the source out: it is the connector's)."""
    if sync_type is not None:
        check_sync_type(sync_type)
    check_entity_type(entity_type)
