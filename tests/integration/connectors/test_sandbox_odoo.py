"""The Odoo sandbox answers as a real Odoo 19 does (core/sandbox/README.md names the Odoo
code each rule follows), over XML-RPC, JSON-RPC and JSON-2 on real loopback HTTP."""

from __future__ import annotations

import json
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from core.sandbox import SandboxServer

from .conftest import ODOO_KEY, ODOO_PASSWORD

pytestmark = pytest.mark.timeout(60)
CASES = Path(__file__).resolve().parents[2] / "cases"
DB = "sandbox"


class Odoo:
    """execute_kw over /xmlrpc/2, as Odoo's external API documentation shows it."""

    def __init__(self, url: str) -> None:
        self.common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common")
        self.models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object")
        self.uid = self.common.authenticate(DB, "admin", ODOO_PASSWORD, {})

    def __call__(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.models.execute_kw(
            DB, self.uid, ODOO_PASSWORD, model, method, list(args), kwargs
        )

    def close(self) -> None:
        self.common("close")()
        self.models("close")()


@pytest.fixture
def odoo(rw: SandboxServer) -> Iterator[Odoo]:
    client = Odoo(rw.url)
    yield client
    client.close()


def json2(
    server: SandboxServer, model: str, method: str, body: dict[str, Any], key: str = ODOO_KEY
) -> requests.Response:
    return requests.post(
        f"{server.url}/json/2/{model}/{method}",
        headers={"Authorization": f"bearer {key}", "X-Odoo-Database": DB},
        json=body,
        timeout=10,
    )


def fault(call: Any) -> xmlrpc.client.Fault:
    with pytest.raises(xmlrpc.client.Fault) as caught:
        call()
    return caught.value


# -- archived records -------------------------------------------------------------------------
def test_archived_records_are_hidden_unless_asked_for(rw: SandboxServer, odoo: Odoo) -> None:
    archived = [i for i in range(1, 401) if rw.store.attr("customers", i, "active") is False]
    assert archived, "the real-world data set has archived partners"
    active = odoo("res.partner", "search", [])
    assert not set(archived) & set(active)
    only_archived = odoo("res.partner", "search", [["active", "=", False]], order="id")
    assert only_archived == sorted(archived)
    everything = odoo("res.partner", "search", [], context={"active_test": False})
    assert len(everything) == len(active) + len(archived)
    both = odoo("res.partner", "search_count", [["active", "in", [True, False]]])
    assert both == len(everything)
    # read does not filter: an archived record is read like any other
    assert odoo("res.partner", "read", archived[:1], ["active"]) == [
        {"id": archived[0], "active": False}
    ]
    templates = odoo("product.template", "search_count", [["active", "=", False]])
    assert templates == sum(
        1 for i in range(1, 101) if rw.store.attr("products", i, "active") is False
    )


# -- unknown fields, models, methods, wrong arguments ----------------------------------------
def test_unknown_fields_raise_odoos_value_error(odoo: Odoo) -> None:
    in_fields = fault(lambda: odoo("res.partner", "search_read", [], fields=["name", "nickname"]))
    assert in_fields.faultCode == 1
    assert in_fields.faultString.splitlines()[-1] == (
        "ValueError: Invalid field 'nickname' on model 'res.partner'"
    )
    in_domain = fault(lambda: odoo("res.partner", "search", [["nickname", "=", "x"]]))
    assert in_domain.faultString.splitlines()[-1] == (
        "ValueError: Invalid field res.partner.nickname in condition ('nickname', '=', 'x')"
    )
    in_order = fault(lambda: odoo("res.partner", "search", [], order="nickname desc"))
    assert in_order.faultString.splitlines()[-1] == (
        "ValueError: Invalid field 'nickname' on model 'res.partner'"
    )
    operator = fault(lambda: odoo("res.partner", "search", [["name", "is", "x"]]))
    assert operator.faultString.splitlines()[-1] == (
        "ValueError: Invalid operator in condition ('name', 'is', 'x')"
    )


def test_fault_codes_for_models_methods_arguments_and_credentials(
    rw: SandboxServer, odoo: Odoo
) -> None:
    model = fault(lambda: odoo("res.partnr", "search", []))
    assert (model.faultCode, model.faultString) == (2, "Object res.partnr doesn't exist")
    method = fault(lambda: odoo("res.partner", "search_reed", []))
    assert method.faultCode == 1
    assert method.faultString.splitlines()[-1] == (
        "AttributeError: The method 'res.partner.search_reed' does not exist"
    )
    arguments = fault(lambda: odoo("res.partner", "search", [], limt=5))
    assert arguments.faultCode == 1
    assert arguments.faultString.splitlines()[-1] == (
        "TypeError: BaseModel.search() got an unexpected keyword argument 'limt'"
    )
    private = fault(lambda: odoo("res.partner", "_search", []))
    assert private.faultCode == 4
    assert private.faultString == (
        "Private methods (such as 'res.partner._search') cannot be called remotely."
    )
    denied = fault(lambda: odoo.models.execute_kw(DB, 2, "wrong", "res.partner", "search", [[]]))
    assert (denied.faultCode, denied.faultString) == (3, "Access Denied")


def test_fields_get_and_the_inventory_app(rw: SandboxServer, odoo: Odoo) -> None:
    described = odoo("product.product", "fields_get", attributes=["type", "string"])
    assert described["qty_available"] == {"type": "float", "string": "Quantity On Hand"}
    assert described["product_tmpl_id"] == {"type": "many2one", "string": "Product Template"}
    full = odoo("res.partner", "fields_get", ["country_id", "type"])
    assert full["country_id"]["relation"] == "res.country"
    assert ["contact", "Contact"] in full["type"]["selection"]
    rw.profile.odoo_inventory = False
    without = odoo("product.product", "fields_get", attributes=["type"])
    assert "qty_available" not in without and "is_storable" not in without
    refused = fault(lambda: odoo("product.product", "search_read", [], fields=["qty_available"]))
    assert refused.faultString.splitlines()[-1] == (
        "ValueError: Invalid field 'qty_available' on model 'product.product'"
    )


def test_read_without_fields_returns_every_field_fields_get_lists(odoo: Odoo) -> None:
    for model in ("res.partner", "product.template", "product.product", "sale.order"):
        listed = set(odoo(model, "fields_get", attributes=["type"]))
        ids = odoo(model, "search", [], limit=3, order="id")
        rows = odoo(model, "read", ids)
        assert rows and all(set(row) == listed for row in rows), model
    lines = odoo("sale.order.line", "search", [["order_id", "=", 1]])
    listed = set(odoo("sale.order.line", "fields_get", attributes=["type"]))
    assert all(set(row) == listed for row in odoo("sale.order.line", "read", lines))


# -- products ----------------------------------------------------------------------------------
def test_templates_and_variants(rw: SandboxServer, odoo: Odoo) -> None:
    templates = odoo(
        "product.template",
        "search_read",
        [["product_variant_count", ">", 1]],
        fields=["name", "product_variant_ids", "default_code"],
        context={"active_test": False},
    )
    variable = [i for i in range(1, 101) if rw.store.attr("products", i, "type") == "variable"]
    assert sorted(t["id"] for t in templates) == variable
    template = templates[0]
    variants = odoo(
        "product.product",
        "read",
        template["product_variant_ids"],
        ["product_tmpl_id", "default_code", "lst_price"],
    )
    assert {v["product_tmpl_id"][0] for v in variants} == {template["id"]}
    assert all(v["default_code"] for v in variants) and template["default_code"] is False
    # a variable product is a template only: no variant has its id
    assert odoo("product.product", "search", [["id", "=", template["id"]]]) == []


# -- order lines -------------------------------------------------------------------------------
def test_section_note_and_delivery_lines(rw: SandboxServer, odoo: Odoo) -> None:
    lines = odoo(
        "sale.order.line",
        "search_read",
        [],
        fields=["order_id", "display_type", "product_id", "product_uom_qty", "is_delivery"],
    )
    kinds = {line["display_type"] for line in lines}
    assert {"line_section", "line_note", False} <= kinds
    sections = [line for line in lines if line["display_type"]]
    assert all(not line["product_id"] and line["product_uom_qty"] == 0 for line in sections)
    delivery = [line for line in lines if line["is_delivery"]]
    assert delivery and all(
        line["product_id"][1].endswith("Standard delivery") for line in delivery
    )
    order_id = sections[0]["order_id"][0]
    order = odoo("sale.order", "read", [order_id], ["order_line", "amount_untaxed"])[0]
    ordered = odoo("sale.order.line", "read", order["order_line"], ["display_type", "sequence"])
    assert ordered[0]["display_type"] == "line_section"
    sequences = [line["sequence"] for line in ordered]
    assert sequences == sorted(sequences)


# -- companies --------------------------------------------------------------------------------
def test_company_id_and_allowed_company_ids(rw: SandboxServer, odoo: Odoo) -> None:
    orders = odoo("sale.order", "search_read", [], fields=["company_id"], context={})
    companies = {o["company_id"][0] for o in orders}
    assert companies == {1, 2}
    only_first = odoo("sale.order", "search_count", [], context={"allowed_company_ids": [1]})
    assert only_first == sum(1 for o in orders if o["company_id"][0] == 1)
    partners = odoo("res.partner", "search_read", [], fields=["company_id"])
    shared = sum(1 for p in partners if p["company_id"] is False)
    assert 0 < shared < len(partners)
    first = odoo("res.partner", "search_count", [], context={"allowed_company_ids": [1]})
    assert first == shared  # partners of no company plus those of company 1 (none here)


def test_companies_the_api_user_does_not_belong_to(rw: SandboxServer, odoo: Odoo) -> None:
    second = odoo("sale.order", "search", [["company_id", "=", 2]], limit=1)
    rw.profile.odoo_companies = (1,)
    assert odoo("sale.order", "search", [["company_id", "=", 2]]) == []
    refused = fault(lambda: odoo("sale.order", "read", second, ["name"]))
    assert refused.faultCode == 4 and "top-secret records" in refused.faultString
    assert "- Sales Order (sale.order)" in refused.faultString
    unauthorized = fault(
        lambda: odoo("sale.order", "search", [], context={"allowed_company_ids": [2]})
    )
    assert (unauthorized.faultCode, unauthorized.faultString) == (
        4,
        "Access to unauthorized or invalid companies.",
    )


# -- domains and order ------------------------------------------------------------------------
def test_or_not_and_like_operators(rw: SandboxServer, odoo: Odoo) -> None:
    partners = odoo("res.partner", "search_read", [], fields=["name", "email", "city"], order="id")
    by_id = {p["id"]: p for p in partners}

    def ids(domain: list[Any]) -> list[int]:
        return sorted(odoo("res.partner", "search", domain))

    berlin_or_paris = ids(["|", ["city", "=", "Berlin"], ["city", "=", "Paris"]])
    assert berlin_or_paris == sorted(
        i for i, p in by_id.items() if p["city"] in ("Berlin", "Paris")
    )
    assert ids(["!", ["city", "=", "Berlin"]]) == sorted(
        i for i, p in by_id.items() if p["city"] != "Berlin"
    )
    assert ids(["&", ["city", "=", "Berlin"], ["email", "ilike", "EXAMPLE.COM"]]) == sorted(
        i for i, p in by_id.items() if p["city"] == "Berlin" and "example.com" in p["email"]
    )
    assert ids([["name", "like", "Mü"]]) == sorted(i for i, p in by_id.items() if "Mü" in p["name"])
    assert ids([["name", "like", "mü"]]) == []  # like is case-sensitive
    assert ids([["name", "=like", "A%"]]) == sorted(
        i for i, p in by_id.items() if p["name"].startswith("A")
    )
    assert ids([["email", "=ilike", "OLIVIA.%"]]) == sorted(
        i for i, p in by_id.items() if p["email"].startswith("olivia.")
    )
    assert ids([["name", "not ilike", "a"]]) == sorted(
        i for i, p in by_id.items() if "a" not in p["name"].lower()
    )
    assert ids([["country_id.code", "=", "DE"]]) == ids([["country_code", "=", "DE"]])


def test_order_on_any_stored_field(rw: SandboxServer, odoo: Odoo) -> None:
    rows = odoo(
        "res.partner", "search_read", [], fields=["name", "write_date"], order="name desc, id"
    )
    names = [r["name"].lower() for r in rows]
    assert names == sorted(names, reverse=True)
    dated = odoo(
        "sale.order", "search_read", [], fields=["date_order"], order="date_order", limit=50
    )
    stamps = [o["date_order"] for o in dated]
    assert stamps == sorted(stamps)
    default = odoo("sale.order", "search_read", [], fields=["date_order"], limit=5)
    assert [o["date_order"] for o in default] == sorted(
        (o["date_order"] for o in default), reverse=True
    )  # sale.order's own order: date_order desc
    computed = fault(lambda: odoo("res.partner", "search", [], order="display_name"))
    assert computed.faultString.splitlines()[-1] == (
        "ValueError: Cannot convert res.partner.display_name to SQL because it is not stored"
    )
    garbage = fault(lambda: odoo("res.partner", "search", [], order="name; drop table"))
    assert garbage.faultCode == 2 and garbage.faultString.startswith('Invalid "order" specified')


# -- the other endpoints ----------------------------------------------------------------------
def test_legacy_xmlrpc_has_string_fault_codes(rw: SandboxServer) -> None:
    with (
        xmlrpc.client.ServerProxy(f"{rw.url}/xmlrpc/common") as common,
        xmlrpc.client.ServerProxy(f"{rw.url}/xmlrpc/object") as models,
        xmlrpc.client.ServerProxy(f"{rw.url}/xmlrpc/2/db") as db,
    ):
        assert common.login(DB, "admin", ODOO_PASSWORD) == 2
        countries: Any = models.execute(DB, 2, ODOO_PASSWORD, "res.country", "search_count", [])
        assert countries > 0
        assert db.list() == [DB] and db.server_version() == "19.0"
        denied = fault(lambda: models.execute(DB, 2, "wrong", "res.partner", "search", []))
        assert (denied.faultCode, denied.faultString) == ("AccessDenied", "Access Denied")
        missing = fault(lambda: models.execute(DB, 2, ODOO_PASSWORD, "no.model", "search", []))
        assert missing.faultCode == "warning -- UserError\n\nObject no.model doesn't exist"


def test_jsonrpc_and_web_session(rw: SandboxServer) -> None:
    def call(path: str, params: dict[str, Any], session: requests.Session) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "method": "call", "params": params, "id": 7}
        answer = session.post(f"{rw.url}{path}", json=body, timeout=10)
        assert answer.status_code == 200
        return dict(answer.json())

    with requests.Session() as http:
        version = call("/web/webclient/version_info", {}, http)
        assert version["result"]["server_version"] == "19.0" and version["id"] == 7
        assert call("/web/database/list", {}, http)["result"] == [DB]
        login = {"service": "common", "method": "login", "args": [DB, "admin", ODOO_PASSWORD]}
        assert call("/jsonrpc", login, http)["result"] == 2
        wrong = call(
            "/web/session/authenticate", {"db": DB, "login": "admin", "password": "x"}, http
        )
        assert wrong["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
        expired = call(
            "/web/dataset/call_kw", {"model": "res.partner", "method": "search", "args": [[]]}, http
        )
        assert expired["error"]["code"] == 100
        session = call(
            "/web/session/authenticate",
            {"db": DB, "login": "admin", "password": ODOO_PASSWORD},
            http,
        )
        assert session["result"]["uid"] == 2 and "session_id" in http.cookies
        counted = call(
            "/web/dataset/call_kw/res.partner/search_count",
            {"model": "res.partner", "method": "search_count", "args": [[]], "kwargs": {}},
            http,
        )
        assert counted["result"] > 0
        bad = call(
            "/jsonrpc",
            {
                "service": "object",
                "method": "execute_kw",
                "args": [DB, 2, ODOO_PASSWORD, "res.partner", "read", [[1]], {"fields": ["x"]}],
            },
            http,
        )
        assert bad["error"]["message"] == "Odoo Server Error"
        assert bad["error"]["data"]["name"] == "builtins.ValueError"
        assert bad["error"]["data"]["message"] == "Invalid field 'x' on model 'res.partner'"


def test_json2_is_as_strict(rw: SandboxServer) -> None:
    docs = json.loads((CASES / "odoo_json2_docs.json").read_text())
    request = docs["search_read_request"]["body"]
    found = json2(rw, "res.partner", "search_read", request)
    assert found.status_code == 200
    assert all(set(row) == {"id", "name"} for row in found.json())
    denied = json2(rw, "res.partner", "search_read", request, key="wrong")
    assert denied.status_code == docs["error_401"]["status"]
    assert {k: v for k, v in denied.json().items() if k != "debug"} == docs["error_401"]["body"]
    assert requests.get(f"{rw.url}/web/version", timeout=10).json() == docs["web_version"]
    unknown_field = json2(rw, "res.partner", "search_read", {"domain": [], "fields": ["x"]})
    assert unknown_field.status_code == 500
    assert unknown_field.json()["name"] == "builtins.ValueError"
    unknown_model = json2(rw, "res.partnr", "search", {"domain": []})
    assert unknown_model.status_code == 404
    assert unknown_model.json()["message"] == "the model 'res.partnr' does not exist"
    unknown_method = json2(rw, "res.partner", "search_reed", {})
    assert unknown_method.status_code == 404
    bad_kwarg = json2(rw, "res.partner", "search", {"domain": [], "limt": 3})
    assert (bad_kwarg.status_code, bad_kwarg.json()["message"]) == (
        422,
        "got an unexpected keyword argument 'limt'",
    )
    with_ids = json2(rw, "res.partner", "search_count", {"ids": [1], "domain": []})
    assert (with_ids.status_code, with_ids.json()["message"]) == (
        422,
        "cannot call res.partner.search_count with ids",
    )
    visible = json2(rw, "res.partner", "search_count", {"domain": []}).json()
    everything = json2(
        rw, "res.partner", "search_count", {"domain": [], "context": {"active_test": False}}
    ).json()
    assert everything > visible
    rw.profile.odoo_companies = (1,)
    refused = json2(
        rw, "sale.order", "search", {"domain": [], "context": {"allowed_company_ids": [2]}}
    )
    assert refused.status_code == 403 and refused.json()["name"] == "odoo.exceptions.AccessError"
