"""product.template and product.product: the store's products and their variations.

A variable WooCommerce product is one template with one variant per variation; a simple one
is a template with one variant of the same id. A real-world store also has the delivery
product, a service, on its delivery lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.sandbox import data
from core.sandbox.odoo_base import COMMON, Model, field

DELIVERY_PRODUCT_ID = data.VARIATION_BASE - 1


_PRODUCT_COMMON = {
    "name": field("char", "Name", required=True),
    "default_code": field("char", "Internal Reference"),
    "list_price": field("float", "Sales Price"),
    "standard_price": field("float", "Cost"),
    "type": field(
        "selection",
        "Product Type",
        selection=(("consu", "Goods"), ("service", "Service"), ("combo", "Combo")),
    ),
    "is_storable": field("boolean", "Track Inventory", app="stock"),
    "qty_available": field("float", "Quantity On Hand", store=False, app="stock", readonly=True),
    "virtual_available": field("float", "Forecasted Quantity", store=False, app="stock"),
    "sale_ok": field("boolean", "Sales"),
    "purchase_ok": field("boolean", "Purchase"),
    "active": field("boolean", "Active"),
    "company_id": field("many2one", "Company", relation="res.company"),
    "categ_id": field("many2one", "Product Category", relation="product.category"),
    "barcode": field("char", "Barcode"),
    **COMMON,
}


class _ProductBase(Model):
    deps = ("products",)
    entity = "products"
    company_rule = "shared"

    def _delivery(self) -> bool:
        return self.store.real_world

    def _product_value(self, ident: int, field: str) -> Any:
        store = self.store
        if field == "id":
            return ident
        if ident == DELIVERY_PRODUCT_ID or data.variation_parent(ident) is not None:
            return None
        if field == "active":
            return bool(store.attr("products", ident, "active"))
        if field == "write_date":
            return data.odoo_datetime(int(store.attr("products", ident, "date_modified")))
        if field == "create_date":
            return data.odoo_datetime(int(store.attr("products", ident, "date_created")))
        if field == "company_id":
            return self.env.company(int(store.attr("products", ident, "company_id") or 0))
        return None

    def _common(self, r: dict[str, Any], stock: int | None) -> dict[str, Any]:
        price = r["regular_cents"] / 100
        return {
            "name": r["name"],
            "list_price": price,
            "standard_price": round(price * 0.6, 2),
            "type": "consu",
            "is_storable": stock is not None,
            "qty_available": float(stock or 0),
            "virtual_available": float(stock or 0),
            "sale_ok": r["status"] == "publish",
            "purchase_ok": True,
            "active": bool(r["active"]),
            "company_id": self.env.company(int(r.get("company_id") or 0)),
            "categ_id": [1, "All"],
            "barcode": False,
            "create_date": data.odoo_datetime(r["date_created"]),
            "write_date": data.odoo_datetime(r["date_modified"]),
        }

    def _delivery_common(self) -> dict[str, Any]:
        stamp = data.odoo_datetime(data.BASE_START)
        return {
            "name": "Standard delivery",
            "list_price": data.FLAT_RATE_CENTS / 100,
            "standard_price": 0.0,
            "type": "service",
            "is_storable": False,
            "qty_available": 0.0,
            "virtual_available": 0.0,
            "sale_ok": False,
            "purchase_ok": False,
            "active": True,
            "company_id": False,
            "categ_id": [1, "All"],
            "barcode": False,
            "create_date": stamp,
            "write_date": stamp,
        }


class ProductTemplate(_ProductBase):
    """Products (templates): one per WooCommerce product, variable ones included."""

    name = "product.template"
    description = "Product"
    order = "name, id"
    FIELDS = {
        **_PRODUCT_COMMON,
        "product_variant_ids": field("one2many", "Products", relation="product.product"),
        "product_variant_count": field("integer", "# Product Variants", store=False),
    }

    def ids(self) -> Sequence[int]:
        ids = self.store.ids("products", with_archived=True)
        return [*ids, DELIVERY_PRODUCT_ID] if self._delivery() else ids

    def value(self, ident: int, field: str) -> Any:
        found = self._product_value(ident, field)
        return found if found is not None else super().value(ident, field)

    def record(self, ident: int) -> dict[str, Any] | None:
        if ident == DELIVERY_PRODUCT_ID:
            if not self._delivery():
                return None
            variants = [DELIVERY_PRODUCT_ID]
            out = self._delivery_common()
            code: Any = "DELIVERY"
        else:
            r = self.store.get("products", ident)
            if r is None:
                return None
            variations = data.variations(self.store.seed, r)
            stock = sum(v["stock_quantity"] for v in variations) if variations else None
            out = self._common(r, stock if variations else r["stock_quantity"])
            variants = [v["id"] for v in variations] or [ident]
            code = (r["sku"] or False) if not variations else False
        return {
            "id": ident,
            **out,
            "default_code": code,
            "display_name": f"[{code}] {out['name']}" if code else out["name"],
            "product_variant_ids": variants,
            "product_variant_count": len(variants),
        }


class ProductProduct(_ProductBase):
    """Product variants: simple products, each variation of a variable one, delivery."""

    name = "product.product"
    description = "Product Variant"
    order = "default_code, name, id"
    FIELDS = {
        **_PRODUCT_COMMON,
        "product_tmpl_id": field("many2one", "Product Template", relation="product.template"),
        # a template field, readable on its variants as every template field is (_inherits)
        "product_variant_count": field("integer", "# Product Variants", store=False),
        "lst_price": field("float", "Sales Price", store=False),
        "free_qty": field("float", "Free To Use Quantity", store=False, app="stock"),
    }

    def ids(self) -> Sequence[int]:
        store = self.store

        def compute() -> list[int]:
            simple: list[int] = []
            variants: list[int] = []
            for ident in store.ids("products", with_archived=True):
                if store.attr("products", int(ident), "type") == "variable":
                    variants.extend(v["id"] for v in store.variations(int(ident)))
                else:
                    simple.append(int(ident))
            extra = [DELIVERY_PRODUCT_ID] if self._delivery() else []
            return sorted(simple + extra + variants)

        if not store.real_world:
            return store.ids("products", with_archived=True)
        return list(store.memo(("odoo", self.name), self.deps, compute))

    def value(self, ident: int, field: str) -> Any:
        found = self._product_value(ident, field)
        return found if found is not None else super().value(ident, field)

    def record(self, ident: int) -> dict[str, Any] | None:
        if ident == DELIVERY_PRODUCT_ID:
            if not self._delivery():
                return None
            out = self._delivery_common()
            return {
                "id": ident,
                **out,
                "default_code": "DELIVERY",
                "display_name": "[DELIVERY] Standard delivery",
                "product_tmpl_id": [ident, out["name"]],
                "product_variant_count": 1,
                "lst_price": out["list_price"],
                "free_qty": 0.0,
            }
        parent_id = data.variation_parent(ident)
        if parent_id is not None:
            parent = self.store.get("products", parent_id)
            variation = self.store.variation(ident)
            if parent is None or variation is None:
                return None
            out = self._common(parent, variation["stock_quantity"])
            code = variation["sku"] or False
            label = f"{parent['name']} ({variation['option']})"
            return {
                "id": ident,
                **out,
                "default_code": code,
                "display_name": f"[{code}] {label}" if code else label,
                "product_tmpl_id": [parent_id, parent["name"]],
                "product_variant_count": len(data.variations(self.store.seed, parent)),
                "lst_price": data.price_cents(variation) / 100,
                "free_qty": float(variation["stock_quantity"]),
            }
        r = self.store.get("products", ident)
        if r is None or r["type"] == "variable":
            return None
        out = self._common(r, r["stock_quantity"])
        code = r["sku"] or False
        return {
            "id": ident,
            **out,
            "default_code": code,
            "display_name": f"[{code}] {r['name']}" if code else r["name"],
            "product_tmpl_id": [ident, r["name"]],
            "product_variant_count": 1,
            "lst_price": r["regular_cents"] / 100,
            "free_qty": float(r["stock_quantity"] or 0),
        }

    def display(self, ident: int) -> list[Any] | bool:
        """The many2one value of a variant ([id, "[code] name"])."""
        parent_id = data.variation_parent(ident)
        if parent_id is not None:
            parent = self.store.get("products", parent_id)
            variation = self.store.variation(ident)
            if parent is None or variation is None:
                return False
            label = f"{parent['name']} ({variation['option']})"
            code = variation["sku"]
        elif ident == DELIVERY_PRODUCT_ID:
            return [ident, "[DELIVERY] Standard delivery"] if self._delivery() else False
        else:
            r = self.store.get("products", ident)
            if r is None:
                return False
            label, code = r["name"], r["sku"]
        return [ident, f"[{code}] {label}" if code else label]
