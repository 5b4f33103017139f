"""What the engine compares: entity types, their comparable fields and each field's type."""

from __future__ import annotations

from typing import Final, Literal

from core.delta.errors import UnknownType

ENTITY_TYPES: Final = ("customers", "products", "orders")

#: Bump when a normalization or serialization rule changes: stored fingerprints become stale.
#: 2: customers gained ``status``, products ``parent_id``; HTML entities are decoded in text.
HASH_VERSION: Final = 2

#: How a field's values are normalized and compared (``normalize.NORMALIZERS``).
FieldType = Literal["text", "email", "code", "ref", "money", "int", "timestamp", "lines"]

#: The type of every comparable field, in the order the fingerprint serializes them.
FIELD_TYPES: Final[dict[str, dict[str, FieldType]]] = {
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
        "status": "text",
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
        "parent_id": "ref",
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
    entity: tuple(types) for entity, types in FIELD_TYPES.items()
}


def check_entity(entity_type: str) -> None:
    """Raise ``UnknownType`` for an entity type the engine does not know."""
    if entity_type not in ENTITY_TYPES:
        raise UnknownType(
            f"Unknown entity type {entity_type!r}; use one of {', '.join(ENTITY_TYPES)}."
        )
