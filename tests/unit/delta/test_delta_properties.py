"""Property tests: the engine against a simple reference, and reformatting is never a change."""

from __future__ import annotations

import json
from typing import Any

import orjson
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.delta import COMPARABLE_FIELDS, canonical_frame, diff, to_canonical
from core.delta.frame import frame_from_canonical

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference(entity: str, external: list[dict[str, Any]], local: list[dict[str, Any]]) -> dict:
    """Deliberately simple: dicts by id, compare every comparable field."""
    fields = COMPARABLE_FIELDS[entity]
    outside: dict[str, dict[str, Any]] = {}
    for record in external:
        outside[record["external_id"]] = record
    inside = {row["external_id"]: row for row in local}
    updated = {}
    for key in outside.keys() & inside.keys():
        changed = [
            (f, inside[key][f], outside[key][f])
            for f in fields
            if inside[key][f] != outside[key][f]
        ]
        if changed:
            updated[key] = changed
    return {
        "new": sorted(outside.keys() - inside.keys()),
        "deleted": sorted(inside.keys() - outside.keys()),
        "updated": updated,
        "unchanged": len(outside.keys() & inside.keys()) - len(updated),
        "duplicates": len(external) - len(outside),
    }


def summary(result: Any) -> dict:
    return {
        "new": sorted(r["external_id"] for r in result.new),
        "deleted": sorted(r["external_id"] for r in result.deleted),
        "updated": {
            u.external_id: [(c.field, c.old, c.new) for c in u.changes] for u in result.updated
        },
        "unchanged": result.counts["unchanged"],
        "duplicates": result.duplicates_collapsed,
    }


IDS = st.sampled_from([str(i) for i in range(12)] + ["a", "b-7", "010"])
TEXT = st.sampled_from([None, "Paris", "Lyon", "ÉCOLE", "x y"])
customer = st.builds(
    lambda key, values: {"external_id": key, **values},
    IDS,
    st.fixed_dictionaries({f: TEXT for f in COMPARABLE_FIELDS["customers"]}),
)
LINE = st.fixed_dictionaries(
    {
        "sku": st.sampled_from([None, "A", "B"]),
        "quantity": st.sampled_from([1, 2, "1.5"]),
        "total": st.sampled_from(["1.00", "2.50", None]),
    }
)
order = st.builds(
    lambda key, values, lines: {"external_id": key, **values, "lines": lines},
    IDS,
    st.fixed_dictionaries(
        {
            "number": TEXT,
            "status": TEXT,
            "currency": st.sampled_from([None, "EUR"]),
            "total": st.sampled_from([None, "1.00", "10.00"]),
            "customer_email": st.sampled_from([None, "a@b.c"]),
            "created_at": st.sampled_from([None, "2024-01-02T10:00:00Z"]),
        }
    ),
    st.lists(LINE, max_size=2).map(
        lambda ls: to_canonical("local", "orders", {"external_id": "x", "lines": ls})["lines"]
    ),
)


