"""WooCommerce (REST API v3): the source's spec; its client is in ``connector``."""

from __future__ import annotations

from typing import Any

from core.connectors.woocommerce.mappings import MAPPINGS
from core.connectors.woocommerce.wire import WIRE_SCHEMAS
from core.sources import Connector, ConnectorConfig, CredentialField, SourceOption, SourceSpec


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
    options=(
        SourceOption.text(
            "customer_roles",
            "Customer roles",
            default="customer",
            placeholder="customer",
            help="The WordPress roles read as customers, separated by commas (customer, "
            "subscriber, …); “all” reads every user, administrators and shop managers too.",
        ),
        SourceOption.flag(
            "include_guests",
            "Count guest buyers as customers",
            help="Also read the buyers of orders placed without an account, one customer per "
            "billing e-mail (id guest:<e-mail>, status guest).",
        ),
        SourceOption.flag(
            "include_trash",
            "Read orders in the trash",
            help="Orders in WooCommerce's trash are left out unless this is on.",
        ),
        SourceOption.flag(
            "query_string_auth",
            "Send the keys in the query string",
            help="For HTTPS stores behind a web server that drops the Authorization header "
            "(some Apache and CGI set-ups): the keys go as consumer_key and consumer_secret "
            "query parameters instead.",
        ),
    ),
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
