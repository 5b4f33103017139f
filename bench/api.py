"""JSON API benchmark: latency of cached previews over real HTTP.

    python -m bench.api [--calls 200]

Creates the demo organization on a temporary SQLite database (sandbox in-process), starts
`python -m core api` on a free port, computes each preview once, then asks the API for a
cached preview --calls times and prints p50/p95 (token check, rate limit, database read and
the JSON envelope included).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import requests
from cryptography.fernet import Fernet

from bench.fetch import _free_port, _wait_ready

SECRET = "b" * 48


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(
            DATA_DIR=tmp,
            SECRET_KEY=Fernet.generate_key().decode(),
            COOKIE_KEY="c" * 40,
            API_JWT_SECRET=SECRET,
            API_RATE_LIMIT="100000/minute",
        )
        core = [sys.executable, "-m", "core"]
        subprocess.run([*core, "demo"], env=env, check=True, capture_output=True)
        port = _free_port()
        proc = subprocess.Popen(
            [*core, "api", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_ready(port, proc)
            url = f"http://127.0.0.1:{port}/api/v1/integrations/sync/preview"
            made = subprocess.run(
                [*core, "api-token", "--org", "demo", "--sub", "bench", "--days", "1"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            headers = {"Authorization": f"Bearer {made.stdout.strip()}"}
            with requests.Session() as http:
                for entity in ("customers", "products", "orders"):
                    params = {"sync_type": "woocommerce", "entity_type": entity}
                    first = http.get(url, params=params, headers=headers, timeout=120)
                    first.raise_for_status()
                    times = []
                    for _ in range(args.calls):
                        t = time.perf_counter()
                        answer = http.get(url, params=params, headers=headers, timeout=30)
                        times.append((time.perf_counter() - t) * 1000)
                        assert answer.json()["data"]["cacheHit"], answer.text
                    q = statistics.quantiles(times, n=20)
                    print(
                        f"[api] cached woocommerce {entity} preview ({len(answer.content):,} "
                        f"bytes): p50 {statistics.median(times):.1f} ms, p95 {q[18]:.1f} ms "
                        f"over {args.calls} calls"
                    )
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
