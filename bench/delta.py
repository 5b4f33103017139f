"""Benchmark of the delta engine on synthetic customers: ``python -m bench.delta --n 1000000``.

Each method runs in its own process (clean peak RSS); the figures are printed as a table.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import time
from typing import Any

from bench._common import FIELDS, generate, noisy, peak_rss_mb, run_method, woo_pages
from core.delta import CanonicalFrame, canonical_frame, diff

METHODS = ("compare", "wire", "datacompy", "naive")


def _compare(n: int) -> dict[str, Any]:
    external, local, planted = generate(n)
    ext, loc = CanonicalFrame("customers", external), CanonicalFrame("customers", local)
    gc.collect()
    before = peak_rss_mb()
    start = time.perf_counter()
    result = diff("customers", ext, loc)
    seconds = time.perf_counter() - start
    changes = sum(len(item.changes) for item in result.updated)
    return {
        "seconds": seconds,
        "counts": result.counts,
        "planted": planted.as_dict(),
        "field_changes": changes,
        "rss_before_mb": before,
    }


def _wire(n: int) -> dict[str, Any]:
    external, local, planted = generate(n)
    pages = woo_pages(noisy(external))
    del external
    local_arrow = local.to_arrow()
    del local
    gc.collect()
    before = peak_rss_mb()
    start = time.perf_counter()
    ext = canonical_frame("woocommerce", "customers", pages)
    loc = canonical_frame("local", "customers", local_arrow)
    result = diff("customers", ext, loc)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "counts": result.counts,
        "planted": planted.as_dict(),
        "rss_before_mb": before,
        "page_mb": sum(map(len, pages)) / 2**20,
    }


def _datacompy(n: int) -> dict[str, Any]:
    import datacompy

    external, local, planted = generate(n)
    ext, loc = external.to_pandas(), local.to_pandas()
    del external, local
    gc.collect()
    before = peak_rss_mb()
    start = time.perf_counter()
    compare = datacompy.PandasCompare(loc, ext, join_columns="external_id")
    mismatched = len(compare.all_mismatch())
    counts = {
        "new": len(compare.df2_unq_rows),
        "updated": mismatched,
        "deleted": len(compare.df1_unq_rows),
        "unchanged": compare.intersect_rows.shape[0] - mismatched,
    }
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "counts": counts,
        "planted": planted.as_dict(),
        "rss_before_mb": before,
    }


def _naive(n: int) -> dict[str, Any]:
    external, local, planted = generate(n)
    pages = woo_pages(external)
    local_rows = local.to_dicts()
    del external, local
    gc.collect()
    before = peak_rss_mb()
    start = time.perf_counter()

    def digest(record: dict[str, Any]) -> str:
        return hashlib.md5(json.dumps(record, sort_keys=True).encode()).hexdigest()

    outside: dict[str, tuple[str, dict[str, Any]]] = {}
    for page in pages:
        for raw in json.loads(page):
            billing = raw["billing"]
            record = {field: billing.get(field) for field in FIELDS if field != "name"}
            record["name"] = f"{raw['first_name']} {raw['last_name']}"
            outside[str(raw["id"])] = (digest(record), record)
    counts = {"new": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    seen = set()
    for row in local_rows:
        key = row["external_id"]
        record = {field: row[field] for field in FIELDS}
        if key not in outside:
            counts["deleted"] += 1
            continue
        seen.add(key)
        counts["unchanged" if outside[key][0] == digest(record) else "updated"] += 1
    counts["new"] = len(outside) - len(seen)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "counts": counts,
        "planted": planted.as_dict(),
        "rss_before_mb": before,
    }


def _one(method: str, n: int) -> None:
    figures = {"compare": _compare, "wire": _wire, "datacompy": _datacompy, "naive": _naive}[
        method
    ](n)
    figures.update(method=method, n=n, peak_rss_mb=peak_rss_mb())
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--method", choices=METHODS)
    parser.add_argument("--only", nargs="*", choices=METHODS, default=list(METHODS))
    args = parser.parse_args()
    if args.method:
        _one(args.method, args.n)
        return
    print(f"delta benchmark, {args.n:,} customers (1% new, 1% deleted, 5% updated)")
    print(
        f"{'method':<10} {'seconds':>8} {'records/s':>11} {'peak RSS MB':>12} "
        f"{'KB/pair':>8} {'counts = planted':>18}"
    )
    for method in args.only:
        row = run_method("bench.delta", method, args.n)
        if "error" in row:
            print(f"{method:<10} failed: {row['error']}")
            continue
        seconds, peak = float(row["seconds"]), float(row["peak_rss_mb"])
        check = "yes" if row["counts"] == row["planted"] else f"no {row['counts']}"
        print(
            f"{method:<10} {seconds:8.3f} {args.n / seconds:11,.0f} {peak:12,.0f} "
            f"{peak * 1024 / args.n:8.2f} {check:>18}"
        )


if __name__ == "__main__":
    main()
