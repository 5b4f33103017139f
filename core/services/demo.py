"""Demo data: connectors to the sandbox stores and local records that differ from them.

The demo's connectors are ordinary connectors whose address is a sandbox on this machine:
the demo service starts the sandbox in-process on a free loopback port and stores its real
address. They carry the option ``sandbox`` (with the data set's size and seed) so that the
demo service can find them again: when a process starts (``resume``) or the demo is loaded
again, a demo connector whose address no longer answers (its process ended) is pointed at a
sandbox started here. Nothing else treats them differently. The sandbox's data is
deterministic, so the local records made here keep matching it.

The dashboard has the demo loaded by a worker (a "demo" job, ``enqueue``): the sandbox then
runs in the worker's process, and the dashboard and the other workers reach it at the address
stored on the connectors. Every process points the demo connectors whose sandbox ended (a
worker restarted) at a sandbox of its own when it starts, and workers look again on every
round of their scheduler (``resume``).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker

from core.connectors import Connector
from core.db.connector_store import ConnectorSecretConfig, ConnectorStore, orgs_with_option
from core.db.local_records import LocalRecords
from core.db.tenancy import system_session, tenant_session
from core.db.vault import Vault
from core.delta import ENTITY_TYPES, to_canonical
from core.errors import SyncPreviewError
from core.jobs import JobContext, JobOutcome, JobTarget
from core.services.actors import LOAD_DEMO_DATA, Actor, authorize
from core.services.events import ConnectorAdded, DemoLoaded, record
from core.services.jobs import JobService, JobView

log = logging.getLogger(__name__)

DEMO_SIZE = 1000
DEMO_SEED = 42
#: The option that marks a demo connector (its value: True; "size" and "seed" beside it).
SANDBOX_OPTION = "sandbox"
#: How long a demo connector's stored address may take to answer before it is replaced.
PROBE_SECONDS = 2.0
WOO_CREDENTIALS = {"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox"}
ODOO_CREDENTIALS = {
    "database": "sandbox",
    "username": "admin",
    "password": "admin",
    "api_key": "sandbox-key",
}
#: The demo's connectors: source, name, credentials and options of each.
DEMO_CONNECTORS: tuple[tuple[str, str, dict[str, str], dict[str, Any]], ...] = (
    ("woocommerce", "Demo WooCommerce store", WOO_CREDENTIALS, {}),
    ("odoo", "Demo Odoo", ODOO_CREDENTIALS, {"protocol": "xmlrpc"}),
)
#: ``load`` reads each entity of each demo source: one step each.
DEMO_STEPS = len(DEMO_CONNECTORS) * len(ENTITY_TYPES)
#: The kind of job that loads the demo.
DEMO_JOB = "demo"


class SandboxPool:
    """Sandbox stores started in this process, one per (size, seed), on loopback."""

    def __init__(self) -> None:
        self._servers: dict[tuple[int, int], Any] = {}
        self._lock = threading.Lock()

    def url_for(self, size: int, seed: int) -> str:
        """The address of this process's sandbox of ``size`` records (started on demand)."""
        from core.sandbox import SandboxServer

        with self._lock:
            server = self._servers.get((size, seed))
            if server is None:
                server = SandboxServer(size=size, seed=seed).start()
                self._servers[(size, seed)] = server
            return str(server.url)

    def close(self) -> None:
        with self._lock:
            for server in self._servers.values():
                server.stop()
            self._servers.clear()


def _accepts_connections(url: str) -> bool:
    """True when something listens at the URL's host and port (a sandbox that ended with its
    process refuses at once; only a listening one is asked the slower, real question)."""
    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        return False
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=0.5):
            return True
    except OSError:
        return False


def _perturb(entity_type: str, rec: dict[str, Any], n: int) -> dict[str, Any]:
    """A local copy that differs in one field (an "updated" record in the preview)."""
    out = dict(rec)
    if entity_type == "customers":
        out["city"] = f"{rec.get('city') or 'Old'} (old address)"
        if n % 2:
            out["phone"] = "+1 555 0100"
    elif entity_type == "products":
        price = float(rec.get("price") or 0)
        out["price"] = f"{price + 1.5:.2f}"
    else:
        out["status"] = "pending" if rec.get("status") != "pending" else "on-hold"
    return out


