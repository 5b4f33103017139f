"""The lease of a running refresh is short and kept alive by its heartbeat."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from core.db.models import Job
from core.db.tenancy import tenant_session
from core.services.activity import ActivityFilter
from tests.integration.services.conftest import make_services


def test_a_refresh_longer_than_its_lease_keeps_it(db_url, tmp_path, sandbox, admin, services):
    services.demo.load(admin, sandbox_url=sandbox.url)
    # a process of the deployment with a 1-second lease, on the real clock
    app = make_services(db_url, tmp_path, None, refresh_lease_seconds=1, rate_limit="100/minute")
    sandbox.faults.latency_ms = 1200  # the refresh takes several leases' time
    results = []
    first = threading.Thread(
        target=lambda: results.append(
            app.previews.get_preview_snapshot(admin, "odoo", "customers", force_refresh=True)
        )
    )
    first.start()
    try:
        while not _a_lease_is_held(services, admin.org_id):
            pass
        second = app.previews.get_preview_snapshot(admin, "odoo", "customers", force_refresh=True)
    finally:
        first.join(60)
        app.close()
    # the second caller waited for the first (whose heartbeat kept the lease), and got its
    # result: one refresh, nothing taken over
    assert second.snapshot_id == results[0].snapshot_id and second.refresh_notice is None
    refreshes, _ = services.activity.list_activity(admin, ActivityFilter(action="refresh"))
    assert [e.status for e in refreshes] == ["ok"]


def _a_lease_is_held(services, org_id: int) -> bool:
    with tenant_session(services.sessions, org_id) as s:
        # the lease of a refresh is its job's (every refresh runs as a job)
        return bool(s.scalar(select(func.count(Job.id)).where(Job.lease_until.is_not(None))))
