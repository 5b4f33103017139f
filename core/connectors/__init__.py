"""Connectors to external systems behind one interface; `build_connector` picks one.

This module is the registry: the only one that knows both concrete connectors.
"""

from __future__ import annotations

import requests

from core.connectors.base import (
    ENTITY_TYPES,
    Connector,
    ConnectorConfig,
    FetchProgress,
    ProgressCallback,
)
from core.errors import ConfigError

SYNC_TYPES = ("woocommerce", "odoo")

__all__ = [
    "ENTITY_TYPES",
    "SYNC_TYPES",
    "Connector",
    "ConnectorConfig",
    "FetchProgress",
    "ProgressCallback",
    "build_connector",
]


def build_connector(
    config: ConnectorConfig,
    *,
    timeout: float = 30.0,
    deadline: float | None = None,
    concurrency: int = 6,
    session: requests.Session | None = None,
) -> Connector:
    """Build the connector for `config.sync_type`; `deadline` is a time.monotonic() value."""
    if config.sync_type == "woocommerce":
        from core.connectors.woocommerce import WooCommerceConnector

        return WooCommerceConnector(
            config, timeout=timeout, deadline=deadline, concurrency=concurrency, session=session
        )
    if config.sync_type == "odoo":
        from core.connectors.odoo import OdooConnector

        return OdooConnector(
            config, timeout=timeout, deadline=deadline, concurrency=concurrency, session=session
        )
    raise ConfigError(
        f"Unknown connector type {config.sync_type!r}; expected one of {', '.join(SYNC_TYPES)}."
    )
