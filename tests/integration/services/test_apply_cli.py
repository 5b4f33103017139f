"""`python -m core apply / runs / undo` as an operator runs them: real processes, a real
database, the sandbox."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.integration.services.conftest import ROOT, core_env, run_core

WHICH = ("--org", "demo", "--sync-type", "woocommerce", "--entity", "customers")


@pytest.fixture
def cli_env(db_url, tmp_path, sandbox):
    env = core_env(db_url, tmp_path / "data")
    demo = run_core(env, "demo", "--sandbox-url", sandbox.url, "--admin-password", "demo-pass-123")
    assert demo.returncode == 0, demo.stderr
    return env


def _preview(env) -> dict:
    out = run_core(env, "preview", *WHICH, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["data"]["delta"]


def test_apply_asks_first_then_applies_and_undo_restores(cli_env):
    delta = _preview(cli_env)
    new, updated = delta["new"]["count"], delta["updated"]["count"]
    unticked = delta["new"]["records"][0]["external_id"]

    # without --yes it shows the plan and asks; "n" applies nothing
    asked = subprocess.run(
        [sys.executable, "-m", "core", "apply", *WHICH, "--exclude", unticked],
        cwd=ROOT,
        env=cli_env,
        input="n\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert asked.returncode == 1
    assert (
        f"will create {new - 1}, update {updated}, delete 0 customers in the built-in store"
        in asked.stdout
    )
    assert "1 left out by hand" in asked.stdout
    assert "Apply these changes? [y/N]" in asked.stderr and "Nothing was applied." in asked.stderr
    assert (
        json.loads(run_core(cli_env, "runs", "--org", "demo", "--json").stdout)["data"]["total"]
        == 0
    )

    # --yes --json: waits for the run and prints it
    out = run_core(cli_env, "apply", *WHICH, "--exclude", unticked, "--yes", "--json")
    assert out.returncode == 0, out.stderr
    run = json.loads(out.stdout)["data"]
    assert run["state"] == "succeeded"
    assert run["counts"] == {
        "created": new - 1,
        "updated": updated,
        "deleted": 0,
        "conflicts": 0,
        "skipped": 0,
    }
    assert run["excluded"] == 1 and run["processed"] == run["total"] == new - 1 + updated

    # the preview is computed again: only what was left out (and the deletions) remain
    after = _preview(cli_env)
    assert after["new"]["count"] == 1 and after["updated"]["count"] == 0
    assert after["new"]["records"][0]["external_id"] == unticked

    listed = run_core(cli_env, "runs", "--org", "demo")
    assert listed.returncode == 0 and "1 run(s)" in listed.stdout and "succeeded" in listed.stdout
    shown = run_core(cli_env, "runs", "--org", "demo", "--run", str(run["runId"]))
    assert shown.returncode == 0 and f"Run {run['runId']} succeeded" in shown.stdout

    resumed = run_core(cli_env, "apply", "--org", "demo", "--resume", str(run["runId"]))
    assert resumed.returncode == 0 and f"Run {run['runId']} succeeded" in resumed.stdout

    undo = run_core(cli_env, "undo", "--org", "demo", "--run", str(run["runId"]))
    assert undo.returncode == 0, undo.stderr
    assert f"{new - 1 + updated:,} record(s) restored, 0 left as they are" in undo.stdout
    assert _preview(cli_env)["updated"]["count"] == updated  # as before the apply

    log = json.loads(run_core(cli_env, "activity", "--org", "demo", "--json").stdout)
    actions = [e["action"] for e in log["events"]]
    assert {"apply_started", "apply", "undo"} <= set(actions)


def test_apply_refuses_in_words(cli_env):
    out = run_core(cli_env, "apply", *WHICH, "--yes")  # no preview yet
    assert out.returncode == 2 and "refresh it first" in out.stderr
    out = run_core(cli_env, "undo", "--org", "demo", "--run", "999", "--json")
    body = json.loads(out.stdout)
    assert out.returncode == 2 and body["success"] is False and "no apply run 999" in body["error"]
