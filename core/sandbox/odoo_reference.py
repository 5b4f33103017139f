"""Reference models: countries, states, currencies, companies, the API user, ir.model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.sandbox import data
from core.sandbox.odoo_base import COMMON, UID, Model, field


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
        "name": field("char", "Country Name", required=True),
        "code": field("char", "Country Code"),
        "display_name": COMMON["display_name"],
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
        "name": field("char", "State Name", required=True),
        "code": field("char", "State Code", required=True),
        "country_id": field("many2one", "Country", relation="res.country", required=True),
        "display_name": COMMON["display_name"],
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
        "name": field("char", "Currency", required=True),
        "symbol": field("char", "Symbol"),
        "active": field("boolean", "Active"),
        "display_name": COMMON["display_name"],
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
        "name": field("char", "Company Name", required=True),
        "sequence": field("integer", "Sequence"),
        "currency_id": field("many2one", "Currency", relation="res.currency"),
        "country_id": field("many2one", "Country", relation="res.country"),
        "display_name": COMMON["display_name"],
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
        "name": field("char", "Name", required=True),
        "login": field("char", "Login", required=True),
        "active": field("boolean", "Active"),
        "partner_id": field("many2one", "Related Partner", relation="res.partner", required=True),
        "company_id": field("many2one", "Company", relation="res.company", required=True),
        "company_ids": field("many2many", "Companies", relation="res.company"),
        "lang": field("selection", "Language", selection=(("en_US", "English (US)"),)),
        "tz": field("selection", "Timezone", selection=(("UTC", "UTC"),)),
        "display_name": COMMON["display_name"],
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
        "name": field("char", "Model Description", required=True),
        "model": field("char", "Model", required=True),
        "state": field(
            "selection",
            "Type",
            selection=(("manual", "Custom Object"), ("base", "Base Object")),
        ),
        "display_name": COMMON["display_name"],
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
            for n, (name, cls) in enumerate(sorted(self.env.registry.items()), start=1)
        ]
