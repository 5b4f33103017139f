"""`python -m core sandbox`: serve the sandbox store until interrupted."""

from __future__ import annotations

import argparse

from core.sandbox.server import SandboxServer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the sandbox's options on `parser`."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8123, help="port (0 picks a free one)")
    parser.add_argument("--size", type=int, default=1000, help="customers (= orders) in the store")
    parser.add_argument("--seed", type=int, default=42, help="seed of the generated data")
    parser.add_argument("--woo-key", default="ck_sandbox", help="WooCommerce consumer key")
    parser.add_argument("--woo-secret", default="cs_sandbox", help="WooCommerce consumer secret")
    parser.add_argument("--odoo-db", default="sandbox", help="Odoo database name")
    parser.add_argument("--odoo-user", default="admin", help="Odoo login")
    parser.add_argument("--odoo-password", default="admin", help="Odoo password")
    parser.add_argument("--odoo-api-key", default="sandbox-key", help="Odoo API key")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="time every API answer takes")


def run_from_args(args: argparse.Namespace) -> int:
    """Start the sandbox from parsed options and serve until Ctrl+C; return the exit code."""
    server = SandboxServer(
        size=args.size,
        seed=args.seed,
        host=args.host,
        port=args.port,
        woo_key=args.woo_key,
        woo_secret=args.woo_secret,
        odoo_db=args.odoo_db,
        odoo_user=args.odoo_user,
        odoo_password=args.odoo_password,
        odoo_api_key=args.odoo_api_key,
    )
    server.faults.latency_ms = args.latency_ms
    server.start()
    print(f"Sandbox store serving at {server.url}", flush=True)
    print(
        f"  WooCommerce: {server.url}/wp-json/wc/v3/  consumer_key={server.woo_key} "
        f"consumer_secret={server.woo_secret}",
        flush=True,
    )
    print(
        f"  Odoo: {server.url}/xmlrpc/2/ and {server.url}/json/2/  database={server.odoo_db} "
        f"username={server.odoo_user} password={server.odoo_password} "
        f"api_key={server.odoo_api_key}",
        flush=True,
    )
    print(
        f"  {args.size:,} customers, {max(10, args.size // 4):,} products, "
        f"{args.size:,} orders (seed {args.seed}). Ctrl+C stops.",
        flush=True,
    )
    try:
        while not server.stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
