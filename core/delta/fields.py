"""What the engine compares: entity types, sync types, comparable fields and their kinds."""

from __future__ import annotations

from typing import Final, Literal

ENTITY_TYPES: Final = ("customers", "products", "orders")
EXTERNAL_SYNC_TYPES: Final = ("woocommerce", "odoo")
SYNC_TYPES: Final = (*EXTERNAL_SYNC_TYPES, "local")

#: Bump when a normalization or serialization rule changes: stored fingerprints become stale.
HASH_VERSION: Final = 1

Kind = Literal["text", "email", "code", "money", "int", "timestamp", "lines"]

#: The kind of every comparable field, in the order the fingerprint serializes them.
FIELD_KINDS: Final[dict[str, dict[str, Kind]]] = {
    "customers": {
        "email": "email",
        "name": "text",
        "phone": "text",
        "company": "text",
        "address_1": "text",
        "address_2": "text",
        "city": "text",
        "state": "code",
        "postcode": "text",
        "country": "code",
    },
    "products": {
        "sku": "text",
        "name": "text",
        "price": "money",
        "regular_price": "money",
        "sale_price": "money",
        "stock_quantity": "int",
        "status": "text",
        "type": "text",
    },
    "orders": {
        "number": "text",
        "status": "text",
        "currency": "code",
        "total": "money",
        "customer_email": "email",
        "created_at": "timestamp",
        "lines": "lines",
    },
}

COMPARABLE_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    entity: tuple(kinds) for entity, kinds in FIELD_KINDS.items()
}

SOURCE_LABELS: Final = {"woocommerce": "WooCommerce", "odoo": "Odoo", "local": "the local database"}
