"""Records in WooCommerce REST v3's wire shape (customers, products, variations, orders).

Shapes follow the WooCommerce REST API documentation (tests/cases/README.md names the
pages): money as decimal strings, GMT timestamps without a zone, ``_links`` on the site's
home URL. WordPress keeps post titles HTML-escaped (``&`` as ``&amp;``, an en dash as
``&#8211;``), so product and variation names are sent that way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.sandbox import data
from core.sandbox.store import Store

PREFIX = "/wp-json/wc/v3"
VERSION = "9.8.5"
_ENTITIES = str.maketrans({"&": "&amp;", "\u2013": "&#8211;", "\u2014": "&#8212;"})
# Fields WooCommerce sends for products and variations that the sandbox keeps at their
# documented defaults (no sale schedule, downloads, shipping classes or reviews).
_PRODUCT_DEFAULTS: dict[str, Any] = {
    "date_on_sale_from": None,
    "date_on_sale_from_gmt": None,
    "date_on_sale_to": None,
    "date_on_sale_to_gmt": None,
    "downloads": [],
    "download_limit": -1,
    "download_expiry": -1,
    "backorders_allowed": False,
    "backordered": False,
    "weight": "",
    "dimensions": {"length": "", "width": "", "height": ""},
    "shipping_class": "",
    "shipping_class_id": 0,
}
_PARENT_DEFAULTS: dict[str, Any] = {
    "external_url": "",
    "button_text": "",
    "sold_individually": False,
    "shipping_required": True,
    "shipping_taxable": True,
    "reviews_allowed": True,
    "average_rating": "0.00",
    "rating_count": 0,
    "related_ids": [],
    "upsell_ids": [],
    "cross_sell_ids": [],
    "purchase_note": "",
    "grouped_products": [],
}
_ADDRESS = (
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
)


def wp_title(text: str) -> str:
    """A title as WordPress stores and serves it (HTML entities for & and dashes)."""
    return text.translate(_ENTITIES)


class WooRender:
    """Renders the store's records for one site address."""

    def __init__(self, store: Store, home: str) -> None:
        self.store = store
        self.home = home.rstrip("/")

    def link(self, path: str) -> list[dict[str, str]]:
        """A `_links` entry for an API path."""
        return [{"href": f"{self.home}{PREFIX}/{path}"}]

    def customer(self, r: Mapping[str, Any]) -> dict[str, Any]:
        """A WordPress user as /customers shows it."""
        address = {k: r[k] for k in _ADDRESS}
        return {
            "id": r["id"],
            "date_created": data.iso(r["date_created"]),
            "date_created_gmt": data.iso(r["date_created"]),
            "date_modified": data.iso(r["date_modified"]),
            "date_modified_gmt": data.iso(r["date_modified"]),
            "email": r["email"],
            "first_name": r["first_name"],
            "last_name": r["last_name"],
            "role": r["role"],
            "username": r["email"].split("@")[0],
            "billing": {**address, "email": r["email"], "phone": r["phone"]},
            "shipping": {**address, "phone": ""},
            "is_paying_customer": r["id"] % 3 != 0,
            "avatar_url": "https://secure.gravatar.com/avatar/?s=96&d=mm&r=g",
            "meta_data": [],
            "_links": {
                "self": self.link(f"customers/{r['id']}"),
                "collection": self.link("customers"),
            },
        }

    def product(self, r: Mapping[str, Any]) -> dict[str, Any]:
        """A product; a variable one carries its variations' ids and lowest price."""
        slug = _slug(r["name"])
        variations = data.variations(self.store.seed, dict(r))
        if variations:
            low = min(data.price_cents(v) for v in variations)
            prices: dict[str, Any] = {
                "price": data.money(low),
                "regular_price": "",
                "sale_price": "",
                "on_sale": any(v["sale_cents"] is not None for v in variations),
            }
            stock: dict[str, Any] = {
                "manage_stock": False,
                "stock_quantity": None,
                "stock_status": "instock",
            }
            attributes = [
                {
                    "id": 0,
                    "name": "Size",
                    "position": 0,
                    "visible": True,
                    "variation": True,
                    "options": [v["option"] for v in variations],
                }
            ]
        else:
            sale = r["sale_cents"]
            quantity = r["stock_quantity"]
            prices = {
                "price": data.money(data.price_cents(dict(r))),
                "regular_price": data.money(r["regular_cents"]),
                "sale_price": data.money(sale),
                "on_sale": sale is not None,
            }
            stock = {
                "manage_stock": quantity is not None,
                "stock_quantity": quantity,
                "stock_status": "outofstock" if quantity == 0 else "instock",
            }
            attributes = []
        return {
            "id": r["id"],
            "name": wp_title(r["name"]),
            "slug": slug,
            "permalink": f"{self.home}/product/{slug}/",
            "date_created": data.iso(r["date_created"]),
            "date_created_gmt": data.iso(r["date_created"]),
            "date_modified": data.iso(r["date_modified"]),
            "date_modified_gmt": data.iso(r["date_modified"]),
            "type": r["type"],
            "status": r["status"],
            "featured": False,
            "catalog_visibility": "visible",
            "description": "",
            "short_description": "",
            "sku": r["sku"],
            **prices,
            "price_html": "",
            **_PRODUCT_DEFAULTS,
            **_PARENT_DEFAULTS,
            "purchasable": r["status"] == "publish",
            "total_sales": r["id"] * 7 % 50,
            "virtual": False,
            "downloadable": False,
            "tax_status": "taxable",
            "tax_class": "",
            **stock,
            "backorders": "no",
            "parent_id": 0,
            "categories": [],
            "tags": [],
            "images": [],
            "attributes": attributes,
            "default_attributes": [],
            "variations": [v["id"] for v in variations],
            "menu_order": 0,
            "meta_data": [],
            "_links": {
                "self": self.link(f"products/{r['id']}"),
                "collection": self.link("products"),
            },
        }

    def variation(self, v: Mapping[str, Any], parent: Mapping[str, Any]) -> dict[str, Any]:
        """A variation as /products/<id>/variations shows it."""
        sale = v["sale_cents"]
        quantity = v["stock_quantity"]
        parent_path = f"products/{parent['id']}"
        return {
            "id": v["id"],
            "name": wp_title(v["name"]),
            "type": "variation",
            "parent_id": parent["id"],
            "date_created": data.iso(v["date_created"]),
            "date_created_gmt": data.iso(v["date_created"]),
            "date_modified": data.iso(v["date_modified"]),
            "date_modified_gmt": data.iso(v["date_modified"]),
            "description": "",
            "permalink": f"{self.home}/product/{_slug(parent['name'])}/"
            f"?attribute_size={v['option']}",
            "sku": v["sku"],
            "price": data.money(data.price_cents(dict(v))),
            "regular_price": data.money(v["regular_cents"]),
            "sale_price": data.money(sale),
            "on_sale": sale is not None,
            **_PRODUCT_DEFAULTS,
            "image": None,
            "status": v["status"],
            "purchasable": v["status"] == "publish",
            "virtual": False,
            "downloadable": False,
            "tax_status": "taxable",
            "tax_class": "",
            "manage_stock": True,
            "stock_quantity": quantity,
            "stock_status": "outofstock" if quantity == 0 else "instock",
            "backorders": "no",
            "attributes": [{"id": 0, "name": "Size", "option": v["option"]}],
            "menu_order": 0,
            "meta_data": [],
            "_links": {
                "self": self.link(f"{parent_path}/variations/{v['id']}"),
                "collection": self.link(f"{parent_path}/variations"),
                "up": self.link(parent_path),
            },
        }

    def order(self, r: Mapping[str, Any]) -> dict[str, Any]:
        """An order with its line items, shipping and tax lines, refunds and dates."""
        store = self.store
        buyer_id = r["customer_id"] or r.get("buyer_id") or 1
        buyer = store.get("customers", buyer_id) or data.customer(store.seed, buyer_id)
        country = buyer["country"]
        currency = r.get("currency") or data.COUNTRY_BY_CODE[country][3]
        rate = data.TAX_RATES.get(country)
        address = {k: buyer[k] for k in _ADDRESS}
        items = [self._line_item(line, country, rate) for line in r["lines"]]
        subtotal = sum(int(line["total_cents"]) for line in r["lines"])
        cart_tax = sum(data.tax_cents(int(line["total_cents"]), country) for line in r["lines"])
        shipping = int(r["shipping_cents"])
        shipping_tax = data.tax_cents(shipping, country)
        total = subtotal + shipping + cart_tax + shipping_tax
        status = r["status"]
        created, modified = int(r["date_created"]), int(r["date_modified"])
        paid = created + 300 if status in ("processing", "completed", "refunded") else None
        completed = min(modified, created + 2 * 86400) if status == "completed" else None
        ident = int(r["id"])
        return {
            "id": ident,
            "parent_id": 0,
            "status": status,
            "currency": currency,
            "version": VERSION,
            "prices_include_tax": False,
            "date_created": data.iso(created),
            "date_modified": data.iso(modified),
            "discount_total": "0.00",
            "discount_tax": "0.00",
            "shipping_total": data.money(shipping),
            "shipping_tax": data.money(shipping_tax),
            "cart_tax": data.money(cart_tax),
            "total": data.money(total),
            "total_tax": data.money(cart_tax + shipping_tax),
            "customer_id": r["customer_id"],
            "order_key": f"wc_order_{ident:010d}",
            "billing": {**address, "email": buyer["email"], "phone": buyer["phone"]},
            "shipping": {**address, "phone": ""},
            "payment_method": "bacs",
            "payment_method_title": "Direct bank transfer",
            "transaction_id": "",
            "customer_ip_address": "",
            "customer_user_agent": "",
            "created_via": "checkout",
            "customer_note": r.get("customer_note") or "",
            "date_completed": data.iso(completed) if completed else None,
            "date_paid": data.iso(paid) if paid else None,
            "cart_hash": "",
            "number": str(ident),
            "meta_data": [],
            "line_items": items,
            "tax_lines": self._tax_lines(ident, rate, cart_tax, shipping_tax),
            "shipping_lines": [self._shipping_line(ident, shipping, shipping_tax, rate)],
            "fee_lines": [],
            "coupon_lines": [],
            "refunds": _refunds(ident, status, total, r["lines"]),
            "payment_url": f"{self.home}/checkout/order-pay/{ident}/",
            "is_editable": status in ("pending", "on-hold", "checkout-draft"),
            "needs_payment": status in ("pending", "failed"),
            "needs_processing": True,
            "date_created_gmt": data.iso(created),
            "date_modified_gmt": data.iso(modified),
            "date_completed_gmt": data.iso(completed) if completed else None,
            "date_paid_gmt": data.iso(paid) if paid else None,
            "currency_symbol": _SYMBOLS.get(currency, currency),
            "_links": {
                "self": self.link(f"orders/{ident}"),
                "collection": self.link("orders"),
                **(
                    {"customer": self.link(f"customers/{r['customer_id']}")}
                    if r["customer_id"]
                    else {}
                ),
            },
        }

    def _line_item(
        self, line: Mapping[str, Any], country: str, rate: tuple[int, int, str] | None
    ) -> dict[str, Any]:
        store = self.store
        product = store.get("products", line["product_id"]) or data.product(
            store.seed, line["product_id"], store.real_world
        )
        variation_id = int(line.get("variation_id") or 0)
        item: Mapping[str, Any] = product
        if variation_id:
            item = store.variation(variation_id) or product
        cents = int(line["total_cents"])
        tax = data.tax_cents(cents, country)
        taxes = (
            [{"id": rate[0], "total": data.money(tax), "subtotal": data.money(tax)}] if rate else []
        )
        return {
            "id": line["id"],
            "name": wp_title(str(item["name"])),
            "product_id": line["product_id"],
            "variation_id": variation_id,
            "quantity": line["quantity"],
            "tax_class": "",
            "subtotal": data.money(cents),
            "subtotal_tax": data.money(tax),
            "total": data.money(cents),
            "total_tax": data.money(tax),
            "taxes": taxes,
            "meta_data": (
                [
                    {
                        "id": 0,
                        "key": "size",
                        "value": item["option"],
                        "display_key": "Size",
                        "display_value": item["option"],
                    }
                ]
                if variation_id
                else []
            ),
            "sku": item["sku"],
            "price": cents / 100 / line["quantity"],
            "image": {"id": 0, "src": ""},
            "parent_name": wp_title(str(product["name"])) if variation_id else None,
        }

    def _tax_lines(
        self, ident: int, rate: tuple[int, int, str] | None, cart: int, shipping: int
    ) -> list[dict[str, Any]]:
        if rate is None:
            return []
        rate_id, percent, label = rate
        return [
            {
                "id": ident * 10 + 7,
                "rate_code": f"{label.upper().rstrip('.')}-{rate_id}",
                "rate_id": rate_id,
                "label": label,
                "compound": False,
                "tax_total": data.money(cart),
                "shipping_tax_total": data.money(shipping),
                "rate_percent": percent,
                "meta_data": [],
            }
        ]

    def _shipping_line(
        self, ident: int, cents: int, tax: int, rate: tuple[int, int, str] | None
    ) -> dict[str, Any]:
        flat = cents > 0
        return {
            "id": ident * 10 + 6,
            "method_title": "Flat rate" if flat else "Free shipping",
            "method_id": "flat_rate" if flat else "free_shipping",
            "instance_id": "1" if flat else "2",
            "total": data.money(cents),
            "total_tax": data.money(tax),
            "taxes": (
                [{"id": rate[0], "total": data.money(tax), "subtotal": ""}] if rate and tax else []
            ),
            "meta_data": [],
        }


_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "$", "AUD": "$", "BRL": "R$"}


def _refunds(
    ident: int, status: str, total: int, lines: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A refunded order is refunded in full; every 31st completed one in part."""
    if status == "refunded":
        amount = total
        reason = "Order cancelled by the customer"
    elif status == "completed" and ident % 31 == 0 and lines:
        amount = int(lines[0]["total_cents"]) // int(lines[0]["quantity"])
        reason = "Damaged in transit"
    else:
        return []
    return [{"id": data.REFUND_BASE + ident, "reason": reason, "total": data.money(-amount)}]


def _slug(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in name.lower())
    return "-".join(part for part in cleaned.split("-") if part)
