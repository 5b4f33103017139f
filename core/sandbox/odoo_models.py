"""The Odoo models the sandbox serves: their fields (what ``fields_get`` lists) and records.

Records come from the shared store: ``res.partner`` from customers, ``product.template`` from
products, ``product.product`` from products and their variations (a variable product is one
template with one variant per variation), ``sale.order`` from orders (trashed WooCommerce
orders are not in Odoo) and ``sale.order.line`` from their lines. Small reference models
(countries, states, currencies, companies, the API user, ``ir.model``) are static.

Empty values are ``False`` and a many2one is ``[id, display name]``, as Odoo sends them.
Fields of the Inventory app (``app="stock"``) exist only when the profile says it is installed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from core.sandbox import data
from core.sandbox.profile import Profile
from core.sandbox.store import Store

UID = 2
DELIVERY_PRODUCT_ID = data.VARIATION_BASE - 1
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


@dataclass(frozen=True)
class Field:
    """One field as fields_get describes it."""

    type: str
    string: str
    store: bool = True
    relation: str | None = None
    selection: tuple[tuple[str, str], ...] | None = None
    app: str | None = None
    readonly: bool = False
    required: bool = False
    help: str = ""

    def describe(self) -> dict[str, Any]:
        """Odoo's fields_get attributes of this field."""
        out: dict[str, Any] = {
            "type": self.type,
            "string": self.string,
            "help": self.help,
            "required": self.required,
            "readonly": self.readonly,
            "store": self.store,
            "sortable": self.store,
            "searchable": True,
            "groupable": self.store,
            "manual": False,
            "depends": [],
            "company_dependent": False,
        }
        if self.relation:
            out["relation"] = self.relation
        if self.selection is not None:
            out["selection"] = [list(pair) for pair in self.selection]
        return out


def _f(kind: str, string: str, **extra: Any) -> Field:
    return Field(kind, string, **extra)


_DATES = {
    "create_date": _f("datetime", "Created on", readonly=True),
    "write_date": _f("datetime", "Last Updated on", readonly=True),
    "display_name": _f("char", "Display Name", store=False, readonly=True),
}


class Env:
    """What the models read: the store, the installation profile and the API user's login."""

    def __init__(self, store: Store, profile: Profile, login: str) -> None:
        self.store, self.profile, self.login = store, profile, login
        self._models: dict[str, Model] = {}

    def model(self, name: str) -> Model | None:
        """The model named `name`, or None when this Odoo has no such model."""
        found = self._models.get(name)
        if found is None:
            cls = MODELS.get(name)
            if cls is None:
                return None
            found = self._models[name] = cls(self)
        return found

    def company(self, cid: int) -> list[Any] | bool:
        """A res.company many2one value (False for 0)."""
        return [cid, data.ODOO_COMPANIES[cid][0]] if cid in data.ODOO_COMPANIES else False

    def partner_name(self, ident: int) -> str:
        """The display name of a partner."""
        record = self.store.get("customers", ident) or data.customer(self.store.seed, ident)
        return f"{record['first_name']} {record['last_name']}".strip()