def _extra(entity_type: str, rec: dict[str, Any], n: int) -> dict[str, Any]:
    """A local record whose external id no longer exists outside (a "deleted" one)."""
    out = dict(rec)
    out["external_id"] = str(9_000_000 + n)
    for key in ("email", "customer_email"):
        if out.get(key):
            out[key] = f"former{n}@example.org"
    if entity_type == "products" and out.get("sku"):
        out["sku"] = f"RETIRED-{n}"
    if entity_type == "orders" and out.get("number"):
        out["number"] = f"R{n}"
    return out


def local_copy(entity_type: str, external: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Local records for a demo: ~5 % missing (new), ~10 % changed (updated), ~2 % extra."""
    for i, rec in enumerate(external):
        if i % 20 == 7:
            continue  # not yet in the local database: shows as new
        yield _perturb(entity_type, rec, i) if i % 10 == 3 else rec
        if i % 50 == 11:
            yield _extra(entity_type, rec, i)


class DemoService:
    """Creates the demo connectors and local data for an organization; keeps the demo's
    sandbox connectors pointed at a sandbox that answers."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        vault: Vault,
        build_connector: Callable[[ConnectorSecretConfig, float | None], Connector],
        sandboxes: SandboxPool,
    ) -> None:
        self.sessions = sessions
        self.vault = vault
        self.build_connector = build_connector
        self.sandboxes = sandboxes
        #: set by ``use_jobs``: the demo is then loaded by a worker
        self.jobs: JobService | None = None

    def resume(self) -> int:
        """Point every organization's demo sandbox connectors at a sandbox that answers
        (one started in this process when theirs ended with its process); returns how many
        were pointed elsewhere. A process calls this once, when it starts."""
        with system_session(self.sessions) as s:
            org_ids = orgs_with_option(s, SANDBOX_OPTION)
        moved = 0
        for org_id in org_ids:
            try:
                moved += self._repoint(org_id)
            except SyncPreviewError as err:  # the demo must not keep the app from starting
                log.warning(
                    "Could not restart the demo sandbox of organization %s: %s", org_id, err
                )
        return moved

    def _repoint(self, org_id: int) -> int:
        with tenant_session(self.sessions, org_id) as s:
            store = ConnectorStore(s, self.vault)
            configs = [
                store.secret_config(view.id)
                for view in store.list()
                if view.options.get(SANDBOX_OPTION)
            ]
        answers: dict[str, bool] = {}  # one sandbox serves every source: ask each address once
        moved = 0
        for config in configs:
            if config.base_url not in answers:
                answers[config.base_url] = self._answers(config)
            if answers[config.base_url]:
                continue
            size = int(config.options.get("size", DEMO_SIZE))
            seed = int(config.options.get("seed", DEMO_SEED))
            url = self.sandboxes.url_for(size, seed)
            with tenant_session(self.sessions, org_id) as s:
                ConnectorStore(s, self.vault).update(config.id, base_url=url)
            moved += 1
        return moved

    def _answers(self, config: ConnectorSecretConfig) -> bool:
        """True when the connector's stored address answers as its sandbox does."""
        if not _accepts_connections(config.base_url):
            return False
        try:
            connector = self.build_connector(config, time.monotonic() + PROBE_SECONDS)
            try:
                connector.test_connection()
            finally:
                connector.close()
        except SyncPreviewError:
            return False
        return True

    def load(
        self,
        actor: Actor,
        *,
        sandbox_url: str | None = None,
        progress: Callable[[str], None] | None = None,
        check: Callable[[], None] | None = None,
    ) -> dict[str, int]:
        """Add the demo connectors (if missing) and their local records; returns records per
        source. ``progress`` is told each of the ``DEMO_STEPS`` steps; ``check`` is called
        between them (a job's cancel and lease).

        Loading again completes a load that stopped halfway (its worker killed): the local
        records are written first (upserts: writing one again changes nothing), and the
        connectors last, in one transaction with the "demo loaded" event, so that no demo
        connector exists before its local records do (its preview would show every record
        as new)."""
        authorize(actor, LOAD_DEMO_DATA)
        org_id = actor.org_id
        say = progress or (lambda _m: None)
        options: dict[str, Any] = (
            {} if sandbox_url else {SANDBOX_OPTION: True, "size": DEMO_SIZE, "seed": DEMO_SEED}
        )
        if not sandbox_url:
            self._repoint(org_id)  # demo connectors of a process that ended
        base = (sandbox_url or self.sandboxes.url_for(DEMO_SIZE, DEMO_SEED)).rstrip("/")
        configs: list[ConnectorSecretConfig] = []
        with tenant_session(self.sessions, org_id) as s:
            store = ConnectorStore(s, self.vault)
            existing = {c.name: c.id for c in store.list()}
            for sync_type, name, creds, extra in DEMO_CONNECTORS:
                cid = existing.get(name)
                if cid is not None:
                    configs.append(store.secret_config(cid))
                else:  # not stored yet: it is added once its local records are written
                    configs.append(
                        ConnectorSecretConfig(
                            0, sync_type, name, base, dict(creds), {**options, **extra}
                        )
                    )
        loaded: dict[str, int] = {}
        for config in configs:
            connector = self.build_connector(config, None)
            try:
                for entity_type in ENTITY_TYPES:
                    if check is not None:
                        check()
                    say(f"Reading demo {entity_type} from {config.name}…")
                    external = [
                        to_canonical(config.sync_type, entity_type, raw)
                        for page in connector.iter_pages(entity_type)
                        for raw in page
                    ]
                    with tenant_session(self.sessions, org_id) as s:
                        n = LocalRecords(s).upsert(
                            config.sync_type, entity_type, local_copy(entity_type, external)
                        )
                    loaded[config.sync_type] = loaded.get(config.sync_type, 0) + n
            finally:
                connector.close()
        if check is not None:
            check()
        with tenant_session(self.sessions, org_id) as s:
            store = ConnectorStore(s, self.vault)
            for config in configs:
                if config.id:
                    continue
                view = store.add(
                    config.sync_type, config.name, base, config.credentials, config.options
                )
                event = ConnectorAdded(view.id, view.name, config.sync_type, view.base_url)
                record(s, event, by=actor.log_name)
            record(s, DemoLoaded(loaded), by=actor.log_name)
        return loaded

    # --- as a job, run by a worker ---------------------------------------------------------

    def use_jobs(self, jobs: JobService) -> None:
        """Load the demo in the background: register the "demo" kind of job."""
        jobs.kinds.register(DEMO_JOB, self.load_job)
        self.jobs = jobs

    def enqueue(self, actor: Actor) -> JobView:
        """Queue the demo's load for a worker (or find the one queued or running)."""
        job, _ = self._jobs().enqueue(actor, DEMO_JOB, JobTarget(), permission=LOAD_DEMO_DATA)
        return job

    def running(self, actor: Actor) -> JobView | None:
        """The organization's demo load queued or running now (anyone's), if any."""
        return self._jobs().active(actor, DEMO_JOB, JobTarget())

    def load_job(self, ctx: JobContext) -> JobOutcome:
        """The handler of "demo" jobs: ``load`` as the actor who asked, its steps as the
        job's progress (the step's sentence in the detail)."""
        done = 0

        def step(message: str) -> None:
            nonlocal done
            ctx.progress("loading", done / DEMO_STEPS, {"message": message})
            done += 1

        loaded = self.load(ctx.actor, progress=step, check=ctx.check)
        return JobOutcome(result={"loaded": loaded, "total": sum(loaded.values())})

    def _jobs(self) -> JobService:
        if self.jobs is None:
            raise RuntimeError("loading the demo in the background needs use_jobs() first")
        return self.jobs
