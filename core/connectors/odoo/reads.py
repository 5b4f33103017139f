"""What the Odoo connector reads of each entity: models, fields, domains, and which fields
depend on an app that an installation may not have.

A canonical field is *not available* when a wire field it needs is missing from the model
(``fields_get``): the Inventory app adds ``qty_available`` to products, the Invoicing app
``customer_rank`` to contacts, and so on. Such a field is not compared, and the preview says
so; it is never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

MODELS: Final = {"customers": "res.partner", "products": "product.product", "orders": "sale.order"}
LINE_MODEL: Final = "sale.order.line"

#: The wire fields read per entity (those the model has: see ``EntityRead``).
FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "customers": (
        "name",
        "email",
        "phone",
        "street",
        "street2",
        "city",
        "zip",
        "state_id",
        "country_id",
        "country_code",
        "company_name",
        "parent_id",
        "commercial_company_name",
        "active",
        "company_id",
        "write_date",
    ),
    "products": (
        "default_code",
        "name",
        "lst_price",
        "list_price",
        "qty_available",
        "active",
        "type",
        "sale_ok",
        "product_tmpl_id",
        "product_variant_count",
        "company_id",
        "write_date",
    ),
    "orders": (
        "name",
        "state",
        "currency_id",
        "amount_total",
        "partner_id",
        "date_order",
        "order_line",
        "company_id",
        "write_date",
    ),
}
#: Order lines: ``display_type`` (sections and notes, Sales) and ``is_delivery`` (Delivery).
LINE_FIELDS: Final = (
    "order_id",
    "product_id",
    "product_uom_qty",
    "price_subtotal",
    "display_type",
    "is_delivery",
)

#: Canonical field -> the wire fields it needs; missing one makes the field not available.
NEEDS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "customers": {
        "email": ("email",),
        "name": ("name",),
        "phone": ("phone",),
        "address_1": ("street",),
        "address_2": ("street2",),
        "city": ("city",),
        "state": ("state_id",),
        "postcode": ("zip",),
        "country": ("country_code",),
        "status": ("active",),
    },
    "products": {
        "sku": ("default_code",),
        "name": ("name",),
        "price": ("lst_price",),
        "regular_price": ("list_price",),
        "stock_quantity": ("qty_available",),
        "status": ("active",),
        "type": ("type",),
        "parent_id": ("product_tmpl_id", "product_variant_count"),
    },
    "orders": {
        "number": ("name",),
        "status": ("state",),
        "currency": ("currency_id",),
        "total": ("amount_total",),
        "customer_email": ("partner_id",),
        "created_at": ("date_order",),
        "lines": ("order_line",),
    },
}

#: Contacts that are customers; without the Invoicing app there are no ranks (all contacts).
CUSTOMER_DOMAIN: Final[list[Any]] = [["customer_rank", ">", 0]]


@dataclass(frozen=True)
class EntityRead:
    """How one entity is read from one Odoo installation (after asking for its fields)."""

    entity_type: str
    model: str
    fields: tuple[str, ...]  # the wire fields the model has, of those wanted
    line_fields: tuple[str, ...]  # orders: the line fields sale.order.line has
    domain: tuple[Any, ...]
    not_available: tuple[str, ...]  # canonical fields
    missing: tuple[str, ...]  # the wire fields wanted that the model does not have
    notes: tuple[str, ...]  # what the preview should say about the above

    @classmethod
    def of(
        cls,
        entity_type: str,
        have: frozenset[str],
        line_have: frozenset[str] = frozenset(),
    ) -> EntityRead:
        """The read of ``entity_type`` given the fields its model has (``have``) and, for
        orders, those of the order lines (``line_have``)."""
        model = MODELS[entity_type]
        wanted = FIELDS[entity_type]
        missing = tuple(f for f in wanted if f not in have)
        unavailable = tuple(
            field
            for field, needs in NEEDS[entity_type].items()
            if any(need not in have for need in needs)
        )
        notes: list[str] = []
        if unavailable:
            notes.append(_unavailable_note(model, missing, unavailable))
        domain: tuple[Any, ...] = ()
        if entity_type == "customers":
            if "customer_rank" in have:
                domain = tuple(CUSTOMER_DOMAIN)
            else:
                notes.append(
                    "This Odoo has no customer ranks (the Invoicing app is not installed): "
                    "every contact is read as a customer."
                )
        line_fields = tuple(f for f in LINE_FIELDS if f in line_have)
        return cls(
            entity_type,
            model,
            tuple(f for f in wanted if f in have),
            line_fields,
            domain,
            unavailable,
            missing,
            tuple(notes),
        )


def _unavailable_note(model: str, missing: tuple[str, ...], unavailable: tuple[str, ...]) -> str:
    fields = ", ".join(missing)
    return (
        f"Not in this Odoo: {fields} ({model}; the app that adds "
        f"{'it' if len(missing) == 1 else 'them'} is not installed), so "
        f"{', '.join(unavailable)} {'is' if len(unavailable) == 1 else 'are'} not compared."
    )


def companies_note(
    seen: Mapping[int, str], shared: bool, chosen: tuple[int, ...], entity_type: str
) -> str | None:
    """Which companies' records a read met ("Odoo companies read: …"), or None."""
    if not seen and not shared:
        return None
    names = [f"{name} (id {ident})" for ident, name in sorted(seen.items())]
    if shared:
        names.append(f"{entity_type} of no company")
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    whose = (
        f"the companies chosen for this connector: {', '.join(str(c) for c in chosen)}"
        if chosen
        else "every company of the API user"
    )
    return (
        f"Odoo companies read: {listed} ({whose}). Records of other companies are "
        "invisible to this connector: local records of them show as deleted."
    )
