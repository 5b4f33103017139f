"""`python -m core sandbox`: serve the sandbox store until interrupted."""

from __future__ import annotations

import argparse

from core.sandbox.profile import Profile
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
    parser.add_argument(
        "--real-world",
        action="store_true",
        help="seed what real installations hold: archived records, variations, staff users, "
        "guest orders, a second company, section/note/delivery lines, HTML entities in names",
    )
    parser.add_argument(
        "--tls", action="store_true", help="serve HTTPS (a self-signed certificate made at start)"
    )
    parser.add_argument(
        "--redirect-http",
        action="store_true",
        help="with --tls: also listen on a plain-HTTP port that redirects to HTTPS",
    )
    parser.add_argument(
        "--no-inventory", action="store_true", help="serve an Odoo without the Inventory app"
    )
    parser.add_argument(
        "--odoo-companies",
        default="1,2",
        help="companies the Odoo API user belongs to (comma-separated ids of 1 and 2)",
    )
    parser.add_argument(
        "--woo-home-url",
        default=None,
        help="the WordPress home URL OAuth signatures are checked against (default: own URL)",
    )


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
        real_world=args.real_world,
        tls=args.tls,
        redirect_http=args.redirect_http,
        profile=Profile(
            odoo_inventory=not args.no_inventory,
            odoo_companies=tuple(int(c) for c in args.odoo_companies.split(",") if c.strip()),
            woo_home_url=args.woo_home_url,
        ),
    )
    server.faults.latency_ms = args.latency_ms
    server.start()
    print(f"Sandbox store serving at {server.url}", flush=True)
    if server.ca_file is not None:
        print(f"  TLS certificate (self-signed): {server.ca_file}", flush=True)
    if server.http_url:
        print(f"  {server.http_url} redirects to HTTPS", flush=True)
    print(
        f"  WooCommerce: {server.url}/wp-json/wc/v3/  consumer_key={server.woo_key} "
        f"consumer_secret={server.woo_secret}",
        flush=True,
    )
    print(
        f"  Odoo: {server.url}/xmlrpc/2/, /jsonrpc and /json/2/  database={server.odoo_db} "
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
