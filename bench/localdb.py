"""The organization's own database as the local side: read + diff of 1M customers.

    python -m bench.localdb [--n 1000000] [--only postgresql sqlite] [--runs 3]

Builds a customers table with its own column names and types (``crm.clients(cust_no bigint,
woo_id bigint, mail text, full_name text, town text, ...)``, e-mails partly upper-cased and
padded, states lower-cased: noise that must not count) in a PostgreSQL database it creates
and drops, and in an SQLite file; then, each step in a fresh process, measures:

- read: our streamed read into canonical frames (``LocalReader.frames``; PostgreSQL: COPY)
  against pandas ``read_sql`` of the same columns (no normalizing at all);
- diff: read + diff against 1M external canonical records (1 % new, 1 % deleted, 5 %
  updated), matched by the linked id column and by natural key (e-mail), against pandas
  ``read_sql`` + normalizing + an outer merge on the id;

with the peak memory growth of the step (peak RSS minus RSS before it; the external records
are built before). Targets (PostgreSQL, 1M rows): read <= 3 s and <= 150 MB, pandas' read
>= 3x ours; natural-key matching <= 1.2x id matching.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import psycopg2

from bench._common import generate, peak_rss_mb, reset_peak_rss, rss_mb

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
#: Our columns -> the organization's own names (and types, below).
OWN = {
    "email": "mail",
    "name": "full_name",
    "phone": "phone_no",
    "company": "firm",
    "address_1": "street",
    "address_2": "street2",
    "city": "town",
    "state": "region",
    "postcode": "zip",
    "country": "country_code",
}
DDL = """CREATE TABLE {t} (
    cust_no BIGINT PRIMARY KEY,
    woo_id BIGINT,
    mail VARCHAR(254),
    full_name TEXT,
    phone_no VARCHAR(40),
    firm TEXT,
    street TEXT,
    street2 TEXT,
    town VARCHAR(80),
    region VARCHAR(8),
    zip VARCHAR(12),
    country_code CHAR(2),
    created TIMESTAMP
)"""
AMBIGUOUS = 10  # local rows that take the e-mail of another row (ambiguous keys)
STEPS = ("read", "pandas-read", "diff-id", "diff-natural", "pandas-diff")


def own_table(n: int) -> pl.DataFrame:
    """The local customers in the organization's own shape, with formatting noise."""
    _, local, _ = generate(n)
    rng = np.random.default_rng(3)
    noisy = pl.Series(rng.random(local.height) < 0.3)
    frame = local.with_columns(
        cust_no=pl.col("external_id").cast(pl.Int64) + 50_000_000,
        woo_id=pl.col("external_id").cast(pl.Int64),
        email=pl.when(noisy)
        .then(pl.lit(" ") + pl.col("email").str.to_uppercase())
        .otherwise(pl.col("email")),
        state=pl.when(noisy).then(pl.col("state").str.to_lowercase()).otherwise(pl.col("state")),
        created=pl.lit("2024-05-01 10:00:00"),
    )
    # A few rows share an e-mail with the next row: ambiguous keys when matching by e-mail.
    emails = frame["email"].to_list()
    for i in range(0, 2 * AMBIGUOUS, 2):
        emails[i] = emails[i + 1].strip().lower()
    frame = frame.with_columns(email=pl.Series(emails))
    return frame.rename(OWN).select("cust_no", "woo_id", *OWN.values(), "created")


def build_postgres(n: int) -> str:
    name = f"syncpreview_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dbname="postgres", **PG)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    conn = psycopg2.connect(dbname=name, **PG)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA crm")
        cur.execute(DDL.format(t="crm.clients"))
        buffer = io.BytesIO()
        own_table(n).write_csv(buffer, include_header=False)
        buffer.seek(0)
        cur.copy_expert("COPY crm.clients FROM STDIN WITH (FORMAT csv)", buffer)
        cur.execute("ANALYZE crm.clients")
    conn.close()
    return name


def drop_postgres(name: str) -> None:
    admin = psycopg2.connect(dbname="postgres", **PG)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.close()


