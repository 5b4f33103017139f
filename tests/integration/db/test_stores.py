"""Local records, stored previews, the activity log and accounts on real databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from core.db.accounts import OrganizationRepo, UserLookup, UserRepo, password_matches
from core.db.audit import ActivityFilter, ActivityStore
from core.db.connector_store import ConnectorStore
from core.db.leases import LeaseRows
from core.db.local_records import LocalRecords
from core.db.previews import SnapshotRows, StoredRecord
from core.db.selective import SelectiveStore
from core.db.tenancy import system_session, tenant_session
from core.db.vault import Vault
from core.errors import InvalidRequest, NotFoundError

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def org_id(session_factory) -> int:
    with system_session(session_factory) as s:
        return OrganizationRepo(s).create("Acme", "acme").id


@pytest.fixture
def connectors(session_factory, org_id) -> dict[str, int]:
    """Two WooCommerce connectors and an Odoo one: their ids by name."""
    vault = Vault(Fernet.generate_key().decode())
    with tenant_session(session_factory, org_id) as s:
        store = ConnectorStore(s, vault)
        return {
            name: store.add(source, name, "http://127.0.0.1:9", {}).id
            for source, name in (
                ("woocommerce", "shop"),
                ("woocommerce", "outlet"),
                ("odoo", "erp"),
            )
        }


def test_upsert_then_load_frame_round_trips_values(session_factory, org_id):
    orders = [
        {
            "external_id": "1",
            "number": "1001",
            "status": "processing",
            "currency": "EUR",
            "total": "10.50",
            "customer_email": "a@x.io",
            "created_at": "2024-05-01T10:00:00Z",
            "lines": [{"sku": "A", "quantity": 2, "total": "10.50"}],
        },
        {
            "external_id": "2",
            "number": "1002",
            "status": None,
            "currency": None,
            "total": None,
            "customer_email": None,
            "created_at": None,
            "lines": [],
        },
    ]
    with tenant_session(session_factory, org_id) as s:
        assert LocalRecords(s).upsert("woocommerce", "orders", orders) == 2
        # a second upsert replaces, not duplicates
        LocalRecords(s).upsert("woocommerce", "orders", [{**orders[0], "total": "11"}])
    with tenant_session(session_factory, org_id) as s:
        store = LocalRecords(s)
        assert store.count("woocommerce", "orders") == 2
        assert store.count("odoo", "orders") == 0
        frame = store.load_frame("woocommerce", "orders").sort("external_id")
        rows = list(store.iter_rows("woocommerce", "orders"))
    assert frame.columns == [
        "external_id",
        "number",
        "status",
        "currency",
        "total",
        "customer_email",
        "created_at",
        "lines",
    ]
    first = frame.row(0, named=True)
    assert float(first["total"]) == 11.0
    assert first["created_at"] == "2024-05-01T10:00:00Z"
    assert '"sku"' in first["lines"]
    assert rows[0]["lines"] == [{"sku": "A", "quantity": 2, "total": "10.50"}]
    assert frame.row(1, named=True)["total"] is None


def test_load_frame_keeps_awkward_text_and_reads_in_chunks(session_factory, org_id, monkeypatch):
    """Quotes, commas, newlines, empty vs missing: every value comes back as stored, however
    many chunks it takes, and a read by id returns just those records."""
    import core.db.local_records as local_records

    monkeypatch.setattr(local_records, "LOAD_CHUNK", 3)
    awkward = ['say "hi", then', "two\nlines", "", None, 'Zoë, "Ltd"', "  "]
    customers = [
        {"external_id": str(i), "email": f"c{i}@x.io", "company": awkward[i % len(awkward)]}
        for i in range(1, 11)
    ]
    with tenant_session(session_factory, org_id) as s:
        LocalRecords(s).upsert("woocommerce", "customers", customers)
    with tenant_session(session_factory, org_id) as s:
        store = LocalRecords(s)
        frames = list(store.iter_frames("woocommerce", "customers"))
        picked = store.load_frame("woocommerce", "customers", ids=["2", "9", "404", "4"])
    assert [f.height for f in frames] == [0, 3, 3, 3, 1]
    companies = {r["external_id"]: r["company"] for f in frames for r in f.iter_rows(named=True)}
    # the store keeps "" as missing (None), like the engine does
    assert companies == {
        c["external_id"]: c["company"] if c["company"] != "" else None for c in customers
    }
    assert sorted(picked["external_id"].to_list()) == ["2", "4", "9"]
    assert picked.filter(external_id="4")["company"].item() == 'Zoë, "Ltd"'


def test_delete_local_records(session_factory, org_id):
    with tenant_session(session_factory, org_id) as s:
        LocalRecords(s).upsert("odoo", "customers", [{"external_id": str(i)} for i in range(10)])
        assert LocalRecords(s).delete("odoo", "customers", ["1", "2", "99"]) == 2
        assert LocalRecords(s).count("odoo", "customers") == 8


def _records(n: int) -> list[StoredRecord]:
    out = [
        StoredRecord(
            "new",
            str(i),
            {"external_id": str(i), "email": f"new{i}@x.io", "name": f"New {i}"},
            None,
        )
        for i in range(n)
    ]
    out.append(
        StoredRecord(
            "updated",
            "u1",
            {
                "external_id": "u1",
                "before": {"email": "b@x.io"},
                "after": {"email": "Alice@X.io", "name": "Alice"},
            },
            [{"field": "email", "old": "b@x.io", "new": "alice@x.io"}],
        )
    )
    return out


def test_snapshot_pages_and_search(session_factory, org_id, connectors):
    with tenant_session(session_factory, org_id) as s:
        snap = SnapshotRows(s).add_ready(
            connector_id=connectors["shop"],
            sync_type="woocommerce",
            entity_type="customers",
            counts={"new": 120, "updated": 1, "deleted": 0, "unchanged": 5},
            duplicates_collapsed=0,
            computed_at=NOW,
            expires_at=NOW + timedelta(hours=1),
            hash_version=1,
            duration_ms=12,
            created_by="admin",
            records=_records(120),
        )
        snap_id = snap.id
    with tenant_session(session_factory, org_id) as s:
        store = SnapshotRows(s)
        page, total = store.page(snap_id, "new", limit=50, offset=100)
        assert [r.external_id for r in page] == [str(i) for i in range(100, 120)]
        assert total is None
        hits, total = store.page(snap_id, "new", search="NEW11")
        assert total == 11 and {r.external_id for r in hits} == {
            "11",
            *(str(110 + i) for i in range(10)),
        }
        hits, total = store.page(snap_id, "updated", search="alice")
        assert total == 1 and hits[0].changes[0]["field"] == "email"
        assert store.page(snap_id, "new", search="50%")[1] == 0  # wildcards are literal
        assert store.latest(connectors["shop"], "customers").id == snap_id
        assert store.latest(connectors["outlet"], "customers") is None  # the other store's
        assert store.latest(connectors["erp"], "customers") is None


def test_failure_keeps_the_good_snapshot_and_invalidation_is_selective(
    session_factory, org_id, connectors
):
    shop, outlet, erp = connectors["shop"], connectors["outlet"], connectors["erp"]
    with tenant_session(session_factory, org_id) as s:
        store = SnapshotRows(s)
        for connector_id, sync, ent in (
            (shop, "woocommerce", "customers"),
            (shop, "woocommerce", "orders"),
            (outlet, "woocommerce", "orders"),
            (erp, "odoo", "customers"),
        ):
            store.add_ready(
                connector_id=connector_id,
                sync_type=sync,
                entity_type=ent,
                counts={},
                duplicates_collapsed=0,
                computed_at=NOW,
                expires_at=NOW + timedelta(hours=1),
                hash_version=1,
                duration_ms=1,
                created_by=None,
                records=[],
            )
        store.add_failed(
            connector_id=shop,
            sync_type="woocommerce",
            entity_type="customers",
            at=NOW,
            hash_version=1,
            duration_ms=5,
            error="WooCommerce did not answer within 30 s.",
            created_by=None,
        )
    with tenant_session(session_factory, org_id) as s:
        store = SnapshotRows(s)
        assert store.latest(shop, "customers").status == "ready"
        assert store.latest(shop, "customers", status=None).status == "failed"
        assert store.failed_after(store.latest(shop, "customers")) is not None
        assert store.failed_after(store.latest(outlet, "orders")) is None  # not the other's
        assert store.invalidate(NOW, sync_type="woocommerce", entity_type="customers") == 1
        assert store.invalidate(NOW, connector_id=outlet) == 1
        assert store.latest(shop, "orders").expires_at > NOW
        assert store.invalidate(NOW, sync_type="woocommerce") == 1
        assert store.latest(erp, "customers").expires_at > NOW
        assert store.invalidate(NOW) == 1


def test_prune_keeps_the_newest_snapshots(session_factory, org_id, connectors):
    erp = connectors["erp"]
    with tenant_session(session_factory, org_id) as s:
        store = SnapshotRows(s)
        ids = [
            store.add_ready(
                connector_id=erp,
                sync_type="odoo",
                entity_type="products",
                counts={},
                duplicates_collapsed=0,
                computed_at=NOW,
                expires_at=NOW,
                hash_version=1,
                duration_ms=1,
                created_by=None,
                records=_records(3),
            ).id
            for _ in range(4)
        ]
        store.prune(erp, "products", keep_ready=2)
        assert store.page(ids[0], "new")[0] == []
        assert len(store.page(ids[3], "new")[0]) == 3
        assert [s.id for s in store.newest_ready(erp, "products")] == [ids[3], ids[2]]


def test_lease_is_exclusive_until_released_or_expired(session_factory, org_id, connectors):
    shop, outlet = connectors["shop"], connectors["outlet"]
    ttl = timedelta(minutes=5)
    with tenant_session(session_factory, org_id) as s:
        assert LeaseRows(s).acquire(shop, "woocommerce", "customers", "p1", NOW, ttl)
    with tenant_session(session_factory, org_id) as s:
        assert not LeaseRows(s).acquire(shop, "woocommerce", "customers", "p2", NOW, ttl)
        assert LeaseRows(s).acquire(shop, "woocommerce", "orders", "p2", NOW, ttl)
        assert LeaseRows(s).is_held(shop, "customers", NOW)
        # another store of the same source has its own lease
        assert LeaseRows(s).acquire(outlet, "woocommerce", "customers", "p2", NOW, ttl)
    with tenant_session(session_factory, org_id) as s:  # an expired lease is taken over
        assert not LeaseRows(s).is_held(shop, "customers", NOW + ttl * 2)
        assert LeaseRows(s).acquire(shop, "woocommerce", "customers", "p3", NOW + ttl * 2, ttl)
        assert not LeaseRows(s).renew(shop, "customers", "p1", NOW + ttl * 2, ttl)
        LeaseRows(s).release(shop, "customers", "p1")  # not theirs: nothing happens
        assert LeaseRows(s).is_held(shop, "customers", NOW + ttl * 2)
        LeaseRows(s).release(shop, "customers", "p3")
    with tenant_session(session_factory, org_id) as s:
        assert LeaseRows(s).acquire(shop, "woocommerce", "customers", "p4", NOW, ttl)
    with tenant_session(session_factory, org_id) as s:  # a renewed lease outlives the first term
        assert LeaseRows(s).renew(shop, "customers", "p4", NOW + ttl, ttl)
        assert LeaseRows(s).is_held(shop, "customers", NOW + ttl * 1.5)
        assert not LeaseRows(s).acquire(
            shop, "woocommerce", "customers", "p5", NOW + ttl * 1.5, ttl
        )


def test_activity_filters_and_paging(session_factory, org_id):
    with tenant_session(session_factory, org_id) as s:
        log = ActivityStore(s)
        for i in range(30):
            log.add(
                "refresh" if i % 3 else "view",
                user="ann" if i % 2 else "bob",
                connector_id=7 if i < 12 else 8,
                sync_type="woocommerce",
                entity_type="customers",
                status="failed" if i == 7 else "ok",
                at=NOW + timedelta(minutes=i),
            )
    with tenant_session(session_factory, org_id) as s:
        log = ActivityStore(s)
        rows, total = log.list(limit=10)
        assert total == 30 and rows[0].created_at == NOW + timedelta(minutes=29)
        assert log.list(ActivityFilter(action="view"))[1] == 10
        assert log.list(ActivityFilter(connector_id=7))[1] == 12
        assert log.list(ActivityFilter(user="ann", status="failed"))[1] == 1
        assert log.list(ActivityFilter(since=NOW + timedelta(minutes=25)))[1] == 5
        assert len(log.list(limit=10, offset=25)[0]) == 5


def test_selective_config_is_one_row_per_connector_and_entity(session_factory, org_id, connectors):
    erp, shop, outlet = connectors["erp"], connectors["shop"], connectors["outlet"]
    with tenant_session(session_factory, org_id) as s:
        store = SelectiveStore(s)
        assert store.get(erp, "orders") is None
        store.save(
            erp,
            "odoo",
            "orders",
            include_new=True,
            include_updated=False,
            include_deleted=True,
            updated_by="ann",
        )
        row = store.save(
            erp,
            "odoo",
            "orders",
            include_new=False,
            include_updated=False,
            include_deleted=True,
            updated_by="bob",
        )
        assert (row.include_new, row.updated_by) == (False, "bob")
        store.save(
            shop,
            "woocommerce",
            "orders",
            include_new=False,
            include_updated=True,
            include_deleted=False,
            updated_by="ann",
        )
        assert store.get(outlet, "orders") is None  # the other store's is its own


def test_accounts(session_factory, org_id):
    with tenant_session(session_factory, org_id) as s:
        users = UserRepo(s)
        users.create("Ann", "Ann A", "ANN@x.io", "correct horse", "admin")
        with pytest.raises(InvalidRequest, match="has a user 'ann' already"):
            users.create("ann", "Other", "o@x.io", "password1", "viewer")
        with pytest.raises(InvalidRequest, match="Invalid role"):
            users.create("carl", "Carl", "c@x.io", "password1", "root")
        with pytest.raises(InvalidRequest, match="8 characters"):
            users.create("dora", "Dora", "d@x.io", "short", "viewer")
        users.set_password("ann", "new password")
    with system_session(session_factory) as s:
        user = UserLookup(s).in_org(org_id, "ANN")
        assert user is not None and password_matches("new password", user.password_hash)
        assert not password_matches("correct horse", user.password_hash)
        assert user.password_hash.startswith("$2")
        assert OrganizationRepo(s).get("acme").id == org_id
        assert OrganizationRepo(s).get(str(org_id)).slug == "acme"
        with pytest.raises(NotFoundError):
            OrganizationRepo(s).get("nope")
