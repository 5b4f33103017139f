"""The WooCommerce wire fields the columnar JSON reader reads (the rest of a record is
ignored); orders have none: their line items are read record by record."""

from __future__ import annotations

from typing import Final

import polars as pl

from core.delta.mapping import WireSchema

_S = pl.String()
#: A billing address; the reader needs its type, so every field is named.
_ADDRESS = pl.Struct(
    {
        "first_name": _S,
        "last_name": _S,
        "company": _S,
        "address_1": _S,
        "address_2": _S,
        "city": _S,
        "state": _S,
        "postcode": _S,
        "country": _S,
        "email": _S,
        "phone": _S,
    }
)

WIRE_SCHEMAS: Final[dict[str, WireSchema]] = {
    "customers": {
        "id": _S,
        "email": _S,
        "first_name": _S,
        "last_name": _S,
        "billing": _ADDRESS,
    },
    "products": {
        "id": _S,
        "sku": _S,
        "name": _S,
        "price": _S,
        "regular_price": _S,
        "sale_price": _S,
        "stock_quantity": _S,
        "status": _S,
        "type": _S,
    },
}
