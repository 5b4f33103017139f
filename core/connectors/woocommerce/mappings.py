"""Where each canonical field of a WooCommerce record comes from (REST API v3 shapes).

A customer's name is its first and last name, or else its billing names; its e-mail the
account's, or else the billing one. Order times are ``date_created_gmt`` (UTC).
"""

from __future__ import annotations

from typing import Final

from core.delta.mapping import EntityMapping, FirstOf, Joined, Lines, Path

MAPPINGS: Final[dict[str, EntityMapping]] = {
    "customers": {
        "email": FirstOf(Path("email"), Path("billing", "email")),
        "name": FirstOf(
            Joined(Path("first_name"), Path("last_name")),
            Joined(Path("billing", "first_name"), Path("billing", "last_name")),
        ),
        "phone": Path("billing", "phone"),
        "company": Path("billing", "company"),
        "address_1": Path("billing", "address_1"),
        "address_2": Path("billing", "address_2"),
        "city": Path("billing", "city"),
        "state": Path("billing", "state"),
        "postcode": Path("billing", "postcode"),
        "country": Path("billing", "country"),
    },
    "products": {
        "sku": Path("sku"),
        "name": Path("name"),
        "price": Path("price"),
        "regular_price": Path("regular_price"),
        "sale_price": Path("sale_price"),
        "stock_quantity": Path("stock_quantity"),
        "status": Path("status"),
        "type": Path("type"),
    },
    "orders": {
        "number": Path("number"),
        "status": Path("status"),
        "currency": Path("currency"),
        "total": Path("total"),
        "customer_email": Path("billing", "email"),
        "created_at": Path("date_created_gmt"),
        "lines": Lines("line_items", sku="sku", quantity="quantity", total="total"),
    },
}