def build_sqlite(n: int, path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(DDL.format(t="clients"))
        table = own_table(n)
        conn.executemany(
            f"INSERT INTO clients VALUES ({', '.join('?' * table.width)})", table.iter_rows()
        )
    conn.close()


# --------------------------------------------------------------------------- one step


def _settings(kind: str, target: str) -> Any:
    from core.localdb import DatabaseSettings

    if kind == "sqlite":
        return DatabaseSettings(kind="sqlite", database=target, statement_timeout=600)
    return DatabaseSettings(
        kind="postgresql",
        host="127.0.0.1",
        user="postgres",
        database=target,
        statement_timeout=600,
    )


def _mapping(kind: str, match: str) -> Any:
    from core.localdb import LocalMapping

    table = "crm.clients" if kind == "postgresql" else "clients"
    return LocalMapping.create("woocommerce", "customers", table=table, match=match, columns=OWN)


def _sql(kind: str) -> str:
    table = "crm.clients" if kind == "postgresql" else "clients"
    return f"SELECT woo_id, {', '.join(OWN.values())} FROM {table}"


def _engine(kind: str, target: str) -> Any:
    from sqlalchemy import create_engine

    if kind == "sqlite":
        return create_engine(f"sqlite:///{target}")
    return create_engine(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{target}")


#: External records per frame handed to the diff. DeltaStream joins each frame with the
#: whole local index (~0.1 s at 1M local rows, whatever the frame's size), so frames of the
#: service's 5,000 records would make that join the bulk of a 1M diff (see the README).
EXTERNAL_FRAME = 100_000


def _external(n: int) -> list[Any]:
    from core.delta import CanonicalFrame

    external, _, _ = generate(n)
    return [
        CanonicalFrame("customers", external.slice(i, EXTERNAL_FRAME).rechunk())
        for i in range(0, external.height, EXTERNAL_FRAME)
    ]


def _pandas_diff(kind: str, target: str, external: Any) -> dict[str, int]:
    import pandas as pd

    local = pd.read_sql(_sql(kind), _engine(kind, target))
    local = local.rename(columns={v: k for k, v in OWN.items()})
    for column in OWN:
        values = local[column].astype("string").str.strip()
        if column == "email":
            values = values.str.lower()
        elif column in ("state", "country"):
            values = values.str.upper()
        local[column] = values.replace("", pd.NA)
    local["external_id"] = local.pop("woo_id").astype("string")
    merged = external.merge(
        local, on="external_id", how="outer", suffixes=("", "_l"), indicator=True
    )
    both = merged[merged["_merge"] == "both"]
    changed = np.zeros(len(both), dtype=bool)
    for column in OWN:
        left, right = both[column].astype("string"), both[f"{column}_l"].astype("string")
        changed |= ~((left == right).fillna(False) | (left.isna() & right.isna())).to_numpy()
    return {
        "new": int((merged["_merge"] == "left_only").sum()),
        "updated": int(changed.sum()),
        "deleted": int((merged["_merge"] == "right_only").sum()),
        "unchanged": int(len(both) - changed.sum()),
    }


def run_step(step: str, kind: str, target: str, n: int) -> dict[str, Any]:
    from core.localdb import LocalDatabase, LocalReader, compare

    db = LocalDatabase(_settings(kind, target))
    external: Any = None
    if step.startswith("diff"):
        external = _external(n)
    elif step == "pandas-diff":
        external = pl.concat([f.data for f in _external(n)]).to_pandas()
        for column in external.columns:
            external[column] = external[column].astype("string")
    import pandas  # noqa: F401 - loaded before measuring, as a running app has it

    gc.collect()
    reset_peak_rss()
    before = rss_mb()
    start = time.perf_counter()
    out: dict[str, Any] = {}
    if step == "read":
        rows = 0
        chunk = int(os.environ.get("LOCALDB_CHUNK_ROWS", "20000"))
        for frame in LocalReader(db, _mapping(kind, "id:woo_id"), chunk_rows=chunk).frames():
            rows += frame.data.height
        out["rows"] = rows
    elif step == "pandas-read":
        out["rows"] = len(pandas.read_sql(_sql(kind), _engine(kind, target)))
    elif step in ("diff-id", "diff-natural"):
        match = "id:woo_id" if step == "diff-id" else "natural"
        result = compare(db, _mapping(kind, match), external)
        out["counts"] = result.counts
    else:
        out["counts"] = _pandas_diff(kind, target, external)
    out["seconds"] = time.perf_counter() - start
    out["growth_mb"] = peak_rss_mb() - before
    return out


def _in_process(step: str, kind: str, target: str, n: int, runs: int) -> dict[str, Any]:
    """The step in ``runs`` fresh processes: the run of median time."""
    command = [sys.executable, "-m", "bench.localdb", "--n", str(n), "--step", step]
    command += ["--kind", kind, "--target", target]
    figures = []
    for _ in range(runs):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return {"error": (done.stderr.strip().splitlines() or ["?"])[-1]}
        figures.append(dict(json.loads(done.stdout.strip().splitlines()[-1])))
    figures.sort(key=lambda f: f["seconds"])
    return figures[len(figures) // 2] | {"runs": [round(f["seconds"], 2) for f in figures]}


def _cell(figures: dict[str, Any]) -> str:
    if "error" in figures:
        return f"failed: {figures['error']}"[:34]
    return f"{figures['seconds']:6.2f} s {figures['growth_mb']:6.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument(
        "--only", nargs="*", choices=("postgresql", "sqlite"), default=["postgresql", "sqlite"]
    )
    parser.add_argument("--steps", nargs="*", choices=STEPS, default=list(STEPS))
    parser.add_argument("--runs", type=int, default=1, help="processes per step (median)")
    parser.add_argument("--step", choices=STEPS)
    parser.add_argument("--kind")
    parser.add_argument("--target")
    args = parser.parse_args()
    if args.step:
        print(json.dumps(run_step(args.step, args.kind, args.target, args.n)))
        return
    print(f"local database benchmark: {args.n:,} customers in the organization's own table")
    targets: dict[str, str] = {}
    tmp = tempfile.TemporaryDirectory()
    try:
        started = time.perf_counter()
        if "postgresql" in args.only:
            targets["postgresql"] = build_postgres(args.n)
        if "sqlite" in args.only:
            path = Path(tmp.name) / "crm.sqlite"
            build_sqlite(args.n, path)
            targets["sqlite"] = str(path)
        print(f"tables built in {time.perf_counter() - started:.1f} s")
        results = {
            (kind, step): _in_process(step, kind, target, args.n, args.runs)
            for kind, target in targets.items()
            for step in args.steps
        }
    finally:
        if "postgresql" in targets:
            drop_postgres(targets["postgresql"])
        tmp.cleanup()
    kinds = list(targets)
    print(f"{'step':<14}" + "".join(f"{kind:>26}" for kind in kinds))
    for step in args.steps:
        print(f"{step:<14}" + "".join(f"{_cell(results[(k, step)]):>26}" for k in kinds))
    if args.runs > 1:
        for (kind, step), figures in results.items():
            print(f"  {kind} {step}: runs {figures.get('runs')}")
    for kind in kinds:
        ours, theirs = results.get((kind, "read"), {}), results.get((kind, "pandas-read"), {})
        by_id, natural = results.get((kind, "diff-id"), {}), results.get((kind, "diff-natural"), {})
        notes = []
        if "seconds" in ours and "seconds" in theirs:
            notes.append(f"pandas read / ours {theirs['seconds'] / ours['seconds']:.1f}x")
        if "seconds" in by_id and "seconds" in natural:
            notes.append(f"natural / id {natural['seconds'] / by_id['seconds']:.2f}x")
        for name, figures in (
            ("id", by_id),
            ("natural", natural),
            ("pandas", results.get((kind, "pandas-diff"), {})),
        ):
            if "counts" in figures:
                notes.append(f"{name} {figures['counts']}")
        print(f"{kind}: " + "; ".join(notes))
    with open("/proc/loadavg") as load:
        print(f"load average after the runs: {load.read().split()[:3]}")


if __name__ == "__main__":
    os.environ.setdefault("POLARS_MAX_THREADS", str(os.cpu_count() or 2))
    main()
