"""res.partner: the store's customers as Odoo contacts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.sandbox import data
from core.sandbox.odoo_base import COMMON, Model, field


class Partner(Model):
    """Contacts: the customers of the store."""

    name = "res.partner"
    description = "Contact"
    order = "complete_name asc, id desc"
    entity = "customers"
    deps = ("customers",)
    company_rule = "shared"
    FIELDS = {
        "name": field("char", "Name"),
        "complete_name": field("char", "Complete Name", readonly=True),
        "email": field("char", "Email"),
        "phone": field("char", "Phone"),
        "street": field("char", "Street"),
        "street2": field("char", "Street2"),
        "city": field("char", "City"),
        "zip": field("char", "Zip"),
        "state_id": field("many2one", "State", relation="res.country.state"),
        "country_id": field("many2one", "Country", relation="res.country"),
        "country_code": field("char", "Country Code", store=False, readonly=True),
        "company_name": field("char", "Company Name"),
        "parent_id": field("many2one", "Related Company", relation="res.partner"),
        "commercial_company_name": field("char", "Company Name Entity", readonly=True),
        "is_company": field("boolean", "Is a Company"),
        "customer_rank": field("integer", "Customer Rank"),
        "supplier_rank": field("integer", "Supplier Rank"),
        "active": field("boolean", "Active"),
        "company_id": field("many2one", "Company", relation="res.company"),
        "type": field(
            "selection",
            "Address Type",
            selection=(("contact", "Contact"), ("invoice", "Invoice Address"), ("other", "Other")),
        ),
        "lang": field("selection", "Language", selection=(("en_US", "English (US)"),)),
        "vat": field("char", "Tax ID"),
        "ref": field("char", "Reference"),
        "website": field("char", "Website Link"),
        **COMMON,
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
