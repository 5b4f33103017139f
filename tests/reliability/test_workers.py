"""Refreshes in the background: real worker processes (`python -m core worker`) on the SQLite,
Redis and PostgreSQL queues; a worker killed mid-job; dedupe; cancel; the API's 202 and the
CLI. What a user checks: the job's state, the preview it left, the activity log."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from core.bootstrap import Services
from core.errors import PermissionDenied
from core.jobs.queue import JobQueue
from core.services.activity import ActivityFilter
from core.services.jobs import JobView
from tests.reliability.conftest import (
    ApiProcess,
    core_env,
    make_demo,
    run_core,
    services_for,
    token_for,
)
from tests.workers import Worker, until

PREVIEW = ("preview", "--org", "demo", "--sync-type", "woocommerce", "--entity", "customers")
FAST = {"SCHEDULER_SECONDS": "0.5", "REFRESH_LEASE_SECONDS": "2", "WARM_PREVIEWS": "false"}


def _worker(env: dict[str, str], name: str = "worker") -> Worker:
    """A worker of two threads; its log in the data folder."""
    return Worker(env, Path(env["DATA_DIR"]) / f"{name}.log", threads=2)


def _setup(sandbox, tmp_path: Path, db_url: str | None = None, **extra: str):  # noqa: ANN001, ANN202
    env = core_env(db_url or f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "data", **FAST)
    env.update(extra)
    services = services_for(env)
    admin = make_demo(services, sandbox)
    services.previews.get_preview_snapshot(admin, "woocommerce", "customers")  # a first preview
    return env, services, admin


def _refresh_through(worker_env: dict[str, str], services: Services, admin) -> JobView:  # noqa: ANN001
    worker = _worker(worker_env)
    try:
        until("the worker to be alive", services.jobs.workers_alive)
        before = services.previews.latest(admin, "woocommerce", "customers")
        job, created = services.previews.enqueue_refresh(admin, "woocommerce", "customers")
        assert created and job.state == "queued"
        ended = services.jobs.wait(admin, job.id, 60)
    finally:
        worker.stop()
    assert ended.state == "succeeded", (ended, worker.log())
    after = services.previews.latest(admin, "woocommerce", "customers")
    assert before is not None and after is not None
    assert after.snapshot_id != before.snapshot_id
    assert ended.result is not None and ended.result["snapshotId"] == after.snapshot_id
    assert (ended.phase, ended.fraction, ended.started_by) == ("done", 1.0, "admin")
    refreshes, _ = services.activity.list_activity(admin, ActivityFilter(action="refresh"))
    assert (refreshes[0].user, refreshes[0].status) == ("admin", "ok")
    return ended


def test_a_worker_process_runs_a_queued_refresh_on_the_sqlite_queue(sandbox, tmp_path):
    env, services, admin = _setup(sandbox, tmp_path)
    try:
        assert services.jobs.queue is not None and services.jobs.queue.kind == "sqlite"
        _refresh_through(env, services, admin)
        assert (tmp_path / "data" / "queue.db").exists()  # the queue lives in DATA_DIR
        assert services.jobs.workers_alive() == 0  # a stopped worker says so
    finally:
        services.close()


def test_a_worker_on_the_redis_queue(sandbox, tmp_path, own_redis):
    env, services, admin = _setup(sandbox, tmp_path, REDIS_URL=own_redis.url)
    try:
        # the worker's REDIS_URL puts its queue in Redis; this process sends there too
        services.jobs.queue = JobQueue(own_redis.url)
        assert services.jobs.queue.kind == "redis"
        _refresh_through(env, services, admin)
    finally:
        services.close()


def test_a_worker_on_the_postgresql_queue(sandbox, tmp_path, own_postgres):
    env, services, admin = _setup(sandbox, tmp_path, db_url=own_postgres.url)
    try:
        assert services.jobs.queue is not None and services.jobs.queue.kind == "postgresql"
        _refresh_through(env, services, admin)
    finally:
        services.close()


def test_a_worker_killed_mid_job_leaves_it_to_another_that_finishes_it(sandbox, tmp_path):
    env, services, admin = _setup(sandbox, tmp_path)
    good = services.previews.latest(admin, "woocommerce", "customers")
    doomed = _worker(env, "doomed")
    rescuer = None
    try:
        sandbox.faults.latency_ms = 1500  # still fetching when it is killed
        job, _ = services.previews.enqueue_refresh(admin, "woocommerce", "customers")
        until(
            "the job to run",
            lambda: services.jobs.get(admin, job.id).phase == "fetching",
        )
        doomed.kill()
        # meanwhile the last good preview is served, and the job still says "running"
        assert services.previews.latest(admin, "woocommerce", "customers") == good
        assert services.jobs.get(admin, job.id).state == "running"
        sandbox.faults.latency_ms = 0
        rescuer = _worker(env, "rescuer")
        ended = services.jobs.wait(admin, job.id, 90)
    finally:
        sandbox.faults.latency_ms = 0
        doomed.stop()
        if rescuer is not None:
            rescuer.stop()
    assert ended.state == "succeeded", (ended, rescuer.log() if rescuer else "")
    assert ended.attempts == 2  # taken over once its lease ran out
    # what the Preview says when the job ends: the refresh before stopped without finishing
    assert ended.result is not None and "stopped without finishing" in ended.result["notice"]
    after = services.previews.latest(admin, "woocommerce", "customers")
    assert after is not None and good is not None and after.snapshot_id != good.snapshot_id
    assert after.counts == good.counts  # whole: the same data gives the same counts
    refreshes, _ = services.activity.list_activity(admin, ActivityFilter(action="refresh"))
    assert [
        (e.status, e.error and "stopped without finishing" in e.error) for e in refreshes[:2]
    ] == [
        ("ok", None),
        ("failed", True),
    ]
    services.close()


def test_twenty_refresh_requests_at_once_are_one_job(sandbox, tmp_path):
    env, services, admin = _setup(sandbox, tmp_path)
    try:
        sandbox.faults.latency_ms = 300
        with ThreadPoolExecutor(20) as pool:
            asked = list(
                pool.map(
                    lambda _: services.previews.enqueue_refresh(admin, "woocommerce", "customers"),
                    range(20),
                )
            )
        assert len({job.id for job, _ in asked}) == 1
        assert sum(created for _, created in asked) == 1
        worker = _worker(env)
        try:
            ended = services.jobs.wait(admin, asked[0][0].id, 60)
        finally:
            worker.stop()
        assert ended.state == "succeeded"
        refreshes, _ = services.activity.list_activity(admin, ActivityFilter(action="refresh"))
        assert len(refreshes) == 2  # the first preview's, and the one of the twenty requests
        # once it ended, a new request is a new job
        again, created = services.previews.enqueue_refresh(admin, "woocommerce", "customers")
        assert created and again.id != ended.id
    finally:
        sandbox.faults.latency_ms = 0
        services.close()


def test_a_running_refresh_is_cancelled_between_pages(sandbox, tmp_path):
    env, services, admin = _setup(sandbox, tmp_path)
    good = services.previews.latest(admin, "woocommerce", "customers")
    viewer = services.accounts.add_user(
        admin, "vic", "Vic", "vic@example.com", "pw-vic-12345", "viewer"
    )
    worker = _worker(env)
    try:
        sandbox.faults.latency_ms = 800
        job, _ = services.previews.enqueue_refresh(admin, "woocommerce", "customers")
        until("the job to run", lambda: services.jobs.get(admin, job.id).phase == "fetching")
        vic = services.accounts.user_context(f"{admin.org_id}/vic")
        with pytest.raises(PermissionDenied, match="may cancel this job"):
            services.jobs.cancel(vic, job.id)
        asked = services.jobs.cancel(admin, job.id)
        assert asked.cancel_requested and asked.cancelled_by == "admin"
        ended = services.jobs.wait(admin, job.id, 30)
    finally:
        sandbox.faults.latency_ms = 0
        worker.stop()
        services.close()
    assert viewer is not None
    assert ended.state == "cancelled" and ended.finished_at is not None
    assert services.previews.latest(admin, "woocommerce", "customers") == good


def test_the_api_answers_202_and_the_job_is_followed_to_its_preview(sandbox, tmp_path):
    env, services, admin = _setup(sandbox, tmp_path)
    worker = _worker(env)
    api = ApiProcess(env)
    try:
        until("the worker to be alive", services.jobs.workers_alive)
        headers = {"Authorization": f"Bearer {token_for(services, admin.org_id, 'admin')}"}
        sandbox.faults.latency_ms = 300
        answer = requests.post(
            api.url,
            params={"action": "fetch", "sync_type": "woocommerce", "entity_type": "customers",
                    "wait": "0"},
            headers=headers, timeout=30,
        )  # fmt: skip
        assert answer.status_code == 202, answer.text
        body = answer.json()
        job_id = body["data"]["job"]["id"]
        assert body["success"] is True and answer.headers["Location"] == f"/api/v1/jobs/{job_id}"
        assert body["data"]["job"]["state"] in ("queued", "running")

        def done():  # noqa: ANN202
            polled = requests.get(
                api.base + answer.headers["Location"], headers=headers, timeout=30
            )
            assert polled.status_code == 200, polled.text
            data = polled.json()["data"]
            return data if data["job"]["state"] not in ("queued", "running") else None

        data = until("the job to end", done)
        assert data["job"]["state"] == "succeeded"
        counts = {k: v["count"] for k, v in data["preview"]["delta"].items()}
        assert counts.items() <= data["job"]["result"]["counts"].items()
        sandbox.faults.latency_ms = 0
        fast = requests.post(
            api.url,
            params={"action": "fetch", "sync_type": "woocommerce", "entity_type": "customers"},
            headers=headers, timeout=60,
        )  # fmt: skip
        assert fast.status_code == 200 and "delta" in fast.json()["data"]  # done within wait
    finally:
        sandbox.faults.latency_ms = 0
        api.stop()
        worker.stop()
        services.close()


def test_the_cli_waits_for_a_worker_or_refreshes_itself(sandbox, tmp_path):
    env, services, admin = _setup(sandbox, tmp_path)
    services.close()
    alone = run_core(env, *PREVIEW, "--refresh")
    assert alone.returncode == 0, alone.stderr
    assert "No worker is running: refreshing in this process." in alone.stderr
    worker = _worker(env)
    try:
        until(
            "the worker",
            lambda: "1 worker(s) alive" in run_core(env, "jobs", "--org", "demo").stdout,
        )
        queued = run_core(env, *PREVIEW, "--refresh")
    finally:
        worker.stop()
    assert queued.returncode == 0, queued.stderr
    assert "queued; a worker runs it." in queued.stderr
    assert "new," in queued.stdout
    listed = json.loads(run_core(env, "jobs", "--org", "demo", "--json").stdout)
    states = [(j["kind"], j["state"], j["startedBy"]) for j in listed["jobs"]]
    assert states[:2] == [("refresh", "succeeded", None), ("refresh", "succeeded", None)]


def test_an_apply_and_its_undo_are_run_by_a_worker(sandbox, tmp_path):
    """`apply --yes` and `undo` queue jobs a worker runs; the built-in store changes as the
    preview said, and back."""
    env, services, admin = _setup(sandbox, tmp_path)
    try:
        planned = services.apply.plan(admin, "woocommerce", "customers")
        assert planned.total > 0
        worker = _worker(env)
        try:
            until("the worker to be alive", services.jobs.workers_alive)
            apply = ("apply", "--org", "demo", "--sync-type", "woocommerce")
            applied = run_core(env, *apply, "--entity", "customers", "--yes", "--json")
            assert applied.returncode == 0, applied.stderr
            assert "Apply job" in applied.stderr and "a worker runs it." in applied.stderr
            run = json.loads(applied.stdout)["data"]
            assert run["state"] == "succeeded"
            assert (
                services.previews.get_preview_snapshot(
                    admin, "woocommerce", "customers", force_refresh=True
                ).counts["new"]
                == 0
            )  # what was new is in the built-in store now
            undone = run_core(env, "undo", "--org", "demo", "--run", str(run["runId"]))
            assert undone.returncode == 0, undone.stderr
            assert "Undo job" in undone.stderr
        finally:
            worker.stop()
        kinds = [(j.kind, j.state) for j in services.jobs.recent(admin, 10)]
        assert ("apply", "succeeded") in kinds and ("undo", "succeeded") in kinds, kinds
        again = services.previews.get_preview_snapshot(
            admin, "woocommerce", "customers", force_refresh=True
        )
        assert again.counts["new"] == planned.counts["create"], worker.log()
    finally:
        services.close()
