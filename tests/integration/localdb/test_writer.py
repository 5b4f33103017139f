"""Batches written to the organization's database (``core.localdb.writer``): rows read by key
and written in typed columns (a whole-number key, amounts, counts), in each of the three
databases; on PostgreSQL a value its column refuses stops the batch with nothing written."""

from __future__ import annotations

import uuid

import pytest

from core.errors import SyncPreviewError
from core.localdb import LocalMapping
from core.localdb.writer import LocalWriter, WriteOptions
from tests.integration.localdb.conftest import Crm

COLUMNS = {"sku": "art", "name": "label", "price": "unit_price", "stock_quantity": "stock"}
_PK = {
    "postgresql": "art_no BIGSERIAL PRIMARY KEY",
    "mysql": "art_no BIGINT AUTO_INCREMENT PRIMARY KEY",
    "sqlite": "art_no INTEGER PRIMARY KEY",
}


def products_table(crm: Crm) -> str:
    table = crm.table(f"wr_{uuid.uuid4().hex[:8]}")
    crm.admin(
        f"CREATE TABLE {table} ({_PK[crm.kind]}, woo_id BIGINT, art VARCHAR(20), "
        "label VARCHAR(8), unit_price DECIMAL(12, 2), stock INTEGER)"
    )
    crm.admin(
        f"INSERT INTO {table} (woo_id, art, label, unit_price, stock) VALUES "
        "(501, 'A-1', 'Apple', 1.50, 10), (502, ' b-2 ', 'Bread', 2.00, 7), "
        "(503, 'C-3', 'Cheese', 12.00, 3)"
    )
    return table


def rows(crm: Crm, table: str) -> list[tuple[str | None, ...]]:
    found = crm.admin(f"SELECT woo_id, label, unit_price, stock FROM {table} ORDER BY woo_id")
    return [tuple(None if v is None else str(v) for v in row) for row in found]


def test_a_batch_reads_by_key_and_writes_typed_columns(crm: Crm) -> None:
    table = products_table(crm)
    mapping = LocalMapping.create(
        "woocommerce", "products", table=table, match="id:woo_id", columns=COLUMNS
    )
    writer = LocalWriter(crm.settings)
    with writer.batch(mapping, WriteOptions()) as batch:
        found = batch.read(["501", "502", "503", "999"])
        assert sorted(found) == ["501", "502", "503"]
        assert found["501"].canonical["name"] == "Apple"
        batch.update(
            [
                (found["501"].key, {"price": "2.25", "stock_quantity": 11}),
                (found["502"].key, {"name": "Rye"}),
            ]
        )
        batch.delete([found["503"].key])
        batch.insert([{"external_id": "504", "name": "Dates", "price": "3.10"}])
    # a second batch of the same writer (on the connection the first one kept)
    with writer.batch(mapping, WriteOptions()) as batch:
        assert sorted(batch.read(["501", "503", "504"])) == ["501", "504"]
    writer.close()
    assert [(r[0], r[1], float(r[2] or 0), r[3]) for r in rows(crm, table)] == [
        ("501", "Apple", 2.25, "11"),
        ("502", "Rye", 2.0, "7"),
        ("504", "Dates", 3.1, None),
    ]


def test_a_batch_reads_by_natural_key_as_the_engine_matches_it(crm: Crm) -> None:
    table = products_table(crm)
    mapping = LocalMapping.create(
        "woocommerce", "products", table=table, match="natural", columns=COLUMNS
    )
    writer = LocalWriter(crm.settings)
    with writer.batch(mapping, WriteOptions()) as batch:
        found = batch.read(["b-2", "A-1", "Z-9"])
    writer.close()
    assert sorted(found) == ["A-1", "b-2"]
    assert found["b-2"].canonical["name"] == "Bread"


def test_postgresql_refuses_a_value_too_long_and_the_batch_writes_nothing(
    pg_crm: Crm,
) -> None:
    table = products_table(pg_crm)
    mapping = LocalMapping.create(
        "woocommerce", "products", table=table, match="id:woo_id", columns=COLUMNS
    )
    before = rows(pg_crm, table)
    writer = LocalWriter(pg_crm.settings)
    with pytest.raises(SyncPreviewError), writer.batch(mapping, WriteOptions()) as batch:
        found = batch.read(["501", "502"])
        batch.update(
            [
                (found["501"].key, {"stock_quantity": 12}),
                (found["502"].key, {"name": "Sourdough loaf"}),  # VARCHAR(8): not cut
            ]
        )
    assert rows(pg_crm, table) == before
    # the writer goes on with a new connection
    with writer.batch(mapping, WriteOptions()) as batch:
        found = batch.read(["501"])
        batch.update([(found["501"].key, {"stock_quantity": 12})])
    writer.close()
    assert rows(pg_crm, table)[0] == ("501", "Apple", "1.50", "12")
