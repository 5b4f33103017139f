"""Write-back benchmark: an apply to a mapped PostgreSQL table of the organization, beside
the floor of the same writes without any check or journal (the reference).

    python -m bench.write_back [--records 110000] [--updates 100000] [--creates 1000]
                               [--deletes 1000] [--batch 2000] [--gc-as-is]

Our database is an SQLite file; the organization's database a fresh PostgreSQL database on
127.0.0.1:5432 with ``crm.customers`` (its own key numbering, its own column names) holding
--records synthetic customers, mapped by the store's id in ``woo_id``. The "external" side is
the same records with --updates changed (city and phone), --deletes removed, --creates added;
the snapshot is stored as a refresh stores it. The apply (``start`` + ``execute``, all kinds,
batches of --batch: each batch one transaction in PostgreSQL, ``SELECT … FOR UPDATE`` of its
rows, batched INSERT/UPDATE/DELETE, then the journal in SQLite) is timed with the growth of
the process's peak memory; then its undo. The floor, after the undo: the same creates,
updates and deletes written straight to the table in pages of --batch rows (one transaction
each: ``UPDATE … FROM (VALUES …)``, a multi-row INSERT, ``DELETE … = ANY``), with no read, no
comparison and no journal. The apply and its undo run with the garbage collector as a
worker's (see ``bench.apply``); ``--gc-as-is`` times them without.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import psycopg2
from psycopg2.extras import execute_values
from sqlalchemy import create_engine, text

from bench._common import GC_AS_IS, collector
from bench.apply import ENTITY, PG_ADMIN, SOURCE, _bench_org, _line, _services, _sides
from bench.preview import PeakRss
from core.db.local_records import LocalRecords
from core.db.tenancy import tenant_session
from core.delta import canonical_frame, diff
from core.localdb import DatabaseSettings
from core.services.local_data import LocalMapping
from core.services.previews import PreviewKey

COLUMNS = {
    "email": "mail",
    "name": "full_name",
    "phone": "phone_no",
    "company": "firm",
    "address_1": "street",
    "address_2": "street2",
    "city": "town",
    "state": "region",
    "postcode": "zip",
    "country": "land",
    "status": "state_word",
}


def _fill(dsn: dict[str, str], local: list[dict[str, object]]) -> None:
    conn = psycopg2.connect(**dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE SCHEMA crm")
        cur.execute(
            "CREATE TABLE crm.customers (cust_no SERIAL PRIMARY KEY, woo_id TEXT UNIQUE, "
            + ", ".join(f"{c} TEXT" for c in COLUMNS.values())
            + ")"
        )
        frame = pl.DataFrame(local).select(
            pl.col("external_id").alias("woo_id"), *(pl.col(f).alias(c) for f, c in COLUMNS.items())
        )
        buffer = io.BytesIO()
        frame.write_csv(buffer, include_header=False)
        buffer.seek(0)
        columns = ", ".join(["woo_id", *COLUMNS.values()])
        cur.copy_expert(f"COPY crm.customers ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)
    conn.close()


def _floor(
    dsn: dict[str, str], local: list[dict[str, Any]], external: list[dict[str, Any]], page: int
) -> None:
    """The apply's writes straight to the table: no read, no comparison, no journal."""
    known = {str(r["external_id"]) for r in local}
    seen = {str(r["external_id"]) for r in external}
    updates = [
        (str(r["external_id"]), r["city"], r["phone"])
        for r in external
        if str(r["external_id"]) in known and r["city"] == "Updated City"
    ]
    creates = [
        (str(r["external_id"]), *(r[f] for f in COLUMNS))
        for r in external
        if str(r["external_id"]) not in known
    ]
    deletes = sorted(known - seen)
    conn = psycopg2.connect(**dsn)
    try:
        with conn.cursor() as cur:
            for start in range(0, len(updates), page):
                execute_values(
                    cur,
                    "UPDATE crm.customers AS c SET town = v.town, phone_no = v.phone "
                    "FROM (VALUES %s) AS v(woo_id, town, phone) WHERE c.woo_id = v.woo_id",
                    updates[start : start + page],
                    page_size=page,
                )
                conn.commit()
            columns = ", ".join(["woo_id", *COLUMNS.values()])
            for start in range(0, len(creates), page):
                execute_values(
                    cur,
                    f"INSERT INTO crm.customers ({columns}) VALUES %s",
                    creates[start : start + page],
                    page_size=page,
                )
                conn.commit()
            for start in range(0, len(deletes), page):
                cur.execute(
                    "DELETE FROM crm.customers WHERE woo_id = ANY(%s)",
                    (deletes[start : start + page],),
                )
                conn.commit()
    finally:
        conn.close()


