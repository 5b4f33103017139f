"""`python -m core warm ...`: an operator chooses which previews workers keep warm."""

from __future__ import annotations

import json

from tests.integration.services.conftest import core_env, run_core

PREVIEW = ("--sync-type", "woocommerce", "--entity", "customers")


def test_warm_sets_lists_and_turns_off(db_url, tmp_path, sandbox):
    env = core_env(db_url, tmp_path / "data")
    demo = run_core(env, "demo", "--sandbox-url", sandbox.url, "--admin-password", "demo-pass-12")
    assert demo.returncode == 0, demo.stderr
    assert run_core(env, "warm", "--org", "demo", "--list").stdout.strip() == (
        "No preview is kept warm."
    )

    every = run_core(env, "warm", "--org", "demo", *PREVIEW, "--every", "15")
    assert every.returncode == 0, every.stderr
    assert "customers: warm every 15 minutes" in every.stdout
    hourly = run_core(env, "warm", "--org", "demo", "--sync-type", "odoo", "--entity", "orders",
                      "--every", "60")  # fmt: skip
    assert "orders: warm every hour" in hourly.stdout

    listed = json.loads(run_core(env, "warm", "--org", "demo", "--list", "--json").stdout)
    assert sorted((c["syncType"], c["entityType"], c["everyMinutes"]) for c in listed) == [
        ("odoo", "orders", 60),
        ("woocommerce", "customers", 15),
    ]

    off = run_core(env, "warm", "--org", "demo", *PREVIEW, "--off")
    assert "customers: warm off" in off.stdout
    too_often = run_core(env, "warm", "--org", "demo", *PREVIEW, "--every", "2")
    assert too_often.returncode == 2
    assert "between 5 minutes" in too_often.stderr + too_often.stdout
    unsaid = run_core(env, "warm", "--org", "demo", *PREVIEW)
    assert unsaid.returncode == 2 and "--every" in unsaid.stderr + unsaid.stdout

    activity = run_core(env, "activity", "--org", "demo", "--json")
    events = json.loads(activity.stdout)["events"]
    assert len([e for e in events if e["action"] == "warm"]) == 3  # 15 min, hourly, off
