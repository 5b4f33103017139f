"""Benchmark: fetch every customer from the sandbox through the real connectors.

    python -m bench.fetch --n 100000 --latency-ms 50 [--concurrency 6] [--odoo]
        [--entity products] [--real-world] [--odoo-only]

The sandbox runs in a subprocess (`python -m core sandbox`), so that its rendering does
not compete with the client for this process's GIL; the figures are wall time on the
client side. The bound is pages x latency / concurrency: the time the latency alone costs
with perfect overlap. ``--real-world`` seeds what real installations hold; with
``--entity products`` the Odoo variants' ids start at 100,000,000 (sparse ids).
"""

from __future__ import annotations

import argparse
import math
import socket
import subprocess
import sys
import time

from core.connectors import ConnectorConfig, build_connector


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(port: int, proc: subprocess.Popen[bytes], limit: float = 30.0) -> None:
    stop = time.monotonic() + limit
    while time.monotonic() < stop:
        if proc.poll() is not None:
            raise SystemExit("the sandbox subprocess exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the sandbox did not start")


def _run(
    label: str,
    config: ConnectorConfig,
    entity: str,
    latency_ms: float,
    concurrency: int,
    page: int,
) -> None:
    connector = build_connector(config, concurrency=concurrency, timeout=30)
    started = time.perf_counter()
    records = pages = 0
    for chunk in connector.iter_pages(entity):
        records += len(chunk)
        pages += 1
    elapsed = time.perf_counter() - started
    connector.close()
    ideal_pages = math.ceil(records / page)
    bound = ideal_pages * latency_ms / 1000 / concurrency
    print(
        f"{label}: {records:,} {entity} in {elapsed:.2f} s, {pages} pages yielded "
        f"({ideal_pages} x {page} needed); bound {ideal_pages} x {latency_ms:g} ms / "
        f"{concurrency} = {bound:.2f} s; ratio {elapsed / bound if bound else float('nan'):.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    """Start the sandbox, fetch all customers, print time, pages, bound and ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="customers in the sandbox")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="latency of each answer")
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--odoo", action="store_true", help="also fetch over Odoo JSON-2")
    parser.add_argument("--odoo-only", action="store_true", help="fetch over Odoo JSON-2 only")
    parser.add_argument(
        "--entity", default="customers", choices=("customers", "products", "orders")
    )
    parser.add_argument(
        "--real-world", action="store_true", help="the sandbox's real-world data set"
    )
    args = parser.parse_args(argv)
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "core",
            "sandbox",
            "--port",
            str(port),
            "--size",
            str(args.n),
            "--latency-ms",
            str(args.latency_ms),
            *(["--real-world"] if args.real_world else []),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_ready(port, proc)
        url = f"http://127.0.0.1:{port}"
        woo = ConnectorConfig(
            "woocommerce", url, {"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox"}
        )
        if not args.odoo_only:
            _run(
                "WooCommerce (OAuth 1.0a over HTTP)",
                woo,
                args.entity,
                args.latency_ms,
                args.concurrency,
                100,
            )
        if args.odoo or args.odoo_only:
            odoo = ConnectorConfig(
                "odoo",
                url,
                {"database": "sandbox", "username": "admin", "api_key": "sandbox-key"},
                {"protocol": "json2"},
            )
            _run(
                "Odoo JSON-2",
                odoo,
                args.entity,
                args.latency_ms,
                args.concurrency,
                100,
            )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
