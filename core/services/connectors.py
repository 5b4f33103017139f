"""The organization's connections to external systems (admins only).

What a connector of each source takes (credentials, options) is in its ``core.sources`` spec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.connectors import Connector
from core.db.audit import ActivityStore
from core.db.connector_store import ConnectorSecretConfig, ConnectorStore, ConnectorView
from core.db.tenancy import tenant_session
from core.db.vault import Vault
from core.errors import ConnectorError
from core.services.context import UserContext, require

ConnectorFactory = Callable[[ConnectorSecretConfig, float | None], Connector]


class ConnectorService:
    """List, add, change, delete and test connectors; every change is logged."""

    def __init__(
        self, sessions: sessionmaker[Session], vault: Vault, build: ConnectorFactory
    ) -> None:
        self.sessions = sessions
        self.vault = vault
        self.build = build

    def list(self, actor: UserContext) -> list[ConnectorView]:
        """Every connector of the actor's organization (credentials masked)."""
        with tenant_session(self.sessions, actor.org_id) as s:
            return ConnectorStore(s, self.vault).list()

    def add(
        self,
        actor: UserContext,
        sync_type: str,
        name: str,
        base_url: str,
        credentials: Mapping[str, str],
        options: Mapping[str, Any] | None = None,
    ) -> ConnectorView:
        require(actor, "admin", "add connectors")
        with tenant_session(self.sessions, actor.org_id) as s:
            view = ConnectorStore(s, self.vault).add(
                sync_type, name, base_url, credentials, options
            )
            ActivityStore(s).add(
                "connector_added",
                user=actor.username,
                sync_type=sync_type,
                details={"connector": view.name, "base_url": view.base_url},
            )
            return view

    def update(
        self,
        actor: UserContext,
        connector_id: int,
        *,
        name: str | None = None,
        base_url: str | None = None,
        credentials: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> ConnectorView:
        """Change a connector; empty credential fields keep their stored values."""
        require(actor, "admin", "change connectors")
        with tenant_session(self.sessions, actor.org_id) as s:
            view = ConnectorStore(s, self.vault).update(
                connector_id, name=name, base_url=base_url, credentials=credentials, options=options
            )
            changed = sorted(k for k, v in (credentials or {}).items() if v)
            ActivityStore(s).add(
                "connector_updated",
                user=actor.username,
                sync_type=view.sync_type,
                details={"connector": view.name, "credentials_changed": changed},
            )
            return view

    def delete(self, actor: UserContext, connector_id: int) -> None:
        require(actor, "admin", "delete connectors")
        with tenant_session(self.sessions, actor.org_id) as s:
            view = ConnectorStore(s, self.vault).delete(connector_id)
            ActivityStore(s).add(
                "connector_deleted",
                user=actor.username,
                sync_type=view.sync_type,
                details={"connector": view.name},
            )

    def test(self, actor: UserContext, connector_id: int) -> str:
        """Try a cheap authenticated call; returns what the system said, raises typed errors."""
        require(actor, "admin", "test connectors")
        with tenant_session(self.sessions, actor.org_id) as s:
            config = ConnectorStore(s, self.vault).secret_config(connector_id)
        status, error, message = "ok", None, ""
        try:
            connector = self.build(config, None)
            try:
                message = connector.test_connection()
            finally:
                connector.close()
        except ConnectorError as err:
            status, error = "failed", str(err)
            raise
        finally:
            with tenant_session(self.sessions, actor.org_id) as s:
                ActivityStore(s).add(
                    "connector_tested",
                    user=actor.username,
                    sync_type=config.sync_type,
                    status=status,
                    error=error,
                    details={"connector": config.name},
                )
        return message
