"""WooCommerce (REST API v3): the source's spec; its client is in ``connector``."""

from __future__ import annotations

from core.connectors.woocommerce.mappings import MAPPINGS
from core.connectors.woocommerce.wire import WIRE_SCHEMAS
from core.sources import Connector, ConnectorConfig, CredentialField, SourceSpec


def _connect(
    config: ConnectorConfig, *, timeout: float, deadline: float | None, concurrency: int
) -> Connector:
    from core.connectors.woocommerce.connector import WooCommerceConnector  # HTTP: on use

    return WooCommerceConnector(config, timeout=timeout, deadline=deadline, concurrency=concurrency)


SPEC = SourceSpec(
    key="woocommerce",
    label="WooCommerce",
    icon="🛒",
    connector=_connect,
    credentials=(
        CredentialField("consumer_key", "Consumer key"),
        CredentialField("consumer_secret", "Consumer secret"),
    ),
    mappings=MAPPINGS,
    wire_schemas=WIRE_SCHEMAS,
    url_example="https://shop.example.com",
    incremental=True,
)
