"""What a caller may name: a source and an entity, refused in the words of docs/api.md."""

from __future__ import annotations

from core.delta import ENTITY_TYPES, EXTERNAL_SYNC_TYPES
from core.errors import InvalidRequest


def check_types(sync_type: str, entity_type: str) -> None:
    """Refuse an unknown source or entity."""
    check_sync_type(sync_type)
    check_entity_type(entity_type)


def check_sync_type(sync_type: str) -> None:
    if sync_type not in EXTERNAL_SYNC_TYPES:
        raise InvalidRequest(f"Invalid sync_type. Must be one of: {', '.join(EXTERNAL_SYNC_TYPES)}")


def check_entity_type(entity_type: str) -> None:
    if entity_type not in ENTITY_TYPES:
        raise InvalidRequest(f"Invalid entity_type. Must be one of: {', '.join(ENTITY_TYPES)}")
