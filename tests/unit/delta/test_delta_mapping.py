"""Mapping real wire payloads (tests/cases) to canonical records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest

from core.delta import RecordError, UnknownType, canonical_frame, diff, to_canonical

CASES = Path(__file__).resolve().parents[2] / "cases"


def load(name: str) -> list[dict[str, Any]]:
    return json.loads((CASES / name).read_text(encoding="utf-8"))


def test_woocommerce_customer_from_the_docs() -> None:
    john, joao = load("woo_customers.json")
    assert to_canonical("woocommerce", "customers", john) == {
        "external_id": "25",
        "email": "john.doe@example.com",
        "name": "John Doe",
        "phone": "(555) 555-5555",
        "company": None,
        "address_1": "969 Market",
        "address_2": None,
        "city": "San Francisco",
        "state": "CA",
        "postcode": "94103",
        "country": "US",
        "status": "active",  # a registered customer
    }
    # Empty top-level names fall back to the billing names.
    assert to_canonical("woocommerce", "customers", joao)["name"] == "João Silva"


def test_woocommerce_products_from_the_docs() -> None:
    premium, idea = load("woo_products.json")
    assert to_canonical("woocommerce", "products", premium) == {
        "external_id": "794",
        "sku": None,
        "name": "Premium Quality",
        "price": "21.99",
        "regular_price": "21.99",
        "sale_price": None,
        "stock_quantity": None,
        "status": "publish",
        "type": "simple",
        "parent_id": None,  # WooCommerce's parent_id 0: no parent
    }
    canonical = to_canonical("woocommerce", "products", idea)
    assert (canonical["regular_price"], canonical["sale_price"]) == ("24.00", "20.00")
    assert canonical["stock_quantity"] == 12


def test_woocommerce_order_from_the_docs() -> None:
    (order,) = load("woo_orders.json")
    assert to_canonical("woocommerce", "orders", order) == {
        "external_id": "727",
        "number": "727",
        "status": "processing",
        "currency": "USD",
        "total": "29.35",
        "customer_email": "john.doe@example.com",
        "created_at": "2017-03-22T19:28:02Z",  # date_created_gmt, not the store-local time
        "lines": [
            {"sku": None, "quantity": 2, "total": "6.00"},
            {"sku": "Bar3", "quantity": 1, "total": "12.00"},
        ],
    }


def test_odoo_partners() -> None:
    company, contact, bare = load("odoo_partners.json")
    assert to_canonical("odoo", "customers", company) == {
        "external_id": "9",
        "email": "deco_addict@yourcompany.example.com",
        "name": "Deco Addict",
        "phone": "(603)-996-3829",
        "company": None,  # its commercial company is itself
        "address_1": "77 Santa Barbara Rd",
        "address_2": None,
        "city": "Pleasant Hill",
        "state": "CA",
        "postcode": "94523",
        "country": "US",
        "status": "active",
    }
    assert to_canonical("odoo", "customers", contact)["company"] == "Azure Interior"
    canonical = to_canonical("odoo", "customers", bare)
    assert canonical["email"] is None and canonical["state"] is None
    assert canonical["country"] is None


def test_odoo_products() -> None:
    desk, cabinet, service = load("odoo_products.json")
    assert to_canonical("odoo", "products", desk) == {
        "external_id": "12",
        "sku": "FURN_0096",
        "name": "Customizable Desk",
        "price": "750.00",
        "regular_price": "750.00",
        "sale_price": None,
        "stock_quantity": 0,
        "status": "publish",
        "type": "simple",
        "parent_id": None,
    }
    assert to_canonical("odoo", "products", cabinet)["stock_quantity"] == 9  # 8.5 half up
    archived = to_canonical("odoo", "products", service)
    assert (archived["sku"], archived["status"], archived["type"]) == (None, "archived", "service")


def test_odoo_order_with_lines_from_the_connector() -> None:
    (order,) = load("odoo_orders.json")
    assert to_canonical("odoo", "orders", order) == {
        "external_id": "8",
        "number": "S00008",
        "status": "sale",
        "currency": "USD",
        "total": "2947.50",
        "customer_email": "azure.interior24@example.com",
        "created_at": "2024-01-02T10:00:00Z",
        "lines": [
            {"sku": None, "quantity": "1.5", "total": "57.38"},
            {"sku": "E-COM11", "quantity": 3, "total": "420.00"},
            {"sku": "FURN_0096", "quantity": 2, "total": "1500.00"},
        ],
    }


def test_volatile_fields_are_not_canonical() -> None:
    (order,) = load("woo_orders.json")
    product = load("woo_products.json")[0]
    assert "date_modified" not in to_canonical("woocommerce", "orders", order)
    changed = dict(product, price_html="<b>x</b>", total_sales=99, date_modified="2030-01-01")
    assert to_canonical("woocommerce", "products", changed) == to_canonical(
        "woocommerce", "products", product
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10", "10.00"),
        ("10.0", "10.00"),
        (10, "10.00"),
        (Decimal("10.00"), "10.00"),
        (10.005, "10.01"),
        ("2.675", "2.68"),
        ("-0.00", "0.00"),
        ("-0.001", "0.00"),
        (" 7.5 ", "7.50"),
        ("", None),
        (None, None),
        (False, None),
        ("1e3", "1000.00"),
    ],
)
def test_money_normalization(raw: Any, expected: str | None) -> None:
    row = {"external_id": "1", "price": raw}
    assert to_canonical("local", "products", row)["price"] == expected


@pytest.mark.parametrize(
    "raw",
    [
        "2024-05-01T10:00:00Z",
        "2024-05-01 10:00:00",
        "2024-05-01T12:00:00+02:00",
        datetime(2024, 5, 1, 10, 0),
        datetime(2024, 5, 1, 5, 0, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2024, 5, 1, 10, 0, 0, 999, tzinfo=UTC),
    ],
)
def test_timestamps_become_utc(raw: Any) -> None:
    row = {"external_id": "1", "created_at": raw}
    assert to_canonical("local", "orders", row)["created_at"] == "2024-05-01T10:00:00Z"


def test_local_lines_as_json_string_or_list() -> None:
    lines = [{"sku": "B", "quantity": 1, "total": 2}, {"sku": None, "quantity": 3.0, "total": "1"}]
    as_list = to_canonical("local", "orders", {"external_id": "1", "lines": lines})
    as_json = to_canonical("local", "orders", {"external_id": "1", "lines": json.dumps(lines)})
    assert (
        as_list["lines"]
        == as_json["lines"]
        == [
            {"sku": None, "quantity": 3, "total": "1.00"},
            {"sku": "B", "quantity": 1, "total": "2.00"},
        ]
    )


def test_unknown_types_are_the_engines_unknown_type() -> None:
    with pytest.raises(UnknownType, match="Unknown sync type 'shopify'"):
        to_canonical("shopify", "customers", {})
    with pytest.raises(UnknownType, match="Unknown entity type 'invoices'"):
        to_canonical("woocommerce", "invoices", {})


def test_malformed_external_record_is_a_record_error_of_its_source() -> None:
    product = dict(load("woo_products.json")[0], id=123, price="abc")
    with pytest.raises(RecordError) as info:
        to_canonical("woocommerce", "products", product)
    assert str(info.value) == (
        "Record 123 from WooCommerce (products) has an unreadable price 'abc'."
    )
    assert info.value.source == "woocommerce" and not info.value.local
    with pytest.raises(RecordError, match="no usable id"):
        to_canonical("odoo", "customers", {"name": "x"})


def test_malformed_local_row_is_a_local_record_error() -> None:
    with pytest.raises(
        RecordError, match="Local orders row 5 has an unreadable created_at"
    ) as info:
        to_canonical("local", "orders", {"external_id": 5, "created_at": "yesterday"})
    assert info.value.local


def test_the_wire_pages_give_the_record_values() -> None:
    customers = load("woo_customers.json")
    products = load("woo_products.json")
    for entity, records in (("customers", customers), ("products", products)):
        expected = [to_canonical("woocommerce", entity, record) for record in records]
        from_bytes = canonical_frame("woocommerce", entity, [orjson.dumps(records)])
        from_dicts = canonical_frame("woocommerce", entity, [records])
        assert from_bytes.to_dicts() == expected == from_dicts.to_dicts()
    orders = load("woo_orders.json")
    frame = canonical_frame("woocommerce", "orders", [orjson.dumps(orders)])
    assert frame.to_dicts() == [to_canonical("woocommerce", "orders", orders[0])]


def test_the_wire_path_reports_a_bad_page() -> None:
    with pytest.raises(RecordError, match="not valid JSON"):
        canonical_frame("woocommerce", "customers", [b"[{"])
    bad = orjson.dumps([dict(load("woo_products.json")[0], price="abc")])
    with pytest.raises(RecordError, match="unreadable price 'abc'"):
        canonical_frame("woocommerce", "products", [bad])


def test_local_frame_accepts_typed_columns() -> None:
    frame = pl.DataFrame(
        {
            "external_id": [1, 2],
            "number": [" 727", None],
            "total": [Decimal("29.35"), Decimal("0")],
            "created_at": [datetime(2017, 3, 22, 19, 28, 2), None],
            "lines": ['[{"sku":"Bar3","quantity":1,"total":"12"}]', None],
        }
    )
    rows = canonical_frame("local", "orders", frame).to_dicts()
    assert rows[0] == {
        "external_id": "1",
        "number": "727",
        "status": None,
        "currency": None,
        "total": "29.35",
        "customer_email": None,
        "created_at": "2017-03-22T19:28:02Z",
        "lines": [{"sku": "Bar3", "quantity": 1, "total": "12.00"}],
    }
    assert rows[1]["total"] == "0.00" and rows[1]["lines"] == []


def _many(records: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    return [dict(records[i % len(records)], id=i + 1) for i in range(count)]


def test_many_wire_pages_are_read_in_parallel_chunks_with_the_record_values() -> None:
    # 40 pages: enough for the chunked, threaded read-and-normalize path.
    for entity, name in (("customers", "woo_customers.json"), ("products", "woo_products.json")):
        records = _many(load(name), 200)
        pages = [orjson.dumps(records[i : i + 5]) for i in range(0, len(records), 5)]
        expected = [to_canonical("woocommerce", entity, record) for record in records]
        assert canonical_frame("woocommerce", entity, pages).to_dicts() == expected


def test_many_wire_pages_report_the_error_of_the_whole_read() -> None:
    records = _many(load("woo_products.json"), 200)
    records[190]["price"] = "abc"  # in the last chunk, the first field normalized in Python
    records[3]["sale_price"] = "xyz"  # in the first chunk, a later field
    pages = [orjson.dumps(records[i : i + 5]) for i in range(0, len(records), 5)]
    with pytest.raises(RecordError) as whole:
        canonical_frame("woocommerce", "products", [orjson.dumps(records)])
    with pytest.raises(RecordError) as chunked:
        canonical_frame("woocommerce", "products", pages)
    assert str(chunked.value) == str(whole.value)
    pages[-1] = b"[{"  # an unreadable page: the record path reads the pages in order
    with pytest.raises(RecordError, match="Record 4 .* unreadable sale_price 'xyz'"):
        canonical_frame("woocommerce", "products", pages)
    records[3]["sale_price"] = records[190]["price"] = None
    pages = [orjson.dumps(records[i : i + 5]) for i in range(0, len(records), 5)]
    pages[-1] = b"[{"
    with pytest.raises(RecordError, match="not valid JSON"):
        canonical_frame("woocommerce", "products", pages)


def _entity_cases() -> list[dict[str, str]]:
    cases: dict[str, Any] = json.loads((CASES / "woo_entities.json").read_text(encoding="utf-8"))
    assert cases["category_40029"]["name"] == cases["names"][0]["sent"]
    return list(cases["names"])


@pytest.mark.parametrize("case", _entity_cases(), ids=lambda case: case["sent"])
def test_html_references_from_wordpress_are_not_a_change(case: dict[str, str]) -> None:
    product = dict(load("woo_products.json")[0], name=case["sent"])
    canonical = to_canonical("woocommerce", "products", product)
    assert canonical["name"] == case["decoded"]
    local = dict(canonical, name=case["decoded"])  # the name as the local database has it
    assert diff("products", [canonical], [local]).counts["unchanged"] == 1
    from_bytes = canonical_frame("woocommerce", "products", [orjson.dumps([product])])
    assert diff("products", from_bytes, [local]).counts["unchanged"] == 1
    assert from_bytes.to_dicts() == [canonical]


def test_a_bare_ampersand_and_unknown_references_stay_text() -> None:
    product = dict(load("woo_products.json")[0], name="AT&T &copy 2024 &nosuch; R&amp;D")
    assert (
        to_canonical("woocommerce", "products", product)["name"] == "AT&T &copy 2024 &nosuch; R&D"
    )
