"""Two app processes asking for the same missing preview on PostgreSQL: one computation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.services.activity import ActivityFilter

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from core.bootstrap import build_services
    from core.config import load_settings

    url, key, org_id, start_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    svc = build_services(load_settings(database_url=url, secret_key=key, cookie_key="k" * 40,
                                       data_dir=sys.argv[5]), migrate=False)
    operator = svc.accounts.operator(org_id)
    time.sleep(max(0.0, start_at - time.time()))
    snap = svc.previews.get_preview_snapshot(operator, "woocommerce", "customers")
    print(json.dumps({"id": snap.snapshot_id, "hit": snap.cache_hit}))
    svc.close()
    """
)


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_two_processes_compute_once(services, demo_org, sandbox, db_url, tmp_path):
    import time

    from tests.integration.services.conftest import SECRET_KEY

    sandbox.faults.latency_ms = 200
    start_at = time.time() + 3.0  # both processes start their call at the same moment
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                SCRIPT,
                db_url,
                SECRET_KEY,
                str(demo_org.org_id),
                str(start_at),
                str(tmp_path),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ},
        )
        for _ in range(2)
    ]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(json.loads(out.strip().splitlines()[-1]))
    assert outs[0]["id"] == outs[1]["id"]
    assert sorted(o["hit"] for o in outs) == [False, True]  # one computed, one waited for it
    refreshes, _ = services.activity.list_activity(demo_org, ActivityFilter(action="refresh"))
    assert len(refreshes) == 1
