"""Odoo (external API: XML-RPC or JSON-2): the source's spec; its client is in ``connector``."""

from __future__ import annotations

from typing import Any

from core.connectors.odoo.mappings import MAPPINGS
from core.sources import Connector, ConnectorConfig, CredentialField, SourceOption, SourceSpec


def _connect(config: ConnectorConfig, **limits: Any) -> Connector:
    from core.connectors.odoo.connector import OdooConnector  # HTTP code: loaded on use

    return OdooConnector(config, **limits)


SPEC = SourceSpec(
    key="odoo",
    label="Odoo",
    icon="🏭",
    connector=_connect,
    credentials=(
        CredentialField("database", "Database", secret=False),
        CredentialField("username", "Username", secret=False),
        CredentialField("password", "Password"),
        CredentialField("api_key", "API key"),
    ),
    mappings=MAPPINGS,
    options=(
        SourceOption(
            "protocol",
            "Protocol",
            {"xmlrpc": "XML-RPC (Odoo 8 and later)", "json2": "JSON-2 API (Odoo 19 and later)"},
            default="xmlrpc",
        ),
        SourceOption.text(
            "companies",
            "Companies",
            placeholder="1, 2",
            help="The ids of the Odoo companies to read, separated by commas (Odoo's "
            "allowed_company_ids); empty: every company of the API user.",
        ),
    ),
    url_example="https://erp.example.com",
    incremental=True,
    # sale.order states as Odoo's own screens name them; products as mappings.py stores them
    value_words={
        "orders": {
            "status": {
                "draft": "Quotation",
                "sent": "Quotation sent",
                "sale": "Sales order",
                "done": "Locked",
                "cancel": "Cancelled",
            }
        },
        "products": {
            "status": {"publish": "Active", "private": "Archived"},
            "type": {"simple": "Goods", "service": "Service", "grouped": "Combo"},
        },
    },
)
