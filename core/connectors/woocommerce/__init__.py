"""WooCommerce (REST API v3): the source's spec; its client is in ``connector``."""

from __future__ import annotations

from typing import Any

from core.connectors.woocommerce.mappings import MAPPINGS
from core.connectors.woocommerce.wire import WIRE_SCHEMAS
from core.sources import Connector, ConnectorConfig, CredentialField, SourceSpec


def _connect(config: ConnectorConfig, **limits: Any) -> Connector:
    from core.connectors.woocommerce.connector import (
        WooCommerceConnector,  # HTTP code: loaded on use
    )

    return WooCommerceConnector(config, **limits)


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
    # statuses and product types as WooCommerce's own screens name them
    value_words={
        "orders": {
            "status": {
                "pending": "Pending payment",
                "processing": "Processing",
                "on-hold": "On hold",
                "completed": "Completed",
                "cancelled": "Cancelled",
                "refunded": "Refunded",
                "failed": "Failed",
                "checkout-draft": "Draft",
                "trash": "In the trash",
            }
        },
        "products": {
            "status": {
                "publish": "Published",
                "draft": "Draft",
                "pending": "Pending review",
                "private": "Private",
                "future": "Scheduled",
            },
            "type": {
                "simple": "Simple product",
                "variable": "Variable product",
                "variation": "Variation",
                "grouped": "Grouped product",
                "external": "External product",
            },
        },
    },
)
