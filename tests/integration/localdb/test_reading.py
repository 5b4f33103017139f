"""Reading the organization's own tables: each match mode, ambiguous keys, lines, samples,
and values that cannot be read — on PostgreSQL, MariaDB and an SQLite file."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from core.delta import COMPARABLE_FIELDS, canonical_frame
from core.delta.frame import frame_from_canonical
from core.errors import UnreadableValue
from core.localdb import LinesMapping, LocalDatabase, LocalMapping, LocalReader, compare
from tests.integration.localdb.conftest import Crm


def customer(store_id: str, email: str | None, name: str, city: str, **more: Any) -> dict:
    record = dict.fromkeys(COMPARABLE_FIELDS["customers"])
    return record | {"external_id": store_id, "email": email, "name": name, "city": city} | more


def test_by_linked_id_compares_only_the_mapped_fields(crm: Crm) -> None:
    mapping = LocalMapping.create(
        "woocommerce",
        "customers",
        table=crm.table("clients"),
        match="id:woo_id",
        columns={"email": "mail", "name": "full_name", "city": "town", "state": "region"},
    )
    store = [
        # phone and country are not mapped: their values must not count as changes
        customer("101", "ann@example.org", "Ann  Lee", "Paris", state="IDF", phone="+33 999"),
        customer("102", "bob@example.org", "Bob Roy", "Villeurbanne", country="FR"),
        customer("104", "dup@example.org", "Dee One", "Porto"),
        customer("105", "dup@example.org", "Dee Two", "Porto"),
        customer("107", None, "No Mail", "Oslo"),
        customer("200", "new@example.org", "Nia New", "Rome"),
    ]
    result = compare(
        LocalDatabase(crm.settings), mapping, [frame_from_canonical("customers", store)]
    )
    delta = result.delta
    assert result.match == "id"
    assert delta.counts == {"new": 1, "updated": 1, "deleted": 1, "unchanged": 4}
    assert [r["external_id"] for r in delta.new] == ["200"]
    (updated,) = delta.updated
    assert updated.external_id == "102"
    assert [(c.field, c.old, c.new) for c in updated.changes] == [("city", "Lyon", "Villeurbanne")]
    assert [r["external_id"] for r in delta.deleted] == ["106"]
    assert result.local_without_key == 1  # Carl has no store id


def test_by_natural_key_lists_ambiguous_keys_apart(crm: Crm) -> None:
    mapping = LocalMapping.create(
        "odoo",
        "customers",
        table=crm.table("clients"),
        match="natural",
        columns={"email": "mail", "name": "full_name", "city": "town"},
    )
    store = [
        customer("1", "ANN@example.org", "Ann  Lee", "Paris"),  # case differs: same key
        customer("2", "bob@example.org", "Bob Roy", "Villeurbanne"),
        customer("3", "carl@example.org", "Carl Fox", "Nice"),
        customer("4", "dup@example.org", "Dee", "Porto"),  # two local rows have it
        customer("8", "twin@example.org", "Tim", "Rome"),  # two store records have it
        customer("9", "twin@example.org", "Tom", "Rome"),
        customer("10", "new@example.org", "Nia New", "Rome"),
        customer("11", None, "No Key", "Oslo"),
    ]
    # The store's side as the engine gives it: normalized (ANN@ is ann@).
    frames = [
        canonical_frame("local", "customers", pl.DataFrame(part)) for part in (store[:3], store[3:])
    ]
    result = compare(LocalDatabase(crm.settings), mapping, frames, chunk_rows=2)
    delta = result.delta
    assert result.match == "natural" and result.key_field == "email"
    assert delta.counts == {"new": 1, "updated": 1, "deleted": 1, "unchanged": 2}
    assert [r["external_id"] for r in delta.new] == ["10"]
    assert [u.external_id for u in delta.updated] == ["2"]
    assert [r["external_id"] for r in delta.deleted] == ["gone@example.org"]
    reasons = {a.key: (a.reason, a.external_ids, a.local_rows) for a in result.ambiguous}
    assert reasons == {
        "dup@example.org": ("2 local rows have this e-mail", ("4",), 2),
        "twin@example.org": ("2 store records have this e-mail", ("8", "9"), 0),
        None: ("1 store record has no e-mail", ("11",), 0),
    }
    assert result.local_without_key == 1  # the row with no mail
    assert result.counts["ambiguous"] == 3


def test_a_select_query_as_the_source(crm: Crm) -> None:
    mapping = LocalMapping.create(
        "woocommerce",
        "customers",
        query=f"SELECT c.woo_id AS store_ref, a.mail, a.town FROM {crm.table('active_clients')} a "
        f"JOIN {crm.table('clients')} c USING (cust_no) WHERE woo_id IS NOT NULL",
        match="id:store_ref",
        columns={"email": "mail", "city": "town"},
    )
    reader = LocalReader(LocalDatabase(crm.settings), mapping)
    rows = sorted(
        (r["external_id"], r["email"], r["city"])
        for frame in reader.frames()
        for r in frame.to_dicts()
    )
    assert rows == [
        ("101", "ann@example.org", "Paris"),
        ("102", "bob@example.org", "Lyon"),
        ("104", "dup@example.org", "Porto"),
        ("105", "dup@example.org", "Porto"),
        ("107", None, "Oslo"),
    ]


def test_the_frames_are_what_canonical_frame_accepts(crm: Crm) -> None:
    mapping = LocalMapping.create(
        "woocommerce",
        "customers",
        table=crm.table("clients"),
        match="id:woo_id",
        columns={"email": "mail", "name": "full_name", "state": "region", "phone": "phone_no"},
    )
    frames = list(LocalReader(LocalDatabase(crm.settings), mapping, chunk_rows=4).frames())
    assert [f.data.height for f in frames] == [3, 3]  # 7 rows by 4, one without a key
    for frame in frames:
        again = canonical_frame("local", "customers", frame.data)
        assert again.data.equals(frame.data)


def test_the_sample_shows_values_as_compared(crm: Crm) -> None:
    mapping = LocalMapping.create(
        "woocommerce",
        "customers",
        table=crm.table("clients"),
        match="id:woo_id",
        columns={"email": "mail", "name": "full_name", "state": "region"},
    )
    sample = LocalReader(LocalDatabase(crm.settings), mapping).sample(3)
    assert sample.compared_fields == ("email", "name", "state")
    assert "city" in sample.not_compared
    assert sample.records[:2] == [
        {"external_id": "101", "email": "ann@example.org", "name": "Ann  Lee", "state": "IDF"},
        {"external_id": "102", "email": "bob@example.org", "name": "Bob Roy", "state": None},
    ]
    assert sample.without_key == [
        {"external_id": "row 3", "email": "carl@example.org", "name": "Carl Fox", "state": None}
    ]


ORDER_COLUMNS = {
    "number": "sale_no",
    "total": "sum_total",
    "currency": "cur",
    "created_at": "placed",
}
S1_LINES = [
    {"sku": "A-1", "quantity": 2, "total": "3.00"},
    {"sku": "B-2", "quantity": 1, "total": "9.50"},
]


def test_order_lines_from_a_second_table(crm: Crm) -> None:
    mapping = LocalMapping.create(
        "woocommerce",
        "orders",
        table=crm.table("sales"),
        match="natural",
        columns=ORDER_COLUMNS,
        lines=LinesMapping(
            table=crm.table("sale_lines"),
            order_key="sale_ref",
            parent_key="sale_id",
            sku="article",
            quantity="qty",
            total="line_sum",
        ),
    )
    rows = {
        r["number"]: r
        for f in LocalReader(LocalDatabase(crm.settings), mapping).frames()
        for r in f.to_dicts()
    }
    assert rows["S-1"] | {"lines": None} == {
        "external_id": "S-1",
        "number": "S-1",
        "status": None,
        "currency": "EUR",
        "total": "12.50",
        "customer_email": None,
        "created_at": "2024-05-01T10:00:00Z",
        "lines": None,
    }
    assert rows["S-1"]["lines"] == S1_LINES
    assert rows["S-2"]["lines"] == [{"sku": "A-1", "quantity": 1, "total": "4.00"}]


def test_order_lines_from_a_json_column(crm: Crm) -> None:
    mapping = LocalMapping.create(
        "woocommerce",
        "orders",
        table=crm.table("sales"),
        match="id:woo_order",
        columns=ORDER_COLUMNS,
        lines=LinesMapping(json_column="lines_doc", sku="art", quantity="n", total="sum"),
    )
    rows = {
        r["external_id"]: r["lines"]
        for f in LocalReader(LocalDatabase(crm.settings), mapping).frames()
        for r in f.to_dicts()
    }
    assert rows == {"9001": S1_LINES, "9002": []}


def test_a_value_that_is_not_its_field_names_row_and_column(crm: Crm) -> None:
    mapping = LocalMapping.create(
        "woocommerce",
        "products",
        table=crm.table("items"),
        match="natural",
        columns={
            "sku": "art_no",
            "name": "label",
            "price": "unit_price",
            "stock_quantity": "stock",
        },
    )
    with pytest.raises(UnreadableValue) as caught:
        list(LocalReader(LocalDatabase(crm.settings), mapping).frames())
    err = caught.value
    assert (err.row, err.key, err.column, err.field) == (3, "C-3", "stock", "stock_quantity")
    assert str(err) == (
        f"Row 3 of {crm.table('items')} (art_no = 'C-3'): column 'stock' holds 'abc', which is "
        "not a whole number; fix the value, or map another column to stock_quantity."
    )


def test_a_number_too_large_for_its_field_is_refused(crm: Crm) -> None:
    mapping = LocalMapping.create(
        "woocommerce",
        "products",
        query=f"SELECT art_no, '1e30' AS stock FROM {crm.table('items')} WHERE art_no = 'B-2'",
        match="natural",
        columns={"sku": "art_no", "stock_quantity": "stock"},
    )
    with pytest.raises(UnreadableValue, match=r"Row 1 of the mapping's query \(art_no = 'B-2'\)"):
        list(LocalReader(LocalDatabase(crm.settings), mapping).frames())


def test_the_good_rows_read_as_the_engine_reads_them(crm: Crm) -> None:
    mapping = LocalMapping.create(
        "woocommerce",
        "products",
        query=f"SELECT * FROM {crm.table('items')} WHERE art_no <> 'C-3'",
        match="natural",
        columns={"sku": "art_no", "price": "unit_price", "stock_quantity": "stock"},
    )
    rows = [
        r for f in LocalReader(LocalDatabase(crm.settings), mapping).frames() for r in f.to_dicts()
    ]
    got = sorted((r["sku"], r["price"], r["stock_quantity"]) for r in rows)
    assert got == [("A-1", "1.50", 10), ("B-2", "2.00", 7)]


def test_text_that_is_not_utf8_names_row_and_column(tmp_path) -> None:
    import sqlite3

    from core.localdb import DatabaseSettings

    path = tmp_path / "legacy.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people (id INTEGER, mail TEXT, town TEXT)")
        conn.execute("INSERT INTO people VALUES (1, 'a@x.org', 'Paris')")
        conn.execute("INSERT INTO people VALUES (2, 'b@x.org', CAST(X'4C79FF6E' AS TEXT))")
    mapping = LocalMapping.create(
        "woocommerce", "customers", table="people", match="id:id", columns={"city": "town"}
    )
    db = LocalDatabase(DatabaseSettings(kind="sqlite", database=str(path)))
    with pytest.raises(UnreadableValue) as caught:
        list(LocalReader(db, mapping).frames())
    assert (caught.value.row, caught.value.key, caught.value.column) == (2, "2", "town")
    assert str(caught.value).startswith(
        "Row 2 of people (id = '2'): column 'town' holds text that is not valid UTF-8 ('Ly\ufffdn'"
    )
