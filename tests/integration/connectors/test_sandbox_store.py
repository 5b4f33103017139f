"""The sandbox's data set: deterministic, realistic, mutable, cheap at a million records."""

from __future__ import annotations

import time

import pytest

from core.sandbox import SandboxServer, Store


def test_same_size_and_seed_give_the_same_records() -> None:
    a, b, c = Store(1000, 42), Store(1000, 42), Store(1000, 43)
    assert [a.get("customers", i) for i in (1, 500, 1000)] == [
        b.get("customers", i) for i in (1, 500, 1000)
    ]
    assert a.get("orders", 9) == b.get("orders", 9)
    assert a.get("customers", 1) != c.get("customers", 1)
    assert a.base == {"customers": 1000, "products": 250, "orders": 1000}


def test_records_look_real() -> None:
    store = Store(1000, 42)
    customer = store.get("customers", 17)
    assert customer is not None
    assert "@" in customer["email"] and len(customer["country"]) == 2
    order = store.get("orders", 3)
    assert order is not None and order["lines"] and order["lines"][0]["total_cents"] > 0


def test_a_million_records_cost_nothing_until_read() -> None:
    started = time.monotonic()
    store = Store(1_000_000, 1)
    assert store.get("customers", 999_999) is not None
    assert len(store.ids("customers")) == 1_000_000
    assert time.monotonic() - started < 2.0


def test_mutations() -> None:
    store = Store(100, 1)
    ident = store.add("customers", email="a@example.com")
    assert ident == 101 and store.get("customers", ident)["email"] == "a@example.com"  # type: ignore[index]
    store.update("customers", 3, city="Lyon")
    assert store.get("customers", 3)["city"] == "Lyon"  # type: ignore[index]
    store.delete("customers", 4)
    assert store.get("customers", 4) is None and 4 not in store.ids("customers")
    with pytest.raises(KeyError):
        store.update("customers", 4, city="x")


def test_cli_arguments_start_a_server() -> None:
    import argparse

    from core.sandbox.cli import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--port", "0", "--size", "50", "--woo-key", "ck_x"])
    assert (args.port, args.size, args.woo_key, args.odoo_api_key) == (0, 50, "ck_x", "sandbox-key")
    with SandboxServer(size=args.size, port=args.port, woo_key=args.woo_key) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.port > 0


def test_the_default_data_set_has_no_real_world_records() -> None:
    store = Store(1000, 42)
    assert all(store.attr("customers", i, "active") for i in range(1, 1001))
    assert {store.attr("customers", i, "role") for i in range(1, 1001)} == {
        "customer",
        "subscriber",
    }
    assert all(store.attr("products", i, "type") == "simple" for i in range(1, 251))
    assert all(store.get("orders", i)["customer_id"] for i in range(1, 101))  # type: ignore[index]
    assert len(store.ids("customers")) == 1000


def test_the_real_world_data_set() -> None:
    store = Store(1000, 42, real_world=True)
    archived = [i for i in range(1, 1001) if not store.attr("customers", i, "active")]
    assert len(archived) == 20
    assert len(store.ids("customers")) == 980
    assert len(store.ids("customers", with_archived=True)) == 1000
    roles = {store.attr("customers", i, "role") for i in range(1, 1001)}
    assert {"administrator", "shop_manager", "customer", "subscriber"} == roles
    variable = [i for i in range(1, 251) if store.attr("products", i, "type") == "variable"]
    assert variable
    variations = store.variations(variable[0])
    assert 2 <= len(variations) <= 4 and all(v["parent_id"] == variable[0] for v in variations)
    assert store.variation(variations[0]["id"]) == variations[0]
    orders = [store.get("orders", i) for i in range(1, 201)]
    assert any(o["customer_id"] == 0 for o in orders if o)
    assert {o["company_id"] for o in orders if o} == {1, 2}
    names = [store.get("products", i)["name"] for i in range(1, 251)]  # type: ignore[index]
    assert any("&" in n for n in names) and any("\u2013" in n for n in names)


def test_archiving_and_reviving() -> None:
    store = Store(100, 1, real_world=True)
    archived = next(i for i in range(1, 101) if not store.attr("customers", i, "active"))
    store.update("customers", archived, active=True)
    assert archived in store.ids("customers")
    store.update("customers", 2, active=False)
    assert 2 not in store.ids("customers") and 2 in store.ids("customers", with_archived=True)


def test_cli_arguments_for_tls_and_the_profile() -> None:
    import argparse

    import requests

    from core.sandbox.cli import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        ["--port", "0", "--size", "20", "--tls", "--real-world", "--no-inventory"]
    )
    assert (args.tls, args.real_world, args.no_inventory) == (True, True, True)
    with SandboxServer(size=args.size, port=args.port, tls=args.tls) as server:
        assert server.url.startswith("https://127.0.0.1:") and server.ca_file is not None
        answer = requests.get(f"{server.url}/web/version", verify=str(server.ca_file), timeout=5)
        assert answer.json()["version"] == "19.0"
