"""Helpers for the benchmarks: synthetic customers, peak RSS, one method per subprocess."""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import polars as pl

from core.delta import COMPARABLE_FIELDS
from core.worker import freeze_startup_objects

FIELDS = COMPARABLE_FIELDS["customers"]
CITIES = ["Paris", "Lyon", "Berlin", "München", "Zürich", "San Francisco", "Austin", "Porto"]
STATES = ["CA", "TX", "NY", "BY", "ZH", "RJ", "IDF", "ARA"]
COUNTRIES = ["US", "DE", "FR", "CH", "BR", "PT"]


@contextmanager
def as_in_a_worker() -> Iterator[None]:
    """The garbage collector as a worker's while the block runs: a worker freezes what its
    start-up made (``core.worker``) and holds no benchmark data, so what this process made
    before the block (the services, the synthetic sides kept for the floor) is kept out of
    the full collections the block sets off."""
    freeze_startup_objects()
    try:
        yield
    finally:
        gc.unfreeze()


GC_AS_IS = "time the apply and undo with this process's collector as it is (not as a worker's)"


def collector(args: Any) -> AbstractContextManager[None]:
    """``as_in_a_worker`` unless the benchmark was asked for ``--gc-as-is``."""
    return nullcontext() if args.gc_as_is else as_in_a_worker()


def peak_rss_mb() -> float:
    """Peak resident set size of this process (since the last ``reset_peak_rss``), in MB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Current resident set size of this process, in MB (0 where /proc is missing)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def reset_peak_rss() -> None:
    """Reset the kernel's peak-RSS mark (Linux), so a step's own peak can be measured."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


@dataclass(frozen=True)
class Planted:
    new: int
    updated: int
    deleted: int
    unchanged: int

    def as_dict(self) -> dict[str, int]:
        return {
            "new": self.new,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
        }


def _customers(ids: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    n = len(ids)
    ident = pl.Series("i", ids).cast(pl.String)
    pick = lambda values: pl.Series(values).gather(rng.integers(0, len(values), n))  # noqa: E731
    frame = pl.DataFrame({"external_id": ident})
    return frame.with_columns(
        email=pl.lit("user") + ident + pl.lit("@example.com"),
        name=pl.lit("First") + ident + pl.lit(" Last") + ident,
        phone=pl.lit("+1 555 ") + ident.str.zfill(7),
        company=pl.when(pl.Series(rng.random(n) < 0.3)).then(pl.lit("Acme ") + ident),
        address_1=ident + pl.lit(" Market Street"),
        address_2=pl.when(pl.Series(rng.random(n) < 0.1)).then(pl.lit("Suite 5")),
        city=pick(CITIES),
        state=pick(STATES),
        postcode=ident.str.zfill(5).str.slice(0, 5),
        country=pick(COUNTRIES),
        status=pl.lit("active"),  # registered customers (WooCommerce's mapping gives "active")
    )


def generate(n: int, seed: int = 7) -> tuple[pl.DataFrame, pl.DataFrame, Planted]:
    """Canonical (external, local) customers: 1 % new, 1 % deleted, 5 % updated (1-2 fields)."""
    rng = np.random.default_rng(seed)
    local = _customers(np.arange(1, n + 1), rng)
    order = rng.permutation(n)
    n_del, n_upd, n_new = n // 100, n * 5 // 100, n // 100
    deleted = order[:n_del]
    updated = order[n_del : n_del + n_upd]
    keep = np.ones(n, dtype=bool)
    keep[deleted] = False
    external = local.with_row_index("row")
    is_upd = np.zeros(n, dtype=bool)
    is_upd[updated] = True
    two = rng.random(n) < 0.5
    upd = pl.Series(is_upd)
    external = external.with_columns(
        city=pl.when(upd).then(pl.col("city") + pl.lit(" Nord")).otherwise(pl.col("city")),
        phone=pl.when(upd & pl.Series(two))
        .then(pl.lit("+44 20 ") + pl.col("external_id"))
        .otherwise(pl.col("phone")),
    ).drop("row")
    external = external.filter(pl.Series(keep))
    fresh = _customers(np.arange(n + 1, n + n_new + 1), rng)
    external = pl.concat([external, fresh])
    # Shuffle the external side as a store's paging would.
    external = external.sample(fraction=1.0, shuffle=True, seed=seed)
    planted = Planted(new=n_new, updated=n_upd, deleted=n_del, unchanged=n - n_del - n_upd)
    return external, local, planted


def noisy(external: pl.DataFrame, seed: int = 11) -> pl.DataFrame:
    """Formatting noise that must not count: e-mail case/spaces, padded names, state case, ""."""
    rng = np.random.default_rng(seed)
    n = external.height
    mask = lambda p: pl.Series(rng.random(n) < p)  # noqa: E731
    return external.with_columns(
        email=pl.when(mask(0.3))
        .then(pl.lit(" ") + pl.col("email").str.to_uppercase())
        .otherwise(pl.col("email")),
        name=pl.when(mask(0.3)).then(pl.col("name") + pl.lit("  ")).otherwise(pl.col("name")),
        state=pl.when(mask(0.3))
        .then(pl.col("state").str.to_lowercase())
        .otherwise(pl.col("state")),
        address_2=pl.col("address_2").fill_null(""),
        company=pl.col("company").fill_null(""),
    )


def woo_pages(external: pl.DataFrame, per_page: int = 100) -> list[bytes]:
    """WooCommerce customer page bodies (``_fields``-trimmed JSON arrays of 100 records)."""
    names = external["name"].str.split_exact(" ", 1).struct.rename_fields(["first", "last"])
    frame = external.with_columns(
        id=pl.col("external_id").cast(pl.Int64),
        first_name=names.struct.field("first"),
        last_name=names.struct.field("last"),
        date_modified_gmt=pl.lit("2024-05-01T10:00:00"),
    )
    billing = pl.struct(
        pl.col("first_name"),
        pl.col("last_name"),
        "company",
        "address_1",
        "address_2",
        "city",
        "state",
        "postcode",
        "country",
        "email",
        "phone",
    ).alias("billing")
    records = frame.select(
        "id", "date_modified_gmt", "email", "first_name", "last_name", billing
    ).to_dicts()
    return [orjson.dumps(records[i : i + per_page]) for i in range(0, len(records), per_page)]


def run_method(module: str, method: str, n: int) -> dict[str, object]:
    """Run one method in a fresh interpreter; it prints one JSON line of figures."""
    out = subprocess.run(
        [sys.executable, "-m", module, "--n", str(n), "--method", method],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return {"method": method, "error": out.stderr.strip().splitlines()[-1:]}
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))
