"""sale.order and sale.order.line: the store's orders (those not in WooCommerce's trash).

A real-world order also has section, note and delivery lines (``display_type``,
``is_delivery``); without a delivery line, the shipping charge is in the total only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.sandbox import data
from core.sandbox.odoo_base import COMMON, UID, Env, Model, field
from core.sandbox.odoo_products import DELIVERY_PRODUCT_ID, ProductProduct

STATE_OF = {
    "pending": "draft",
    "checkout-draft": "draft",
    "on-hold": "sent",
    "processing": "sale",
    "completed": "sale",
    "cancelled": "cancel",
    "refunded": "cancel",
    "failed": "cancel",
}
ORDER_STATES: tuple[tuple[str, str], ...] = (
    ("draft", "Quotation"),
    ("sent", "Quotation Sent"),
    ("sale", "Sales Order"),
    ("cancel", "Cancelled"),
)


class SaleOrder(Model):
    """Sales orders (WooCommerce orders that are not in the trash)."""

    name = "sale.order"
    description = "Sales Order"
    order = "date_order desc, id desc"
    entity = "orders"
    deps = ("orders", "customers", "products")
    company_rule = "strict"
    FIELDS = {
        "name": field("char", "Order Reference", required=True, readonly=True),
        "state": field("selection", "Status", selection=ORDER_STATES, readonly=True),
        "partner_id": field("many2one", "Customer", relation="res.partner", required=True),
        "date_order": field("datetime", "Order Date", required=True),
        "currency_id": field("many2one", "Currency", relation="res.currency"),
        "amount_untaxed": field("monetary", "Untaxed Amount", readonly=True),
        "amount_tax": field("monetary", "Taxes", readonly=True),
        "amount_total": field("monetary", "Total", readonly=True),
        "order_line": field("one2many", "Order Lines", relation="sale.order.line"),
        "company_id": field("many2one", "Company", relation="res.company", required=True),
        "client_order_ref": field("char", "Customer Reference"),
        "user_id": field("many2one", "Salesperson", relation="res.users"),
        **COMMON,
    }

    def ids(self) -> Sequence[int]:
        store = self.store
        return store.ids(
            "orders",
            "odoo:not-trash",
            lambda i: store.attr("orders", i, "status") != "trash",
            with_archived=True,
        )

    def value(self, ident: int, field: str) -> Any:
        store = self.store
        if field == "id":
            return ident
        if field == "state":
            return STATE_OF.get(str(store.attr("orders", ident, "status")), "draft")
        if field == "write_date":
            return data.odoo_datetime(int(store.attr("orders", ident, "date_modified")))
        if field in ("create_date", "date_order"):
            return data.odoo_datetime(int(store.attr("orders", ident, "date_created")))
        return super().value(ident, field)

    def record(self, ident: int) -> dict[str, Any] | None:
        r = self.store.get("orders", ident)
        if r is None or r["status"] == "trash":
            return None
        buyer_id = int(r["customer_id"] or r.get("buyer_id") or 1)
        buyer = self.store.get("customers", buyer_id) or data.customer(self.store.seed, buyer_id)
        country = buyer["country"]
        currency = r.get("currency") or data.COUNTRY_BY_CODE[country][3]
        lines = order_lines(self.env, r, names=False)
        untaxed = sum(line["price_subtotal"] for line in lines)
        tax = sum(line["price_tax"] for line in lines)
        shipping = int(r["shipping_cents"])
        if not any(line["is_delivery"] for line in lines):
            untaxed += shipping / 100  # without a delivery line the charge is in the total
            tax += data.tax_cents(shipping, country) / 100
        cid = int(r.get("company_id") or 1)
        return {
            "id": ident,
            "name": f"S{ident:05d}",
            "display_name": f"S{ident:05d}",
            "state": STATE_OF.get(r["status"], "draft"),
            "partner_id": [buyer_id, f"{buyer['first_name']} {buyer['last_name']}"],
            "date_order": data.odoo_datetime(r["date_created"]),
            "currency_id": [data.CURRENCY_IDS.get(currency, 1), currency],
            "amount_untaxed": round(untaxed, 2),
            "amount_tax": round(tax, 2),
            "amount_total": round(untaxed + tax, 2),
            "order_line": [line["id"] for line in lines],
            "company_id": self.env.company(cid),
            "client_order_ref": False,
            "user_id": [UID, "Mitchell Admin"],
            "create_date": data.odoo_datetime(r["date_created"]),
            "write_date": data.odoo_datetime(r["date_modified"]),
        }


class SaleOrderLine(Model):
    """Order lines: products, and (real-world) section, note and delivery lines."""

    name = "sale.order.line"
    description = "Sales Order Line"
    order = "order_id, sequence, id"
    deps = ("orders", "products")
    company_rule = "strict"
    FIELDS = {
        "order_id": field("many2one", "Order Reference", relation="sale.order", required=True),
        "sequence": field("integer", "Sequence"),
        "display_type": field(
            "selection",
            "Display Type",
            selection=(("line_section", "Section"), ("line_note", "Note")),
        ),
        "product_id": field("many2one", "Product", relation="product.product"),
        "name": field("text", "Description", required=True),
        "product_uom_qty": field("float", "Quantity"),
        "price_unit": field("float", "Unit Price"),
        "discount": field("float", "Discount (%)"),
        "price_subtotal": field("monetary", "Subtotal", readonly=True),
        "price_tax": field("float", "Total Tax", readonly=True),
        "price_total": field("monetary", "Total", readonly=True),
        "is_delivery": field("boolean", "Is a Delivery"),
        "currency_id": field("many2one", "Currency", relation="res.currency"),
        "company_id": field("many2one", "Company", relation="res.company"),
        "state": field("selection", "Order Status", selection=ORDER_STATES, readonly=True),
        **COMMON,
    }

    def ids(self) -> Sequence[int]:
        orders = self.env.model("sale.order")
        assert orders is not None

        def compute() -> list[int]:
            return [
                line["id"]
                for ident in orders.ids()
                for line in order_lines(self.env, self.store.get("orders", int(ident)) or {})
            ]

        return list(self.store.memo(("odoo", self.name), self.deps, compute))

    def lines_of(self, order_ids: Sequence[int]) -> list[int]:
        """The line ids of some orders (the cheap way to search by order_id)."""
        out: list[int] = []
        for ident in order_ids:
            order = self.store.get("orders", int(ident))
            if order is not None and order["status"] != "trash":
                out.extend(line["id"] for line in order_lines(self.env, order, names=False))
        return sorted(out)

    def value(self, ident: int, field: str) -> Any:
        if field == "id":
            return ident
        if field == "order_id":
            return [ident // 10, f"S{ident // 10:05d}"]
        return super().value(ident, field)

    def records(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        wanted = set(ids)
        out: dict[int, dict[str, Any]] = {}
        for order_id in sorted({i // 10 for i in wanted}):
            order = self.store.get("orders", order_id)
            if order is None or order["status"] == "trash":
                continue
            out.update((line["id"], line) for line in order_lines(self.env, order))
        return {i: out[i] for i in wanted if i in out}

    def record(self, ident: int) -> dict[str, Any] | None:
        order = self.store.get("orders", ident // 10)
        if order is None or order["status"] == "trash":
            return None
        return next((line for line in order_lines(self.env, order) if line["id"] == ident), None)


def order_lines(env: Env, order: dict[str, Any], names: bool = True) -> list[dict[str, Any]]:
    """The sale.order.line records of an order, in the order's line order (`names`: with the
    products' display names, which cost a product lookup per line)."""
    if not order:
        return []
    store = env.store
    products = env.model("product.product")
    assert isinstance(products, ProductProduct)
    ident = int(order["id"])
    buyer_id = int(order["customer_id"] or order.get("buyer_id") or 1)
    buyer = store.get("customers", buyer_id) or data.customer(store.seed, buyer_id)
    country = buyer["country"]
    currency = order.get("currency") or data.COUNTRY_BY_CODE[country][3]
    common = {
        "order_id": [ident, f"S{ident:05d}"],
        "display_name": f"S{ident:05d}",
        "discount": 0.0,
        "currency_id": [data.CURRENCY_IDS.get(currency, 1), currency],
        "company_id": env.company(int(order.get("company_id") or 1)),
        "state": STATE_OF.get(order["status"], "draft"),
        "create_date": data.odoo_datetime(order["date_created"]),
        "write_date": data.odoo_datetime(order["date_modified"]),
    }
    lines: list[dict[str, Any]] = []
    extras = bool(order.get("odoo_extra_lines"))
    if extras:
        lines.append(_text_line(common, ident * 10 + 5, 5, "line_section", "Products"))
    for k, line in enumerate(order["lines"]):
        variant = int(line.get("variation_id") or 0) or int(line["product_id"])
        found = products.display(variant) if names else False
        display = found if isinstance(found, list) else [variant, f"Product {variant}"]
        cents = int(line["total_cents"])
        tax = data.tax_cents(cents, country) / 100
        subtotal = cents / 100
        lines.append(
            {
                **common,
                "id": line["id"],
                "sequence": 10 + k,
                "display_type": False,
                "product_id": display,
                "display_name": f"{common['display_name']} - {display[1]}",
                "name": str(display[1]),
                "product_uom_qty": float(line["quantity"]),
                "price_unit": round(subtotal / line["quantity"], 2),
                "price_subtotal": subtotal,
                "price_tax": tax,
                "price_total": round(subtotal + tax, 2),
                "is_delivery": False,
            }
        )
    shipping = int(order.get("shipping_cents") or 0)
    if extras and shipping:
        tax = data.tax_cents(shipping, country) / 100
        lines.append(
            {
                **common,
                "id": ident * 10 + 6,
                "sequence": 100,
                "display_type": False,
                "product_id": [DELIVERY_PRODUCT_ID, "[DELIVERY] Standard delivery"],
                "display_name": f"{common['display_name']} - Standard delivery",
                "name": "Standard delivery",
                "product_uom_qty": 1.0,
                "price_unit": shipping / 100,
                "price_subtotal": shipping / 100,
                "price_tax": tax,
                "price_total": round(shipping / 100 + tax, 2),
                "is_delivery": True,
            }
        )
    if extras:
        note = order.get("customer_note") or "Thank you for your order!"
        lines.append(_text_line(common, ident * 10 + 7, 110, "line_note", note))
    return lines


def _text_line(
    common: dict[str, Any], ident: int, sequence: int, kind: str, text: str
) -> dict[str, Any]:
    return {
        **common,
        "display_name": f"{common['display_name']} - {text}",
        "id": ident,
        "sequence": sequence,
        "display_type": kind,
        "product_id": False,
        "name": text,
        "product_uom_qty": 0.0,
        "price_unit": 0.0,
        "price_subtotal": 0.0,
        "price_tax": 0.0,
        "price_total": 0.0,
        "is_delivery": False,
    }
