"""What the screens and commands may list: the sources (from the registry, ``core.sources``),
the entities and the kinds of change. Entry points read them here, not from the engine or
the registry, so that they depend on the services alone."""

from __future__ import annotations

from core.delta import CHANGE_KINDS, ENTITY_TYPES
from core.sources import SourceOption, SourceSpec, find, get, keys, specs

__all__ = [
    "CHANGE_KINDS",
    "ENTITY_TYPES",
    "SourceOption",
    "SourceSpec",
    "find",
    "get",
    "keys",
    "specs",
]
