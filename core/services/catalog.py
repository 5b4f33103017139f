"""What the screens and commands may list: the sources (from the registry, ``core.sources``),
the entities and the kinds of change. Entry points read them here, not from the engine or
the registry, so that they depend on the services alone."""

from __future__ import annotations

from collections.abc import Mapping

from core.delta import CHANGE_KINDS, ENTITY_TYPES, FIELD_TYPES
from core.sources import CredentialField, SourceOption, SourceSpec, find, get, keys, specs

__all__ = [
    "CHANGE_KINDS",
    "CredentialField",
    "ENTITY_TYPES",
    "SourceOption",
    "SourceSpec",
    "find",
    "get",
    "keys",
    "field_types",
    "specs",
    "word_for",
]


def field_types(entity_type: str) -> Mapping[str, str]:
    """The entity's comparable fields and their types ("money", "timestamp", "lines", ...),
    in the order records list them."""
    return FIELD_TYPES[entity_type]


def word_for(sync_type: str, entity_type: str, field: str, code: str) -> str | None:
    """The word people read for a stored code ("sale" -> "Sales order"), or None. A code
    the source does not use (a local record's, written in another source's terms) reads as
    the first other source that uses it names it."""
    spec = find(sync_type)
    own = spec.word_for(entity_type, field, code) if spec is not None else None
    if own is not None:
        return own
    return next(
        (w for s in specs() if (w := s.word_for(entity_type, field, code)) is not None), None
    )
