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
