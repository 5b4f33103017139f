"""Demo data: connectors to the sandbox stores and local records that differ from them.

The demo connectors carry the option ``sandbox`` (with the data set's size and seed) instead
of a fixed address: whichever process uses them starts the sandbox in-process on a free
loopback port, so the demo keeps working after a restart. The sandbox's data is
deterministic, so the local records made here keep matching it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.connectors import Connector
from core.db.connector_store import ConnectorSecretConfig, ConnectorStore
from core.db.local_records import LocalRecords
from core.db.tenancy import tenant_session
from core.db.vault import Vault
from core.delta import ENTITY_TYPES, to_canonical
from core.services.actors import LOAD_DEMO_DATA, Actor, authorize
from core.services.events import ConnectorAdded, DemoLoaded, record

DEMO_SIZE = 1000
DEMO_SEED = 42
WOO_CREDENTIALS = {"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox"}
ODOO_CREDENTIALS = {
    "database": "sandbox",
    "username": "admin",
    "password": "admin",
    "api_key": "sandbox-key",
}


class SandboxPool:
    """Sandbox stores started in this process, one per (size, seed), on loopback."""

    def __init__(self) -> None:
        self._servers: dict[tuple[int, int], Any] = {}
        self._lock = threading.Lock()

    def url_for(self, options: Mapping[str, Any]) -> str:
        """The address of the sandbox these connector options ask for (started on demand)."""
        from core.sandbox import SandboxServer

        key = (int(options.get("size", DEMO_SIZE)), int(options.get("seed", DEMO_SEED)))
        with self._lock:
            server = self._servers.get(key)
            if server is None:
                server = SandboxServer(size=key[0], seed=key[1]).start()
                self._servers[key] = server
            return str(server.url)

    def close(self) -> None:
        with self._lock:
            for server in self._servers.values():
                server.stop()
            self._servers.clear()


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
    """Creates the demo connectors and local data for an organization."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        vault: Vault,
        build_connector: Callable[[ConnectorSecretConfig, float | None], Connector],
    ) -> None:
        self.sessions = sessions
        self.vault = vault
        self.build_connector = build_connector

    def load(
        self,
        actor: Actor,
        *,
        sandbox_url: str | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> dict[str, int]:
        """Add demo connectors (if missing) and local records; returns records per source."""
        authorize(actor, LOAD_DEMO_DATA)
        org_id = actor.org_id
        say = progress or (lambda _m: None)
        options: dict[str, Any] = (
            {} if sandbox_url else {"sandbox": True, "size": DEMO_SIZE, "seed": DEMO_SEED}
        )
        base = (sandbox_url or "http://sandbox.local").rstrip("/")
        wanted: tuple[tuple[str, str, dict[str, str], dict[str, Any]], ...] = (
            ("woocommerce", "Demo WooCommerce store", WOO_CREDENTIALS, {}),
            ("odoo", "Demo Odoo", ODOO_CREDENTIALS, {"protocol": "xmlrpc"}),
        )
        configs: list[ConnectorSecretConfig] = []
        with tenant_session(self.sessions, org_id) as s:
            store = ConnectorStore(s, self.vault)
            existing = {c.name: c.id for c in store.list()}
            for sync_type, name, creds, extra in wanted:
                cid = existing.get(name)
                if cid is None:
                    view = store.add(sync_type, name, base, creds, {**options, **extra})
                    cid = view.id
                    event = ConnectorAdded(sync_type, view.name, view.base_url)
                    record(s, event, by=actor.log_name)
                configs.append(store.secret_config(cid))
        loaded: dict[str, int] = {}
        for config in configs:
            connector = self.build_connector(config, None)
            try:
                for entity_type in ENTITY_TYPES:
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
        with tenant_session(self.sessions, org_id) as s:
            record(s, DemoLoaded(loaded), by=actor.log_name)
        return loaded
