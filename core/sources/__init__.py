"""The sources Sync Preview reads from: one ``SourceSpec`` per external system, in a registry.

A source is an external system (WooCommerce, Odoo, ...). Its ``SourceSpec`` holds all the
rest of the code knows of it: its key (the ``sync_type`` of connectors, previews, the API
and the CLI), the label and icon people read, the credentials a connector takes (and which
are secret), the choices beside them, how to build its connector, how its records map to
canonical records and the wire schema of its JSON pages. Every list, label and check of
sources reads this registry; no other module names a source.

Each built-in source is a package under ``core/connectors/`` that exposes ``SPEC``; the
packages are named in ``BUILT_IN`` and imported on first use. A spec imports only pure
modules (its mappings and wire schema); its connector, which speaks HTTP, is imported when
a connector is built. So the pure engine can ask the registry for a source's record format
(``core.delta.record_format``) without loading HTTP code. ``register`` adds a source from
elsewhere (a test's fixture source). See docs/adding-a-source.md.
"""

from __future__ import annotations

import importlib
import threading
from typing import Final

from core.delta.fields import ENTITY_TYPES
from core.errors import ConfigError, InvalidRequest
from core.sources.connector import (
    Connector,
    ConnectorConfig,
    ConnectorFactory,
    FetchProgress,
    ProgressCallback,
    ReadScope,
    read_scope,
)
from core.sources.spec import CredentialField, SourceOption, SourceSpec, WebhookVerifier

#: The built-in sources, in the order they are shown: packages that expose ``SPEC``.
BUILT_IN: Final = ("core.connectors.woocommerce", "core.connectors.odoo")

_lock = threading.RLock()
_specs: dict[str, SourceSpec] = {}
_built_in_loaded = False

__all__ = [
    "BUILT_IN",
    "Connector",
    "ConnectorConfig",
    "ConnectorFactory",
    "CredentialField",
    "FetchProgress",
    "ProgressCallback",
    "ReadScope",
    "SourceOption",
    "SourceSpec",
    "WebhookVerifier",
    "check_entity_type",
    "check_types",
    "find",
    "get",
    "keys",
    "read_scope",
    "register",
    "specs",
    "unregister",
]


def _load_built_in() -> None:
    global _built_in_loaded
    if _built_in_loaded:
        return
    with _lock:
        if _built_in_loaded:
            return
        for name in BUILT_IN:
            _add(importlib.import_module(name).SPEC)
        _built_in_loaded = True


def _add(spec: SourceSpec) -> None:
    spec.check()
    known = _specs.get(spec.key)
    if known is not None and known is not spec:
        raise ConfigError(f"Two sources have the key {spec.key!r}.")
    _specs[spec.key] = spec


def register(spec: SourceSpec) -> None:
    """Add a source (after the built-in ones); ``ConfigError`` if it is incomplete or taken."""
    _load_built_in()
    with _lock:
        _add(spec)


def unregister(key: str) -> None:
    """Remove a source added with ``register`` (a test's fixture source, when it is done)."""
    _load_built_in()
    with _lock:
        _specs.pop(key, None)


def specs() -> tuple[SourceSpec, ...]:
    """Every source, built-in ones first, in the order they are shown."""
    _load_built_in()
    with _lock:
        return tuple(_specs.values())


def keys() -> tuple[str, ...]:
    """Every source's key (``sync_type``), in the order they are shown."""
    return tuple(spec.key for spec in specs())


def find(key: str) -> SourceSpec | None:
    """The source with this key, or None."""
    _load_built_in()
    with _lock:
        return _specs.get(key)


def get(key: str) -> SourceSpec:
    """The source with this key; ``InvalidRequest`` in the API's words for an unknown one."""
    spec = find(key)
    if spec is None:
        raise InvalidRequest(f"Invalid sync_type. Must be one of: {', '.join(keys())}")
    return spec


def check_entity_type(entity_type: str) -> None:
    """``InvalidRequest`` in the API's words for an entity type no source has."""
    if entity_type not in ENTITY_TYPES:
        raise InvalidRequest(f"Invalid entity_type. Must be one of: {', '.join(ENTITY_TYPES)}")


def check_types(sync_type: str, entity_type: str) -> None:
    """Refuse an unknown source or entity in the API's words (services, CLI, API, stores)."""
    get(sync_type)
    check_entity_type(entity_type)