def _store_snapshot(
    services: Any,
    admin: Any,
    key: PreviewKey,
    local: list[dict[str, Any]],
    external: list[dict[str, Any]],
) -> None:
    """The preview's snapshot, stored as a refresh stores it. The comparison's result (some
    300,000 Python objects) is let go before the apply, as a worker applying a run does not
    hold it."""
    result = diff(
        ENTITY,
        canonical_frame("local", ENTITY, pl.DataFrame(external)),
        canonical_frame("local", ENTITY, pl.DataFrame(local)),
    )
    services.previews.snapshots.store_ready(
        admin, key, result, 0, local={"kind": "database", "match": "id"}
    )


def _run(args: argparse.Namespace, dsn: dict[str, str]) -> None:
    local, external = _sides(args)
    _fill(dsn, local)
    changes = args.updates + args.creates + args.deletes
    with tempfile.TemporaryDirectory() as tmp:
        services = _services(f"sqlite:///{tmp}/app.db", Path(tmp), args.batch)
        try:
            admin, connector = _bench_org(services)
            services.local_data.set_database(
                admin,
                DatabaseSettings(
                    kind="postgresql", host="127.0.0.1", database=dsn["dbname"], user="postgres"
                ),
            )
            services.local_data.save_mapping(
                admin,
                LocalMapping.create(
                    SOURCE, ENTITY, table="crm.customers", match="id:woo_id", columns=COLUMNS
                ),
            )
            services.local_data.set_write_back(admin, SOURCE, ENTITY, enabled=True)
            services.selective.save_selective_config(
                admin, SOURCE, ENTITY, include_new=True, include_updated=True, include_deleted=True
            )
            _store_snapshot(
                services,
                admin,
                PreviewKey(admin.org_id, connector.id, SOURCE, ENTITY),
                local,
                external,
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
                "PostgreSQL",
                f"apply to crm.customers (start {started_s:.2f} s, batches of {args.batch})",
                changes,
                apply_s,
                mem,
            )
            with collector(args):
                t0 = time.perf_counter()
                services.apply.undo(admin, run.id)
                undo_s = time.perf_counter() - t0
            _line("PostgreSQL", "undo of that run", changes, undo_s, None)
            with tenant_session(services.sessions, admin.org_id) as s:
                assert LocalRecords(s).count(SOURCE, ENTITY) == 0  # the built-in store: untouched
            t0 = time.perf_counter()
            _floor(dsn, local, external, args.batch)
            _line(
                "PostgreSQL",
                "floor: the same writes, unchecked",
                changes,
                time.perf_counter() - t0,
                None,
            )
        finally:
            services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=110_000)
    parser.add_argument("--updates", type=int, default=100_000)
    parser.add_argument("--creates", type=int, default=1_000)
    parser.add_argument("--deletes", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--gc-as-is", action="store_true", help=GC_AS_IS)
    args = parser.parse_args()
    assert args.updates + args.deletes <= args.records, "more changes than records"
    print(
        f"{args.records:,} customers in your PostgreSQL table; {args.updates:,} updates, "
        f"{args.creates:,} creates, {args.deletes:,} deletes"
    )
    name = f"bench_wb_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _run(args, {"host": "127.0.0.1", "user": "postgres", "dbname": name})
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
