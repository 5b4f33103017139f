"""Smoke test of an installed environment, as a new user meets it (run by scripts/test).

    build/run-env/bin/python scripts/smoke.py

Runs with the runtime dependencies only (no pytest): migrate, load the demo, a JSON preview
of every source and entity, a refresh through a worker (`python -m core worker`), the
dashboard server answering (`server.py`, as scripts/run
starts it, with the JSON API mounted), and the Preview page signed in, drawn without an
error. Exits non-zero with the reason on the first thing a user would see broken.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("woocommerce", "odoo")
ENTITIES = ("customers", "products", "orders")
PASSWORD = "smoke-test-pass-1"


def fail(message: str) -> None:
    print(f"SMOKE FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def core(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def check_previews(env: dict[str, str]) -> None:
    for sync_type in SOURCES:
        for entity in ENTITIES:
            out = core(
                env, "preview", "--org", "demo", "--sync-type", sync_type, "--entity", entity,
                "--json",
            )  # fmt: skip
            where = f"preview {sync_type} {entity}"
            if out.returncode != 0:
                fail(f"{where} exited {out.returncode}: {out.stdout}{out.stderr}")
            body = json.loads(out.stdout)
            if body.get("success") is not True:
                fail(f"{where}: {body}")
            counts = {k: v["count"] for k, v in body["data"]["delta"].items()}
            if min(counts.values()) <= 0:
                fail(f"{where}: the demo must show new, updated and deleted records: {counts}")
            print(f"  {where}: {counts}")


def check_worker(env: dict[str, str]) -> None:
    """A refresh through a worker, as scripts/run starts one: queued, run, its preview shown."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "core", "worker"],
        cwd=ROOT,
        env={**env, "SCHEDULER_SECONDS": "0.5"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(120):
            if worker.poll() is not None:
                fail(f"the worker exited: {worker.stdout.read() if worker.stdout else ''}")
            if "1 worker(s) alive" in core(env, "jobs", "--org", "demo").stdout:
                break
            time.sleep(0.5)
        else:
            fail("the worker did not say it is alive within 60 s")
        out = core(
            env, "preview", "--org", "demo", "--sync-type", "woocommerce", "--entity",
            "customers", "--refresh",
        )  # fmt: skip
        if out.returncode != 0 or "a worker runs it" not in out.stderr:
            fail(f"a refresh through the worker: {out.returncode} {out.stdout}{out.stderr}")
        jobs = json.loads(core(env, "jobs", "--org", "demo", "--json").stdout)["jobs"]
        if not jobs or jobs[0]["state"] != "succeeded":
            fail(f"the worker's refresh job did not succeed: {jobs[:1]}")
        print(f"  worker: refresh job {jobs[0]['id']} succeeded")
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def check_server(env: dict[str, str]) -> None:
    """The dashboard's server as scripts/run starts it: health, the page, the API."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "server.py", "--server.address",
         "127.0.0.1", "--server.port", str(port), "--server.headless", "true"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            if server.poll() is not None:
                said = server.stdout.read() if server.stdout else ""
                fail(f"the dashboard's server exited: {said}")
            try:
                if get(f"{base}/_stcore/health")[1] == "ok":
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            fail("the dashboard's server did not answer /_stcore/health within 60 s")
        status, page = get(f"{base}/")
        if status != 200 or 'id="root"' not in page:
            fail(f"the dashboard's first page answered {status}")
        api = f"{base}/api/v1/integrations/sync/preview"
        status, body = get(f"{api}?sync_type=odoo&entity_type=orders")
        if status != 401 or json.loads(body).get("success") is not False:
            fail(f"the JSON API without a token answered {status}: {body[:200]}")
        print(f"  dashboard server: health ok, first page 200, API 401 without a token ({base})")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def check_preview_page(folder: Path) -> None:
    """Sign in with the demo admin and see the Preview page's counts (AppTest, in process).

    app.py runs from a folder without pages/, as a served app runs it: beside pages/, AppTest
    would run the page scripts alone after the first run (tests/ui/app_entry.py says why).
    """
    from streamlit.testing.v1 import AppTest

    entry = folder / "entry.py"
    entry.write_text(
        f"import runpy, sys\nsys.path.insert(0, {str(ROOT)!r})\n"
        f"runpy.run_path({str(ROOT / 'app.py')!r}, run_name='__main__')\n"
    )
    at = AppTest.from_file(str(entry), default_timeout=120)
    at.run()
    at.text_input[0].input("admin")
    at.text_input[1].input(PASSWORD)
    at.button(key="FormSubmitter:login-Login").click().run()
    at.run()
    if at.exception:
        fail(f"signing in or the Preview page raised: {at.exception}")
    shown = {m.label: m.value for m in at.metric}
    if not shown or any(kind not in " ".join(shown) for kind in ("New", "Updated", "Deleted")):
        fail(f"the Preview page shows no counts: {shown or [e.value for e in at.error]}")
    print(f"  Preview page: {shown}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="syncpreview-smoke-") as data_dir:
        env = {
            **os.environ,
            "DATA_DIR": data_dir,
            "DATABASE_URL": "",
            "REDIS_URL": "",
            "LOGIN_SLEEP_SECONDS": "0",
        }
        os.environ.update(env)
        for step in (("migrate",), ("demo", "--admin-password", PASSWORD)):
            out = core(env, *step)
            if out.returncode != 0:
                fail(f"`python -m core {step[0]}` exited {out.returncode}: {out.stderr}")
        print("Smoke test of this environment:")
        check_previews(env)
        check_worker(env)
        check_server(env)
        check_preview_page(Path(data_dir))
    print("Smoke test passed.")


if __name__ == "__main__":
    main()