def unique_by_id(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list({r["external_id"]: r for r in records}.values())


@SETTINGS
@given(st.lists(customer, max_size=25), st.lists(customer, max_size=25).map(unique_by_id))
def test_customers_match_the_reference_on_both_paths(external: list, local: list) -> None:
    expected = reference("customers", external, local)
    assert summary(diff("customers", iter(external), local)) == expected
    frames = (frame_from_canonical("customers", external), frame_from_canonical("customers", local))
    assert summary(diff("customers", *frames)) == expected


@SETTINGS
@given(st.lists(order, max_size=15), st.lists(order, max_size=15).map(unique_by_id))
def test_orders_match_the_reference_on_both_paths(external: list, local: list) -> None:
    expected = reference("orders", external, local)
    assert summary(diff("orders", external, local)) == expected
    frames = (frame_from_canonical("orders", external), frame_from_canonical("orders", local))
    assert summary(diff("orders", *frames)) == expected


# ------------------------------------------------------------ reformatting is never a change

MESSY_CHARS = st.sampled_from(
    list("aZ é1-") + ["e\u0301", "İ", "ß", "Σ", "\u00a0", "\u2003", "\t", "\x1f", "\u3000", "ǅ"]
)
MESSY = st.one_of(st.none(), st.lists(MESSY_CHARS, max_size=6).map("".join), st.text(max_size=4))
PAD = st.sampled_from(["", " ", "  ", "\t", "\n", "\u00a0"])


def woo_customer(key: int, values: dict[str, Any]) -> dict[str, Any]:
    billing = {
        f: values[f]
        for f in (
            "company",
            "address_1",
            "address_2",
            "city",
            "state",
            "postcode",
            "country",
            "phone",
            "email",
        )
    }
    billing.update(first_name=values["bfirst"], last_name=values["blast"])
    return {
        "id": key,
        "email": values["email"],
        "first_name": values["first"],
        "last_name": values["last"],
        "billing": billing,
        "date_modified_gmt": "2024-01-01T00:00:00",
        "meta_data": [],
    }


WOO_FIELDS = (
    "email",
    "first",
    "last",
    "bfirst",
    "blast",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
    "phone",
)
woo_customers = st.lists(
    st.builds(
        woo_customer, st.integers(1, 40), st.fixed_dictionaries({f: MESSY for f in WOO_FIELDS})
    ),
    max_size=20,
)


@SETTINGS
@given(woo_customers)
def test_the_wire_frame_equals_to_canonical(records: list[dict[str, Any]]) -> None:
    expected = [to_canonical("woocommerce", "customers", r) for r in records]
    pages = [orjson.dumps(records[i : i + 7]) for i in range(0, len(records), 7)]
    assert canonical_frame("woocommerce", "customers", pages).to_dicts() == expected


local_values = st.fixed_dictionaries(
    {
        "number": MESSY,
        "currency": MESSY,
        "customer_email": MESSY,
        "total": st.sampled_from([None, "", " 10", "10.0", "-0.00", "2.675", "1e2", "0.005"]),
        "created_at": st.sampled_from(
            [None, "", "2024-01-02 10:00:00", "2024-01-02T12:00:00+02:00", "2024-01-02T10:00:00Z"]
        ),
        "lines": st.sampled_from(
            [
                None,
                "[]",
                '[{"sku":" b","quantity":2.0,"total":"1"},{"sku":null,"quantity":1,"total":3}]',
            ]
        ),
    }
)


@SETTINGS
@given(st.lists(local_values, max_size=15))
def test_the_local_frame_equals_to_canonical(rows: list[dict[str, Any]]) -> None:
    rows = [dict(row, external_id=str(i)) for i, row in enumerate(rows)]
    expected = [to_canonical("local", "orders", row) for row in rows]
    schema = {
        "external_id": pl.String,
        "number": pl.String,
        "currency": pl.String,
        "customer_email": pl.String,
        "total": pl.String,
        "created_at": pl.String,
        "lines": pl.String,
    }
    frame = pl.DataFrame(rows, schema=schema)
    assert canonical_frame("local", "orders", frame).to_dicts() == expected


def reformat(draw: st.DrawFn, value: Any, kind: str) -> Any:
    if value is None:
        return draw(st.sampled_from([None, "", "  "]))  # WooCommerce never sends false
    if kind == "email":
        value = draw(st.sampled_from([value, value.upper(), value.title()]))
    if kind == "code":
        value = draw(st.sampled_from([value, value.lower()]))
    if kind == "text":  # WordPress sends "&" in titles as a character reference
        value = value.replace("&", draw(st.sampled_from(["&", "&amp;", "&#38;", "&#x26;"])))
    return draw(PAD) + value + draw(PAD)


@st.composite
def reformatted_pair(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    values = {
        f: draw(st.sampled_from([None, "Ab", "x y", "Zürich", "R&D", "Bäck & Co"]))
        for f in ("company", "address_1", "city", "phone", "postcode")
    }
    email = draw(st.sampled_from([None, "john.doe@example.com"]))
    state = draw(st.sampled_from([None, "CA"]))
    local = {
        "external_id": "25",
        "email": email,
        "name": "John Doe",
        "state": state,
        "country": "US",
        "address_2": None,
        "status": "active",
        **values,
    }
    billing = {f: reformat(draw, v, "text") for f, v in values.items()}
    billing.update(
        state=reformat(draw, state, "code"),
        country=reformat(draw, "US", "code"),
        address_2=reformat(draw, None, "text"),
    )
    wire = {
        "id": 25,
        "email": reformat(draw, email, "email"),
        "first_name": " John",
        "last_name": "Doe ",
        "billing": billing,
        "date_modified": draw(st.sampled_from(["2020-01-01T00:00:00", "2030-05-05T00:00:00"])),
        "avatar_url": draw(st.sampled_from(["a", "b"])),
    }
    return wire, local


@SETTINGS
@given(reformatted_pair())
def test_reformatting_a_customer_is_never_an_update(pair: tuple[dict, dict]) -> None:
    wire, local = pair
    local = to_canonical("local", "customers", local)
    outside = to_canonical("woocommerce", "customers", wire)
    assert diff("customers", [outside], [local]).counts["unchanged"] == 1
    frame = canonical_frame("woocommerce", "customers", [orjson.dumps([wire])])
    assert diff("customers", frame, [local]).counts["unchanged"] == 1


@SETTINGS
@given(st.sampled_from([None, "", " ", False]), st.sampled_from(["a@b.c", " A@B.C "]))
def test_odoo_false_equals_empty(empty: Any, email: str) -> None:
    partner = {
        "id": 3,
        "name": "Ann",
        "email": email,
        "phone": empty,
        "street": empty,
        "city": empty,
        "country_code": empty,
        "parent_id": False,
        "company_name": empty,
    }
    local = {"external_id": "3", "name": "Ann", "email": "a@b.c", "status": "active"}
    outside = to_canonical("odoo", "customers", partner)
    assert (
        diff("customers", [outside], [to_canonical("local", "customers", local)]).counts[
            "unchanged"
        ]
        == 1
    )


@SETTINGS
@given(
    st.permutations(
        [
            {"sku": "A", "quantity": 1, "total": "10"},
            {"sku": None, "quantity": 2.0, "total": 3},
            {"sku": "A", "quantity": "1", "total": "10.0"},
        ]
    ),
    st.sampled_from(["10", "10.0", 10, "10.00", " 10 "]),
)
def test_reformatting_an_order_is_never_an_update(lines: list[dict], total: Any) -> None:
    local = to_canonical(
        "local", "orders", {"external_id": "1", "total": "10.00", "lines": lines[::-1]}
    )
    order = {
        "id": 1,
        "total": total,
        "line_items": lines,
        "date_modified": "x",
        "billing": {"email": None},
        "meta_data": [{"k": "v"}],
    }
    assert (
        diff("orders", [to_canonical("woocommerce", "orders", order)], [local]).counts["unchanged"]
        == 1
    )


@SETTINGS
@given(st.sampled_from(COMPARABLE_FIELDS["customers"]), st.sampled_from(["NEW", "ZZ", None]))
def test_changing_one_field_reports_exactly_that_field(field: str, value: Any) -> None:
    base = {f: "X" for f in COMPARABLE_FIELDS["customers"]} | {"external_id": "1"}
    local = to_canonical("local", "customers", base)
    changed = to_canonical("local", "customers", dict(base, **{field: value}))
    for result in (
        diff("customers", [changed], [local]),
        diff(
            "customers",
            frame_from_canonical("customers", [changed]),
            frame_from_canonical("customers", [local]),
        ),
    ):
        (item,) = result.updated
        assert [(c.field, c.old, c.new) for c in item.changes] == [
            (field, local[field], changed[field])
        ]
        assert json.dumps(result.to_dict())  # JSON-serializable


# ------------------------------------------------- the columnar reader never coerces silently

ODD = st.one_of(
    MESSY,
    st.sampled_from([True, False, 1.5, 2, -3e5, "1.5", "true", 0.0, -0.0, 1e16, 2.5e-3]),
    st.sampled_from([12345678901234567890, 2**53 + 1.0, "-0"]),
)
ODD_ID = st.sampled_from([1, 2, 7, "7", " 8 ", 1.5, 2.0, True, "1.5", "true", -0.0, 1e17])


def outcome(read: Any) -> Any:
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - the error itself is what is compared
        return (type(exc).__name__, str(exc))


@SETTINGS
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "id": ODD_ID,
                "email": ODD,
                "first_name": ODD,
                "billing": st.fixed_dictionaries({"city": ODD}),
            }
        ),
        min_size=1,
        max_size=6,
    )
)
def test_odd_json_types_read_as_the_record_path_reads_them(records: list[dict[str, Any]]) -> None:
    """A JSON boolean or float where text or an id belongs is the same error (or value) on
    both paths: never a silently different id ("1.5" -> "1") or text ("true")."""
    expected = outcome(lambda: [to_canonical("woocommerce", "customers", r) for r in records])
    got = outcome(
        lambda: canonical_frame("woocommerce", "customers", [orjson.dumps(records)]).to_dicts()
    )
    assert got == expected


@SETTINGS
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "id": st.integers(1, 9),
                "stock_quantity": st.sampled_from([None, 2, 2.5, "7", True, -1.5]),
                "price": st.sampled_from([None, "10", 10.5, 3, False]),
            }
        ),
        min_size=1,
        max_size=6,
    )
)
def test_odd_json_numbers_read_as_the_record_path_reads_them(records: list[dict[str, Any]]) -> None:
    expected = outcome(lambda: [to_canonical("woocommerce", "products", r) for r in records])
    got = outcome(
        lambda: canonical_frame("woocommerce", "products", [orjson.dumps(records)]).to_dicts()
    )
    assert got == expected
