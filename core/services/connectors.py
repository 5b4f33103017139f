"""The organization's connections to external systems (admins only).

What a connector of each source takes (credentials, options) is in its ``core.sources`` spec.
Previews and selective-sync settings belong to a connector; a caller names one by id or name,
or names only a source and gets that source's **default** connector (the first added, or the
one an admin made the default): :func:`find_connector`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.connectors import Connector
from core.db.clock import utcnow
from core.db.connector_store import (
    ConnectorChoice,
    ConnectorIdentity,
    ConnectorSecretConfig,
    ConnectorStore,
    ConnectorView,
    identify_connector,
)
from core.db.tenancy import tenant_session
from core.db.vault import Vault
from core.db.warming import WarmStore
from core.errors import InternalError, SyncPreviewError
from core.services.actors import (
    ADD_CONNECTORS,
    CHANGE_CONNECTORS,
    DELETE_CONNECTORS,
    TEST_CONNECTORS,
    VIEW,
    Actor,
    authorize,
)
from core.services.checks import check_sync_type
from core.services.events import (
    ConnectorAdded,
    ConnectorDeleted,
    ConnectorMadeDefault,
    ConnectorTested,
    ConnectorUpdated,
    record,
)
from core.services.inputs import check_connector_name
from core.sources.address import check_address

log = logging.getLogger(__name__)

__all__ = [
    "ConnectorChoice",
    "ConnectorFactory",
    "ConnectorIdentity",
    "ConnectorService",
    "ConnectorView",
    "find_connector",
]

ConnectorFactory = Callable[[ConnectorSecretConfig, float | None], Connector]


def find_connector(
    sessions: sessionmaker[Session],
    org_id: int,
    connector: ConnectorChoice,
    sync_type: str | None,
) -> ConnectorIdentity:
    """The organization's connector named by ``connector`` (an id, or a name), or, when that
    is None, the default connector of ``sync_type``; when both are given they must agree.
    NotFoundError for a connector that does not exist, InvalidRequest for one of another
    source or when neither is given."""
    if sync_type is not None:
        check_sync_type(sync_type)
    with tenant_session(sessions, org_id) as s:
        return identify_connector(s, connector, sync_type)


class ConnectorService:
    """List, add, change, delete and test connectors; every change is logged."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        vault: Vault,
        build: ConnectorFactory,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.sessions = sessions
        self.vault = vault
        self.build = build
        self.clock = clock or utcnow

    def list(self, actor: Actor) -> list[ConnectorView]:
        """Every connector of the actor's organization (credentials masked)."""
        authorize(actor, VIEW)
        with tenant_session(self.sessions, actor.org_id) as s:
            return ConnectorStore(s, self.vault).list()

    def add(
        self,
        actor: Actor,
        sync_type: str,
        name: str,
        base_url: str,
        credentials: Mapping[str, str],
        options: Mapping[str, Any] | None = None,
    ) -> ConnectorView:
        """A new connector; its name and address are checked (an http:// or https:// address
        with a host and without a user name or password)."""
        authorize(actor, ADD_CONNECTORS)
        name = check_connector_name(name)
        base_url = check_address(base_url)
        with tenant_session(self.sessions, actor.org_id) as s:
            view = ConnectorStore(s, self.vault).add(
                sync_type, name, base_url, credentials, options
            )
            event = ConnectorAdded(view.id, view.name, sync_type, view.base_url)
            record(s, event, by=actor.log_name)
            return view

    def update(
        self,
        actor: Actor,
        connector_id: int,
        *,
        name: str | None = None,
        base_url: str | None = None,
        credentials: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> ConnectorView:
        """Change a connector; empty credential fields keep their stored values, and so does an
        empty address or the address as it is shown (masked)."""
        authorize(actor, CHANGE_CONNECTORS)
        if name is not None and name.strip():
            name = check_connector_name(name)
        with tenant_session(self.sessions, actor.org_id) as s:
            store = ConnectorStore(s, self.vault)
            if base_url is not None:
                shown = store.get(connector_id).base_url
                unchanged = not base_url.strip() or base_url.strip().rstrip("/") == shown
                base_url = None if unchanged else check_address(base_url)
            stored = store.secret_config(connector_id).credentials
            view = store.update(
                connector_id, name=name, base_url=base_url, credentials=credentials, options=options
            )
            changed = sorted(k for k, v in (credentials or {}).items() if v and v != stored.get(k))
            if changed or base_url is not None or options is not None:
                # previews stopped being warmed after an error may work now: warm them again
                WarmStore(s).resume_connector(connector_id, self.clock())
            event = ConnectorUpdated(view.id, view.name, view.sync_type, changed)
            record(s, event, by=actor.log_name)
            return view

    def delete(self, actor: Actor, connector_id: int) -> None:
        """Delete a connector with its previews and settings; when it was its source's
        default, the next one of that source (the first added) becomes the default."""
        authorize(actor, DELETE_CONNECTORS)
        with tenant_session(self.sessions, actor.org_id) as s:
            view, new_default = ConnectorStore(s, self.vault).delete(connector_id)
            event = ConnectorDeleted(
                view.id, view.name, view.sync_type, new_default.name if new_default else None
            )
            record(s, event, by=actor.log_name)

    def make_default(self, actor: Actor, connector_id: int) -> ConnectorView:
        """Make a connector the one its source's previews and settings use when a caller
        names no connector (the CLI, the API)."""
        authorize(actor, CHANGE_CONNECTORS)
        with tenant_session(self.sessions, actor.org_id) as s:
            view = ConnectorStore(s, self.vault).make_default(connector_id)
            record(s, ConnectorMadeDefault(view.id, view.name, view.sync_type), by=actor.log_name)
            return view

    def find(
        self, actor: Actor, connector: ConnectorChoice, sync_type: str | None = None
    ) -> ConnectorIdentity:
        """The connector named by id or name, or the default connector of ``sync_type``
        (see :func:`find_connector`)."""
        authorize(actor, VIEW)
        return find_connector(self.sessions, actor.org_id, connector, sync_type)

    def test(self, actor: Actor, connector_id: int) -> str:
        """Try a cheap authenticated call; returns what the system said. Raises only errors
        of the tree: an unexpected failure becomes an ``InternalError`` with a reference."""
        authorize(actor, TEST_CONNECTORS)
        with tenant_session(self.sessions, actor.org_id) as s:
            config = ConnectorStore(s, self.vault).secret_config(connector_id)
        error, message = None, ""
        try:
            connector = self.build(config, None)
            try:
                message = connector.test_connection()
            finally:
                connector.close()
        except SyncPreviewError as err:
            error = str(err)
            raise
        except Exception as exc:
            reference = uuid.uuid4().hex[:12]
            log.exception(
                "connection test of connector %s failed, reference %s", config.id, reference
            )
            internal = InternalError("The connection test", reference)
            error = str(internal)
            raise internal from exc
        finally:
            with tenant_session(self.sessions, actor.org_id) as s:
                event = ConnectorTested(config.id, config.name, config.sync_type, error)
                record(s, event, by=actor.log_name)
        return message
