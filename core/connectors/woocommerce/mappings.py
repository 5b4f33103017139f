"""Where each canonical field of a WooCommerce record comes from (REST API v3 shapes).

A customer's name is its first and last name, or else its billing names; its e-mail the
account's, or else the billing one; its status "active" for a registered customer, or the
``status`` the connector gives a guest buyer ("guest"). A product variation is a product of
its own whose ``parent_id`` is its variable product (the connector adds ``parent_id``,
``type`` "variation" and a name to the variations it reads). Order times are
``date_created_gmt`` (UTC).
"""

from __future__ import annotations

from typing import Final

from core.delta.mapping import Const, EntityMapping, FirstOf, Joined, Lines, Path

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
        "status": FirstOf(Path("status"), Const("active")),
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
        "parent_id": Path("parent_id"),
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
