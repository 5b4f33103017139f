"""Benchmark of the delta engine on synthetic customers: ``python -m bench.delta --n 1000000``.

Each method runs in its own process; the figures are printed as a table. ``seconds`` runs from
the inputs in memory to a ``DeltaResult`` whose new, updated (with their field changes) and
deleted records are all built as Python objects; the timed step also reads every field
change. ``peak MB`` is the process's peak RSS during the step (the mark is reset after the
data is generated) and ``KB/pair`` the step's growth over the RSS before it, per record.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import statistics
import time
from typing import Any

from bench._common import (
    FIELDS,
    generate,
    noisy,
    peak_rss_mb,
    reset_peak_rss,
    rss_mb,
    run_method,
    woo_pages,
)
from core.delta import CanonicalFrame, canonical_frame, diff

METHODS = ("compare", "wire", "datacompy", "naive")


def _compare(n: int) -> dict[str, Any]:
    external, local, planted = generate(n)
    ext, loc = CanonicalFrame("customers", external), CanonicalFrame("customers", local)
    gc.collect()
    reset_peak_rss()
    before = rss_mb()
    start = time.perf_counter()
    result = diff("customers", ext, loc)
    changes = sum(len(item.changes) for item in result.updated)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "step_peak_mb": peak_rss_mb(),
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
    reset_peak_rss()
    before = rss_mb()
    start = time.perf_counter()
    ext = canonical_frame("woocommerce", "customers", pages)
    loc = canonical_frame("local", "customers", local_arrow)
    result = diff("customers", ext, loc)
    changes = sum(len(item.changes) for item in result.updated)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "step_peak_mb": peak_rss_mb(),
        "field_changes": changes,
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
    reset_peak_rss()
    before = rss_mb()
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
    reset_peak_rss()
    before = rss_mb()
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
    figures.setdefault("step_peak_mb", peak_rss_mb())
    figures.update(method=method, n=n)
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--method", choices=METHODS)
    parser.add_argument("--only", nargs="*", choices=METHODS, default=list(METHODS))
    parser.add_argument("--runs", type=int, default=1, help="processes per method (median)")
    args = parser.parse_args()
    if args.method:
        _one(args.method, args.n)
        return
    print(
        f"delta benchmark, {args.n:,} customers (1% new, 1% deleted, 5% updated), "
        f"median of {args.runs} process(es) per method"
    )
    print(
        f"{'method':<10} {'seconds':>8} {'records/s':>11} {'peak MB':>8} "
        f"{'KB/pair':>8} {'counts = planted':>18}  runs (s)"
    )
    for method in args.only:
        rows = [run_method("bench.delta", method, args.n) for _ in range(args.runs)]
        failed = [row for row in rows if "error" in row]
        if failed:
            print(f"{method:<10} failed: {failed[0]['error']}")
            continue
        seconds = statistics.median(float(row["seconds"]) for row in rows)  # type: ignore[arg-type]
        peak = statistics.median(float(row["step_peak_mb"]) for row in rows)  # type: ignore[arg-type]
        growth = statistics.median(
            float(row["step_peak_mb"]) - float(row["rss_before_mb"])  # type: ignore[arg-type]
            for row in rows
        )
        wrong = [row["counts"] for row in rows if row["counts"] != row["planted"]]
        check = "yes" if not wrong else f"no {wrong[0]}"
        runs = " ".join(f"{float(row['seconds']):.3f}" for row in rows)  # type: ignore[arg-type]
        print(
            f"{method:<10} {seconds:8.3f} {args.n / seconds:11,.0f} {peak:8,.0f} "
            f"{growth * 1024 / args.n:8.2f} {check:>18}  {runs}"
        )
    with open("/proc/loadavg") as load:
        print(f"load average after the runs: {load.read().split()[:3]}")


if __name__ == "__main__":
    main()
