"""Connector rows of one organization; credentials pass only through the vault."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import sources
from core.db.models import IntegrationConnector
from core.db.scope import current_org
from core.db.vault import Vault, mask
from core.errors import InvalidRequest, NotFoundError, StoreError

#: What names a connector: its id, or its name; None means the default one of a source.
ConnectorChoice = int | str | None


@dataclass(frozen=True)
class ConnectorIdentity:
    """Which connector: its id, its source and its name (what previews and settings name)."""

    id: int
    sync_type: str
    name: str


@dataclass(frozen=True)
class ConnectorView:
    """A connector as shown on screen: credentials masked, never decrypted for display.
    ``is_default``: the one used for its source when a caller names no connector."""

    id: int
    sync_type: str
    name: str
    base_url: str
    masked_credentials: dict[str, str]
    options: dict[str, Any]
    updated_at: datetime
    is_default: bool


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
        return ConnectorView(
            id=row.id,
            sync_type=row.sync_type,
            name=row.name,
            base_url=row.base_url,
            masked_credentials={k: mask(v) for k, v in creds.items()},
            options=dict(row.options or {}),
            updated_at=row.updated_at,
            is_default=row.is_default,
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
        """Add a connector; the first of its source becomes that source's default."""
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
            is_default=_default_row(self.session, sync_type) is None,
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError as exc:
            if _named(self.session, name.strip()) is None:  # the partial unique index of defaults
                raise StoreError(
                    "Another connector of this source was added at the same moment; try again.",
                    transient=True,
                ) from exc
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

    def delete(self, connector_id: int) -> tuple[ConnectorView, ConnectorIdentity | None]:
        """Delete a connector with its previews and settings; when it was its source's
        default, the next one of that source (the first added) becomes the default.
        Returns the deleted connector and the one that became the default, if any."""
        row = self._row(connector_id)
        view = self._view(row)
        self.session.delete(row)
        self.session.flush()
        if not view.is_default:
            return view, None
        following = self.session.scalars(
            select(IntegrationConnector)
            .where(IntegrationConnector.sync_type == view.sync_type)
            .order_by(IntegrationConnector.id)
            .limit(1)
        ).first()
        if following is None:
            return view, None
        following.is_default = True
        self.session.flush()
        return view, ConnectorIdentity(following.id, following.sync_type, following.name)

    def make_default(self, connector_id: int) -> ConnectorView:
        """Make a connector its source's default (the one before it no longer is)."""
        row = self._row(connector_id)
        if not row.is_default:
            # two statements: the index allows one default per source after each of them
            self.session.execute(
                update(IntegrationConnector)
                .where(
                    IntegrationConnector.sync_type == row.sync_type,
                    IntegrationConnector.is_default.is_(True),
                )
                .values(is_default=False)
                .execution_options(synchronize_session="fetch")
            )
            row.is_default = True
            try:
                with self.session.begin_nested():
                    self.session.flush()
            except IntegrityError as exc:
                raise StoreError(
                    "The default connector was changed at the same moment; try again.",
                    transient=True,
                ) from exc
        return self._view(row)

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


def identify_connector(
    session: Session, connector: ConnectorChoice, sync_type: str | None
) -> ConnectorIdentity:
    """The session organization's connector named by ``connector`` (an id, or a name), or,
    when None, the default connector of ``sync_type``. A named connector must be of
    ``sync_type`` when that is given too."""
    if connector is None or (isinstance(connector, str) and not connector.strip()):
        if sync_type is None:
            raise InvalidRequest("Name a source (sync_type) or a connector.")
        row = _default_row(session, sync_type)
        if row is None:
            raise NotFoundError(
                f"No {_label(sync_type)} connector is set up for this organization. "
                "An admin can add one on the Connectors page."
            )
    else:
        row = _chosen(session, connector)
        if sync_type is not None and row.sync_type != sync_type:
            raise InvalidRequest(
                f"The connector '{row.name}' connects to {_label(row.sync_type)}, "
                f"not to {_label(sync_type)}."
            )
    return ConnectorIdentity(row.id, row.sync_type, row.name)


def _chosen(session: Session, connector: int | str) -> IntegrationConnector:
    """The connector with this id, else the one with this name."""
    text = str(connector).strip()
    row = None
    if text.isdigit():
        row = session.scalars(
            select(IntegrationConnector).where(IntegrationConnector.id == int(text))
        ).first()
    if row is None and not isinstance(connector, int):
        row = _named(session, text)
    if row is None:
        raise NotFoundError(f"There is no connector '{text}' in this organization.")
    return row


def _named(session: Session, name: str) -> IntegrationConnector | None:
    return session.scalars(
        select(IntegrationConnector).where(IntegrationConnector.name == name)
    ).first()


def _default_row(session: Session, sync_type: str) -> IntegrationConnector | None:
    """The default connector of ``sync_type`` (the first added, should a database edited by
    hand have none)."""
    return session.scalars(
        select(IntegrationConnector)
        .where(IntegrationConnector.sync_type == sync_type)
        .order_by(IntegrationConnector.is_default.desc(), IntegrationConnector.id)
        .limit(1)
    ).first()


def _label(sync_type: str) -> str:
    spec = sources.find(sync_type)
    return spec.label if spec is not None else sync_type


def orgs_with_option(session: Session, option: str) -> list[int]:
    """The organizations that have a connector whose options set ``option`` (across orgs:
    ids only, for housekeeping such as restarting the demo's sandbox)."""
    rows = session.execute(
        select(IntegrationConnector.org_id, IntegrationConnector.options).execution_options(
            cross_org=True
        )
    )
    return sorted({org_id for org_id, options in rows if (options or {}).get(option)})
