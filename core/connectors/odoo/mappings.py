"""Where each canonical field of an Odoo record comes from.

The tables read the extra keys the connector adds (``state_code``, ``partner_email``,
``lines``, ``default_code``; see the README's "Raw records from connectors").

Archived records (``active`` false) are read, and their ``status`` says so: a customer is
"active" or "archived", a product "publish" (WooCommerce's word for a product on sale) or
"archived". Documented choices for products, so that they compare sensibly with WooCommerce
terms: ``type`` "consu"/"product" -> "simple", "service" -> "service", "combo" -> "grouped"
(others as is); ``sale_price`` is always empty (``lst_price`` already includes any price-list
discount); a variant of a product template with several variants has the template as its
``parent_id`` (as a WooCommerce variation has its variable product).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from core.delta import normalize
from core.delta.mapping import Computed, EntityMapping, Lines, Path


def _many2one_name(key: str) -> Callable[[Mapping[str, Any]], Any]:
    def read(record: Mapping[str, Any]) -> Any:
        value = record.get(key)
        if isinstance(value, list | tuple) and len(value) == 2:
            return value[1]
        if value is None or value is False:
            return None
        raise normalize.Unreadable(value)

    return read


def _company(record: Mapping[str, Any]) -> str | None:
    parent = _many2one_name("parent_id")(record)
    for candidate in (record.get("company_name"), record.get("commercial_company_name"), parent):
        company = normalize.text(candidate)
        if company is not None:
            return None if company == normalize.text(record.get("name")) else company
    return None


_PRODUCT_TYPES: Final = {
    "consu": "simple",
    "product": "simple",
    "service": "service",
    "combo": "grouped",
}


def _product_type(record: Mapping[str, Any]) -> Any:
    value = record.get("type")
    return _PRODUCT_TYPES.get(value, value) if isinstance(value, str) else value


def _archived(record: Mapping[str, Any]) -> bool:
    return record.get("active", True) is False


def _customer_status(record: Mapping[str, Any]) -> str:
    return "archived" if _archived(record) else "active"


def _product_status(record: Mapping[str, Any]) -> str:
    return "archived" if _archived(record) else "publish"


def _template(record: Mapping[str, Any]) -> Any:
    """The product template of a variant that has siblings (``product_variant_count`` > 1)."""
    count = record.get("product_variant_count")
    template = record.get("product_tmpl_id")
    if not isinstance(count, int) or count < 2:
        return None
    if isinstance(template, list | tuple) and template:
        return template[0]
    return template if isinstance(template, int) and not isinstance(template, bool) else None


MAPPINGS: Final[dict[str, EntityMapping]] = {
    "customers": {
        "email": Path("email"),
        "name": Path("name"),
        "phone": Path("phone"),
        "company": Computed(_company),
        "address_1": Path("street"),
        "address_2": Path("street2"),
        "city": Path("city"),
        "state": Path("state_code"),
        "postcode": Path("zip"),
        "country": Path("country_code"),
        "status": Computed(_customer_status),
    },
    "products": {
        "sku": Path("default_code"),
        "name": Path("name"),
        "price": Path("lst_price"),
        "regular_price": Path("list_price"),
        "sale_price": Computed(lambda record: None),
        "stock_quantity": Path("qty_available"),
        "status": Computed(_product_status),
        "type": Computed(_product_type),
        "parent_id": Computed(_template),
    },
    "orders": {
        "number": Path("name"),
        "status": Path("state"),
        "currency": Computed(_many2one_name("currency_id")),
        "total": Path("amount_total"),
        "customer_email": Path("partner_email"),
        "created_at": Path("date_order"),
        "lines": Lines(
            "lines", sku="default_code", quantity="product_uom_qty", total="price_subtotal"
        ),
    },
}
