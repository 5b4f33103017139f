"""Connectors to external systems: one package per source, shared HTTP plumbing beside them.

Each source is a package here (``woocommerce/``, ``odoo/``) holding its ``SPEC`` (see
``core.sources``), its record mappings, its wire schema and its ``connector`` (the HTTP
client). ``http``, ``pool`` and ``redact`` are shared by every connector. ``build_connector``
builds the connector of any registered source.
"""

from __future__ import annotations

from core import sources
from core.connectors.redact import protect
from core.errors import ConfigError
from core.sources import (
    Connector,
    ConnectorConfig,
    FetchProgress,
    ProgressCallback,
    ReadScope,
    read_scope,
)

__all__ = [
    "Connector",
    "ConnectorConfig",
    "FetchProgress",
    "ProgressCallback",
    "ReadScope",
    "build_connector",
    "read_scope",
]


def build_connector(
    config: ConnectorConfig,
    *,
    timeout: float = 30.0,
    deadline: float | None = None,
    concurrency: int = 6,
) -> Connector:
    """Build the connector for `config.sync_type`; `deadline` is a time.monotonic() value.

    The source's secret credentials are registered first, so that no log line shows them.
    """
    spec = sources.find(config.sync_type)
    if spec is None:
        raise ConfigError(
            f"Unknown connector type {config.sync_type!r}; expected one of "
            f"{', '.join(sources.keys())}."
        )
    protect(spec.secrets_of(config.credentials))
    return spec.connector(config, timeout=timeout, deadline=deadline, concurrency=concurrency)