class Model:
    """A model: fields, record ids (ascending, archived ones included) and records."""

    name: ClassVar[str]
    description: ClassVar[str]
    order: ClassVar[str] = "id"
    entity: ClassVar[str | None] = None  # the store entity (drift, malformed pages)
    deps: ClassVar[tuple[str, ...]] = ()  # store entities its records derive from
    company_rule: ClassVar[str] = "none"  # "shared": company_id False or allowed; "strict"
    FIELDS: ClassVar[dict[str, Field]]

    def __init__(self, env: Env) -> None:
        self.env = env
        self.store = env.store

    def fields(self) -> dict[str, Field]:
        """The fields this installation has."""
        if self.env.profile.odoo_inventory:
            return {"id": _ID, **self.FIELDS}
        return {"id": _ID, **{k: f for k, f in self.FIELDS.items() if f.app != "stock"}}

    def field_type(self, name: str, sub: str | None) -> str | None:
        """The type of `name` (or of `name.sub` through a many2one), None when invalid."""
        field = self.fields().get(name)
        if field is None:
            return None
        if sub is None:
            return field.type
        related = self.env.model(field.relation) if field.relation else None
        if related is None or field.type != "many2one":
            return None
        return related.field_type(sub, None)

    def ids(self) -> Sequence[int]:
        """Every record id, ascending."""
        raise NotImplementedError

    def record(self, ident: int) -> dict[str, Any] | None:
        """Every field of one record, or None when it does not exist."""
        raise NotImplementedError

    def records(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Several records by id (missing ones left out)."""
        out = {}
        for ident in ids:
            record = self.record(ident)
            if record is not None:
                out[ident] = record
        return out

    def value(self, ident: int, field: str) -> Any:
        """One field of a record (models override it for fields they can read cheaply)."""
        record = self.record(ident)
        return record.get(field, False) if record is not None else False

    def getter(self, path: tuple[str, ...]) -> Callable[[int], Any]:
        """A function id -> value of a field path (one many2one hop at most)."""
        head = path[0]
        if len(path) == 1:
            return lambda i: self.value(i, head)
        relation = self.fields()[head].relation or ""
        related = self.env.model(relation)
        sub = path[1]

        def hop(i: int) -> Any:
            link = self.value(i, head)
            if not link or related is None:
                return False
            return related.value(int(link[0]), sub)

        return hop

    def company_of(self, ident: int) -> int:
        """The id of the record's company (0 for none)."""
        value = self.value(ident, "company_id")
        return int(value[0]) if value else 0


_ID = _f("integer", "ID", readonly=True)


# -- res.partner ----------------------------------------------------------------------------
class Partner(Model):
    """Contacts: the customers of the store."""

    name = "res.partner"
    description = "Contact"
    order = "complete_name asc, id desc"
    entity = "customers"
    deps = ("customers",)
    company_rule = "shared"
    FIELDS = {
        "name": _f("char", "Name"),
        "complete_name": _f("char", "Complete Name", readonly=True),
        "email": _f("char", "Email"),
        "phone": _f("char", "Phone"),
        "street": _f("char", "Street"),
        "street2": _f("char", "Street2"),
        "city": _f("char", "City"),
        "zip": _f("char", "Zip"),
        "state_id": _f("many2one", "State", relation="res.country.state"),
        "country_id": _f("many2one", "Country", relation="res.country"),
        "country_code": _f("char", "Country Code", store=False, readonly=True),
        "company_name": _f("char", "Company Name"),
        "parent_id": _f("many2one", "Related Company", relation="res.partner"),
        "commercial_company_name": _f("char", "Company Name Entity", readonly=True),
        "is_company": _f("boolean", "Is a Company"),
        "customer_rank": _f("integer", "Customer Rank"),
        "supplier_rank": _f("integer", "Supplier Rank"),
        "active": _f("boolean", "Active"),
        "company_id": _f("many2one", "Company", relation="res.company"),
        "type": _f(
            "selection",
            "Address Type",
            selection=(("contact", "Contact"), ("invoice", "Invoice Address"), ("other", "Other")),
        ),
        "lang": _f("selection", "Language", selection=(("en_US", "English (US)"),)),
        "vat": _f("char", "Tax ID"),
        "ref": _f("char", "Reference"),
        "website": _f("char", "Website Link"),
        **_DATES,
    }

    def ids(self) -> Sequence[int]:
        return self.store.ids("customers", with_archived=True)

    def value(self, ident: int, field: str) -> Any:
        store = self.store
        if field == "id":
            return ident
        if field == "active":
            return bool(store.attr("customers", ident, "active"))
        if field == "customer_rank":
            return int(store.attr("customers", ident, "customer_rank"))
        if field == "write_date":
            return data.odoo_datetime(int(store.attr("customers", ident, "date_modified")))
        if field == "create_date":
            return data.odoo_datetime(int(store.attr("customers", ident, "date_created")))
        if field == "company_id":
            return self.env.company(int(store.attr("customers", ident, "company_id") or 0))
        return super().value(ident, field)

    def record(self, ident: int) -> dict[str, Any] | None:
        r = self.store.get("customers", ident)
        if r is None:
            return None
        country = data.COUNTRY_BY_CODE.get(r["country"])
        state_id = data.STATE_IDS.get((r["country"], r["state"]))
        state = data.STATES_BY_ID.get(state_id or 0)
        name = f"{r['first_name']} {r['last_name']}".strip()
        return {
            "id": ident,
            "name": name,
            "complete_name": name,
            "display_name": name,
            "email": r["email"] or False,
            "phone": r["phone"] or False,
            "street": r["address_1"] or False,
            "street2": r["address_2"] or False,
            "city": r["city"] or False,
            "zip": r["postcode"] or False,
            "state_id": [state_id, f"{state[2]} ({r['country']})"] if state_id and state else False,
            "country_id": [country[0], country[2]] if country else False,
            "country_code": r["country"] or False,
            "company_name": r["company"] or False,
            "parent_id": False,
            "commercial_company_name": r["company"] or False,
            "is_company": False,
            "customer_rank": int(r["customer_rank"]),
            "supplier_rank": 0,
            "active": bool(r["active"]),
            "company_id": self.env.company(int(r.get("company_id") or 0)),
            "type": "contact",
            "lang": "en_US",
            "vat": False,
            "ref": False,
            "website": False,
            "create_date": data.odoo_datetime(r["date_created"]),
            "write_date": data.odoo_datetime(r["date_modified"]),
        }


# -- products -------------------------------------------------------------------------------
_PRODUCT_COMMON = {
    "name": _f("char", "Name", required=True),
    "default_code": _f("char", "Internal Reference"),
    "list_price": _f("float", "Sales Price"),
    "standard_price": _f("float", "Cost"),
    "type": _f(
        "selection",
        "Product Type",
        selection=(("consu", "Goods"), ("service", "Service"), ("combo", "Combo")),
    ),
    "is_storable": _f("boolean", "Track Inventory", app="stock"),
    "qty_available": _f("float", "Quantity On Hand", store=False, app="stock", readonly=True),
    "virtual_available": _f("float", "Forecasted Quantity", store=False, app="stock"),
    "sale_ok": _f("boolean", "Sales"),
    "purchase_ok": _f("boolean", "Purchase"),
    "active": _f("boolean", "Active"),
    "company_id": _f("many2one", "Company", relation="res.company"),
    "categ_id": _f("many2one", "Product Category", relation="product.category"),
    "barcode": _f("char", "Barcode"),
    **_DATES,
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
        "product_variant_ids": _f("one2many", "Products", relation="product.product"),
        "product_variant_count": _f("integer", "# Product Variants", store=False),
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
        "product_tmpl_id": _f("many2one", "Product Template", relation="product.template"),
        "lst_price": _f("float", "Sales Price", store=False),
        "free_qty": _f("float", "Free To Use Quantity", store=False, app="stock"),
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


# -- sales ----------------------------------------------------------------------------------
class SaleOrder(Model):
    """Sales orders (WooCommerce orders that are not in the trash)."""

    name = "sale.order"
    description = "Sales Order"
    order = "date_order desc, id desc"
    entity = "orders"
    deps = ("orders", "customers", "products")
    company_rule = "strict"
    FIELDS = {
        "name": _f("char", "Order Reference", required=True, readonly=True),
        "state": _f("selection", "Status", selection=ORDER_STATES, readonly=True),
        "partner_id": _f("many2one", "Customer", relation="res.partner", required=True),
        "date_order": _f("datetime", "Order Date", required=True),
        "currency_id": _f("many2one", "Currency", relation="res.currency"),
        "amount_untaxed": _f("monetary", "Untaxed Amount", readonly=True),
        "amount_tax": _f("monetary", "Taxes", readonly=True),
        "amount_total": _f("monetary", "Total", readonly=True),
        "order_line": _f("one2many", "Order Lines", relation="sale.order.line"),
        "company_id": _f("many2one", "Company", relation="res.company", required=True),
        "client_order_ref": _f("char", "Customer Reference"),
        "user_id": _f("many2one", "Salesperson", relation="res.users"),
        **_DATES,
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
        "order_id": _f("many2one", "Order Reference", relation="sale.order", required=True),
        "sequence": _f("integer", "Sequence"),
        "display_type": _f(
            "selection",
            "Display Type",
            selection=(("line_section", "Section"), ("line_note", "Note")),
        ),
        "product_id": _f("many2one", "Product", relation="product.product"),
        "name": _f("text", "Description", required=True),
        "product_uom_qty": _f("float", "Quantity"),
        "price_unit": _f("float", "Unit Price"),
        "discount": _f("float", "Discount (%)"),
        "price_subtotal": _f("monetary", "Subtotal", readonly=True),
        "price_tax": _f("float", "Total Tax", readonly=True),
        "price_total": _f("monetary", "Total", readonly=True),
        "is_delivery": _f("boolean", "Is a Delivery"),
        "currency_id": _f("many2one", "Currency", relation="res.currency"),
        "company_id": _f("many2one", "Company", relation="res.company"),
        "state": _f("selection", "Order Status", selection=ORDER_STATES, readonly=True),
        **_DATES,
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


# -- reference data -------------------------------------------------------------------------
class _Static(Model):
    def rows(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def ids(self) -> Sequence[int]:
        return sorted(int(r["id"]) for r in self.rows())

    def record(self, ident: int) -> dict[str, Any] | None:
        return next((r for r in self.rows() if r["id"] == ident), None)


class Country(_Static):
    """Countries."""

    name = "res.country"
    description = "Country"
    order = "name"
    FIELDS = {
        "name": _f("char", "Country Name", required=True),
        "code": _f("char", "Country Code"),
        "display_name": _DATES["display_name"],
    }

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"id": c[0], "name": c[2], "code": c[1], "display_name": c[2]} for c in data.COUNTRIES
        ]


class CountryState(_Static):
    """Federal states."""

    name = "res.country.state"
    description = "Country state"
    order = "country_id, code"
    FIELDS = {
        "name": _f("char", "State Name", required=True),
        "code": _f("char", "State Code", required=True),
        "country_id": _f("many2one", "Country", relation="res.country", required=True),
        "display_name": _DATES["display_name"],
    }

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for sid, (country, code, name) in data.STATES_BY_ID.items():
            c = data.COUNTRY_BY_CODE[country]
            out.append(
                {
                    "id": sid,
                    "name": name,
                    "code": code,
                    "country_id": [c[0], c[2]],
                    "display_name": f"{name} ({country})",
                }
            )
        return out


class Currency(_Static):
    """Currencies."""

    name = "res.currency"
    description = "Currency"
    order = "active desc, name"
    FIELDS = {
        "name": _f("char", "Currency", required=True),
        "symbol": _f("char", "Symbol"),
        "active": _f("boolean", "Active"),
        "display_name": _DATES["display_name"],
    }

    def rows(self) -> list[dict[str, Any]]:
        symbols = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "$", "AUD": "$", "BRL": "R$"}
        return [
            {"id": cid, "name": code, "symbol": symbols[code], "active": True, "display_name": code}
            for code, cid in data.CURRENCY_IDS.items()
        ]


class Company(_Static):
    """Companies (two in every sandbox; the second has records only in a real-world one)."""

    name = "res.company"
    description = "Companies"
    order = "sequence, name"
    FIELDS = {
        "name": _f("char", "Company Name", required=True),
        "sequence": _f("integer", "Sequence"),
        "currency_id": _f("many2one", "Currency", relation="res.currency"),
        "country_id": _f("many2one", "Country", relation="res.country"),
        "display_name": _DATES["display_name"],
    }

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for cid, (name, currency, country) in data.ODOO_COMPANIES.items():
            c = data.COUNTRY_BY_CODE[country]
            out.append(
                {
                    "id": cid,
                    "name": name,
                    "sequence": cid,
                    "currency_id": [data.CURRENCY_IDS[currency], currency],
                    "country_id": [c[0], c[2]],
                    "display_name": name,
                }
            )
        return out


class Users(_Static):
    """Users: the API user."""

    name = "res.users"
    description = "User"
    order = "name, login"
    FIELDS = {
        "name": _f("char", "Name", required=True),
        "login": _f("char", "Login", required=True),
        "active": _f("boolean", "Active"),
        "partner_id": _f("many2one", "Related Partner", relation="res.partner", required=True),
        "company_id": _f("many2one", "Company", relation="res.company", required=True),
        "company_ids": _f("many2many", "Companies", relation="res.company"),
        "lang": _f("selection", "Language", selection=(("en_US", "English (US)"),)),
        "tz": _f("selection", "Timezone", selection=(("UTC", "UTC"),)),
        "display_name": _DATES["display_name"],
    }

    def rows(self) -> list[dict[str, Any]]:
        companies = list(self.env.profile.odoo_companies) or [1]
        return [
            {
                "id": UID,
                "name": "Mitchell Admin",
                "login": self.env.login,
                "active": True,
                "partner_id": [1, self.env.partner_name(1)],
                "company_id": self.env.company(companies[0]),
                "company_ids": companies,
                "lang": "en_US",
                "tz": "UTC",
                "display_name": "Mitchell Admin",
            }
        ]


class IrModel(_Static):
    """The models of this database (odoorpc looks a model up here before using it)."""

    name = "ir.model"
    description = "Models"
    order = "model"
    FIELDS = {
        "name": _f("char", "Model Description", required=True),
        "model": _f("char", "Model", required=True),
        "state": _f(
            "selection",
            "Type",
            selection=(("manual", "Custom Object"), ("base", "Base Object")),
        ),
        "display_name": _DATES["display_name"],
    }

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "id": n,
                "name": cls.description,
                "model": name,
                "state": "base",
                "display_name": cls.description,
            }
            for n, (name, cls) in enumerate(sorted(MODELS.items()), start=1)
        ]


MODELS: dict[str, type[Model]] = {
    cls.name: cls
    for cls in (
        Partner,
        ProductTemplate,
        ProductProduct,
        SaleOrder,
        SaleOrderLine,
        Country,
        CountryState,
        Currency,
        Company,
        Users,
        IrModel,
    )
}
