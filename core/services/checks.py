"""What a caller may name: a source and an entity, refused in the words of docs/api.md.

The sources are those of the registry (`core.sources`): a registered source is accepted
everywhere without a change here.
"""

from __future__ import annotations

from core.sources import check_entity_type, check_types
from core.sources import get as _get_source

__all__ = ["check_entity_type", "check_sync_type", "check_types"]


def check_sync_type(sync_type: str) -> None:
    """Refuse a source the registry does not know."""
    _get_source(sync_type)
