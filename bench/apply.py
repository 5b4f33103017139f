"""Apply benchmark: writing a preview's changes to the built-in store, beside a reference.

    python -m bench.apply [--records 20000] [--updates 10000] [--creates 1000] [--deletes 1000]
                          [--batch 2000] [--only sqlite|postgres] [--gc-as-is]

For SQLite (a temporary file) and PostgreSQL (a fresh database on 127.0.0.1:5432): the
built-in store holds --records synthetic customers; the "external" side is the same records
with --updates of them changed (city and phone), --deletes removed and --creates added.

- reference: the refresh of the same records without the fetch — the engine's diff of the
  two sides and the stored snapshot (``SnapshotStore.store_ready``, what a refresh stores);
- apply: ``ApplyService.start`` (the run and its journal) + ``execute`` (batches of --batch
  records, each one transaction: read the local rows, compare with the snapshot, write,
  mark the journal), all kinds included;
- floor: ``LocalRecords.upsert`` of the same changed records (the demo's bulk upsert: one
  statement per 5,000 rows, no checks, no journal).

Each prints seconds, records per second and the growth of the process's peak memory. The
apply and its undo run with the garbage collector as a worker's (``as_in_a_worker``: what the
benchmark made before is out of its full collections); ``--gc-as-is`` times them without.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from bench._common import GC_AS_IS, _customers, collector
from bench.preview import PeakRss
from core.bootstrap import Services, build_services
from core.config import load_settings
from core.db.local_records import LocalRecords
from core.db.tenancy import tenant_session
from core.delta import canonical_frame, diff
from core.services.actors import UserContext
from core.services.connectors import ConnectorView
from core.services.previews import PreviewKey

PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
SOURCE, ENTITY = "woocommerce", "customers"


def _services(url: str, data_dir: Path, batch: int) -> Services:
    settings = load_settings(
        data_dir=data_dir,
        database_url=url,
        secret_key=Fernet.generate_key().decode(),
        cookie_key="b" * 40,
        rate_limit="1000/minute",
        apply_batch_size=batch,
    )
    return build_services(settings, rate_limit_namespace=f"bench-{uuid.uuid4().hex}")


def _bench_org(services: Services) -> tuple[UserContext, ConnectorView]:
    """The benchmark's organization (its admin) and its store's connector."""
    admin = services.accounts.create_organization(
        "Bench",
        admin_username="bench",
        admin_name="Bench",
        admin_email="bench@example.com",
        admin_password="bench-password-1",
    )
    connector = services.connectors.add(
        admin,
        SOURCE,
        "Bench shop",
        "https://shop.example",
        {"consumer_key": "ck", "consumer_secret": "cs"},
    )
    return admin, connector


def _sides(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(local, external) canonical customers."""
    rng = np.random.default_rng(11)
    n = args.records
    local = _customers(np.arange(1, n + 1), rng)
    order = rng.permutation(n)
    deleted = set((order[: args.deletes] + 1).tolist())
    updated = set((order[args.deletes : args.deletes + args.updates] + 1).tolist())
    ids = local["external_id"].cast(pl.Int64)
    external = local.filter(~ids.is_in(list(deleted))).with_columns(
        city=pl.when(ids.filter(~ids.is_in(list(deleted))).is_in(list(updated)))
        .then(pl.lit("Updated City"))
        .otherwise(pl.col("city")),
        phone=pl.when(ids.filter(~ids.is_in(list(deleted))).is_in(list(updated)))
        .then(pl.lit("+1 555 0000000"))
        .otherwise(pl.col("phone")),
    )
    new = _customers(np.arange(n + 1, n + 1 + args.creates), rng)
    external = pl.concat([external, new])
    return local.to_dicts(), external.to_dicts()


def _run(name: str, url: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        services = _services(url, Path(tmp), args.batch)
        try:
            admin, connector = _bench_org(services)
            local, external = _sides(args)
            with tenant_session(services.sessions, admin.org_id) as s:
                LocalRecords(s).upsert(SOURCE, ENTITY, local)
            changes = args.updates + args.creates + args.deletes

            # reference: the refresh of the same records (diff + store), without the fetch
            with PeakRss() as mem:
                t0 = time.perf_counter()
                with tenant_session(services.sessions, admin.org_id) as s:
                    raw = LocalRecords(s).load_frame(SOURCE, ENTITY)
                result = diff(
                    ENTITY,
                    canonical_frame("local", ENTITY, pl.DataFrame(external)),
                    canonical_frame("local", ENTITY, raw),
                )
                key = PreviewKey(admin.org_id, connector.id, SOURCE, ENTITY)
                services.previews.snapshots.store_ready(admin, key, result, 0)
                refresh_s = time.perf_counter() - t0
            assert result.counts["updated"] == args.updates, result.counts
            _line(name, "reference: refresh (diff + store)", changes, refresh_s, mem)

            services.selective.save_selective_config(
                admin,
                SOURCE,
                ENTITY,
                include_new=True,
                include_updated=True,
                include_deleted=True,
            )
            with PeakRss() as mem, collector(args):
                t0 = time.perf_counter()
                run = services.apply.start(admin, SOURCE, ENTITY)
                started_s = time.perf_counter() - t0
                done = services.apply.execute(admin, run.id)
                apply_s = time.perf_counter() - t0
            assert done.state == "succeeded", done
            assert done.counts["updated"] == args.updates, done.counts
            _line(
                name,
                f"apply (start {started_s:.2f} s + execute, batches of {args.batch})",
                changes,
                apply_s,
                mem,
            )

            with collector(args):
                undone_t0 = time.perf_counter()
                services.apply.undo(admin, run.id)
                undo_s = time.perf_counter() - undone_t0
            _line(name, "undo of that run", changes, undo_s, None)

            # floor: the bulk upsert of the same changed records
            changed = [r for r in external if int(r["external_id"]) > args.records][:]
            changed += [r for r in external if r["city"] == "Updated City"]
            with PeakRss() as mem:
                t0 = time.perf_counter()
                with tenant_session(services.sessions, admin.org_id) as s:
                    LocalRecords(s).upsert(SOURCE, ENTITY, changed)
                upsert_s = time.perf_counter() - t0
            _line(name, "floor: bulk upsert of the changed rows", len(changed), upsert_s, mem)
        finally:
            services.close()


def _line(db: str, what: str, n: int, seconds: float, mem: PeakRss | None) -> None:
    memory = f", peak memory +{mem.growth_mb:.0f} MB" if mem is not None else ""
    print(f"{db:<10} {what:<58} {n:>8,} records {seconds:7.2f} s  {n / seconds:>9,.0f}/s{memory}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--creates", type=int, default=1_000)
    parser.add_argument("--deletes", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--gc-as-is", action="store_true", help=GC_AS_IS)
    args = parser.parse_args()
    assert args.updates + args.deletes <= args.records, "more changes than records"
    print(
        f"{args.records:,} local customers; {args.updates:,} updates, {args.creates:,} creates, "
        f"{args.deletes:,} deletes"
    )
    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as tmp:
            _run("SQLite", f"sqlite:///{tmp}/bench.db", args)
    if args.only != "sqlite":
        name = f"bench_apply_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            _run("PostgreSQL", PG_ADMIN.rsplit("/", 1)[0] + "/" + name, args)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
