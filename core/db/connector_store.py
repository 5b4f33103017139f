"""Connector rows of one organization; credentials pass only through the vault."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import sources
from core.db.models import IntegrationConnector
from core.db.scope import current_org
from core.db.vault import Vault, mask
from core.errors import InvalidRequest, NotFoundError
from core.sources.address import mask_address


@dataclass(frozen=True)
class ConnectorView:
    """A connector as shown on screen: secret credentials masked, the others (an Odoo
    database or user name, as its source's spec says) as they are; a user name and password
    in an address stored before they were refused are masked too."""

    id: int
    sync_type: str
    name: str
    base_url: str
    shown_credentials: dict[str, str]
    options: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True)
class ConnectorSecretConfig:
    """A connector with its decrypted credentials: only for building a connector."""

    id: int
    sync_type: str
    name: str
    base_url: str
    credentials: dict[str, str] = field(repr=False)
    options: dict[str, Any]


class ConnectorStore:
    """Add, change, list and delete the session organization's connectors."""

    def __init__(self, session: Session, vault: Vault) -> None:
        self.session = session
        self.vault = vault

    def _view(self, row: IntegrationConnector) -> ConnectorView:
        creds = self.vault.decrypt(row.credentials_encrypted)
        spec = sources.find(row.sync_type)
        plain = {f.name for f in spec.credentials if not f.secret} if spec is not None else set()
        return ConnectorView(
            id=row.id,
            sync_type=row.sync_type,
            name=row.name,
            base_url=mask_address(row.base_url),
            shown_credentials={k: v if k in plain else mask(v) for k, v in creds.items()},
            options=dict(row.options or {}),
            updated_at=row.updated_at,
        )

    def _row(self, connector_id: int) -> IntegrationConnector:
        row = self.session.scalars(
            select(IntegrationConnector).where(IntegrationConnector.id == connector_id)
        ).first()
        if row is None:
            raise NotFoundError("That connector does not exist (or was deleted).")
        return row

    def add(
        self,
        sync_type: str,
        name: str,
        base_url: str,
        credentials: Mapping[str, str],
        options: Mapping[str, Any] | None = None,
    ) -> ConnectorView:
        sources.get(sync_type)
        if not name.strip():
            raise InvalidRequest("Give the connector a name.")
        row = IntegrationConnector(
            org_id=current_org(self.session),
            sync_type=sync_type,
            name=name.strip(),
            base_url=base_url.strip().rstrip("/"),
            credentials_encrypted=self.vault.encrypt({k: v for k, v in credentials.items() if v}),
            options=dict(options or {}),
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError as exc:
            raise InvalidRequest(f"A connector named '{name}' exists already.") from exc
        return self._view(row)

    def update(
        self,
        connector_id: int,
        *,
        name: str | None = None,
        base_url: str | None = None,
        credentials: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> ConnectorView:
        """Change a connector; a credential left empty keeps its stored value."""
        row = self._row(connector_id)
        if name is not None and name.strip():
            row.name = name.strip()
        if base_url is not None and base_url.strip():
            row.base_url = base_url.strip().rstrip("/")
        if credentials:
            merged = self.vault.decrypt(row.credentials_encrypted)
            merged.update({k: v for k, v in credentials.items() if v})
            row.credentials_encrypted = self.vault.encrypt(merged)
        if options is not None:
            row.options = {**(row.options or {}), **options}
        self.session.flush()
        return self._view(row)

    def delete(self, connector_id: int) -> ConnectorView:
        row = self._row(connector_id)
        view = self._view(row)
        self.session.delete(row)
        self.session.flush()
        return view

    def list(self) -> list[ConnectorView]:
        rows = self.session.scalars(
            select(IntegrationConnector).order_by(
                IntegrationConnector.sync_type, IntegrationConnector.name
            )
        )
        return [self._view(r) for r in rows]

    def get(self, connector_id: int) -> ConnectorView:
        return self._view(self._row(connector_id))

    def secret_config(self, connector_id: int) -> ConnectorSecretConfig:
        """Decrypted credentials, for building a connector and nothing else."""
        row = self._row(connector_id)
        return ConnectorSecretConfig(
            id=row.id,
            sync_type=row.sync_type,
            name=row.name,
            base_url=row.base_url,
            credentials=self.vault.decrypt(row.credentials_encrypted),
            options=dict(row.options or {}),
        )

    def first_of_type(self, sync_type: str) -> ConnectorSecretConfig:
        """The organization's connector of ``sync_type`` (the first by name)."""
        row = self.session.scalars(
            select(IntegrationConnector)
            .where(IntegrationConnector.sync_type == sync_type)
            .order_by(IntegrationConnector.name)
        ).first()
        if row is None:
            spec = sources.find(sync_type)
            label = spec.label if spec is not None else sync_type
            raise NotFoundError(
                f"No {label} connector is set up for this organization. "
                "An admin can add one on the Connectors page."
            )
        return self.secret_config(row.id)


def orgs_with_option(session: Session, option: str) -> list[int]:
    """The organizations that have a connector whose options set ``option`` (across orgs:
    ids only, for housekeeping such as restarting the demo's sandbox)."""
    rows = session.execute(
        select(IntegrationConnector.org_id, IntegrationConnector.options).execution_options(
            cross_org=True
        )
    )
    return sorted({org_id for org_id, options in rows if (options or {}).get(option)})
