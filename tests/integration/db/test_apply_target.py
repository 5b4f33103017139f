"""The built-in store as an apply's target: typed values (amounts, stock, times, order lines)
read as the refresh sees them, written and read back, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from core.db.accounts import OrganizationRepo
from core.db.apply_runs import JournalWork
from core.db.local_records import LocalRecords
from core.db.tenancy import system_session, tenant_session
from core.delta import canonical_frame
from core.services.apply.targets import BuiltinTarget

ORDER = {
    "external_id": "1",
    "number": "1001",
    "status": "processing",
    "currency": "EUR",
    "total": "10.50",
    "customer_email": "a@x.io",
    "created_at": "2024-05-01T10:00:00Z",
    "lines": [{"sku": "A", "quantity": 2, "total": "10.50"}],
}
PRODUCT = {
    "external_id": "7",
    "sku": "A",
    "name": "Mug",
    "price": "19.90",
    "regular_price": "19.90",
    "sale_price": None,
    "stock_quantity": 5,
    "status": "publish",
    "type": "simple",
    "parent_id": None,
}


@pytest.fixture
def org_id(session_factory) -> int:
    with system_session(session_factory) as s:
        return OrganizationRepo(s).create("Acme", "acme").id


def _job(external_id: str) -> JournalWork:
    return JournalWork(1, "update", external_id, "pending", {}, None, None)


def _refreshed(s, entity_type: str) -> dict[str, dict]:
    """The local records as a refresh normalizes them (the preview's local side)."""
    frame = LocalRecords(s).load_frame("woocommerce", entity_type)
    return {r["external_id"]: r for r in canonical_frame("local", entity_type, frame).to_dicts()}


@pytest.mark.parametrize(
    ("entity_type", "record", "change"),
    [
        (
            "orders",
            ORDER,
            {
                "total": "12",
                "status": None,
                "created_at": "2024-06-01T08:30:00Z",
                "lines": [{"sku": "B", "quantity": 1, "total": "12.00"}],
            },
        ),
        ("products", PRODUCT, {"price": "17.5", "stock_quantity": 0, "name": "Big mug"}),
    ],
)
def test_the_builtin_target_reads_what_the_refresh_sees_and_writes_typed_values(
    session_factory, org_id, entity_type, record, change
):
    key = record["external_id"]
    target = BuiltinTarget("woocommerce", entity_type)
    with tenant_session(session_factory, org_id) as s:
        # the last of two records with one id wins
        LocalRecords(s).upsert("woocommerce", entity_type, [{**record, "status": "x"}, record])
    with tenant_session(session_factory, org_id) as s, target.batch(s) as batch:
        current = batch.read([_job(key), _job("absent")])
        assert set(current) == {key}
        assert current[key].canonical == _refreshed(s, entity_type)[key]
        assert current[key].canonical["status"] == record["status"]
        assert current[key].image["id"] == current[key].ref
        batch.update([(current[key], change)])
    with tenant_session(session_factory, org_id) as s, target.batch(s) as batch:
        after = batch.read([_job(key)])[key]
        assert after.canonical == _refreshed(s, entity_type)[key]
    wanted = canonical_frame("local", entity_type, [{**record, **change}]).to_dicts()[0]
    assert after.canonical == wanted
    assert after.canonical != current[key].canonical
