"""The organization's own database and its mappings, as stored (one session's organization).

The database's settings are kept in the clear without the password; the password is
encrypted by the vault and decrypted only to connect. Mappings are versioned: each save adds
a row, the newest of a (source, entity, connector) is in force, and a connector's own
mapping wins over the one of its whole source (``connector_id`` None).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.db.clock import utcnow
from core.db.models import LocalDatabaseRow, LocalMappingRow, LocalWriteBack
from core.db.vault import Vault

_PASSWORD = "password"
_WRITE_PASSWORD = "write_password"


class LocalDataStore:
    """Read and write the session organization's database connection and mappings."""

    def __init__(self, session: Session, vault: Vault) -> None:
        self.session = session
        self.vault = vault

    # --- the database -----------------------------------------------------------------

    def database(self) -> LocalDatabaseRow | None:
        """The organization's database connection, if it has one."""
        return self.session.scalars(select(LocalDatabaseRow)).first()

    def password(self, row: LocalDatabaseRow) -> str | None:
        """The stored password in the clear (only to connect)."""
        if row.password_encrypted is None:
            return None
        return self.vault.decrypt(row.password_encrypted).get(_PASSWORD)

    def set_database(
        self,
        kind: str,
        settings: Mapping[str, Any],
        password: str | None,
        *,
        keep_password: bool,
        by: str | None,
    ) -> LocalDatabaseRow:
        """Store the connection (replacing the one there); ``keep_password`` keeps the stored
        password when none is given."""
        row = self.database()
        if row is None:
            row = LocalDatabaseRow(kind=kind, settings=dict(settings))
            self.session.add(row)
        elif not (keep_password and password is None):
            row.password_encrypted = None
        row.kind = kind
        row.settings = dict(settings)
        if password is not None:
            row.password_encrypted = self.vault.encrypt({_PASSWORD: password})
        row.updated_by = by
        row.updated_at = utcnow()
        row.tested_at = row.test_ok = row.test_message = None
        self.session.flush()
        return row

    def remove_database(self) -> bool:
        """Forget the connection; True when there was one."""
        row = self.database()
        if row is None:
            return False
        self.session.delete(row)
        self.session.flush()
        return True

    def record_test(self, ok: bool, message: str, at: datetime) -> None:
        row = self.database()
        if row is not None:
            row.tested_at, row.test_ok, row.test_message = at, ok, message

    # --- mappings ---------------------------------------------------------------------

    def add_version(
        self,
        sync_type: str,
        entity_type: str,
        connector_id: int | None,
        *,
        kind: str,
        mapping: Mapping[str, Any],
        summary: str,
        by: str | None,
    ) -> LocalMappingRow:
        """A new version of the mapping of (source, entity, connector), now in force."""
        latest = self.session.scalar(
            select(func.max(LocalMappingRow.version))
            .where(*self._which(sync_type, entity_type))
            .where(
                LocalMappingRow.connector_id.is_(None)
                if connector_id is None
                else LocalMappingRow.connector_id == connector_id
            )
        )
        row = LocalMappingRow(
            sync_type=sync_type,
            entity_type=entity_type,
            connector_id=connector_id,
            version=int(latest or 0) + 1,
            kind=kind,
            mapping=dict(mapping),
            summary=summary,
            created_by=by,
            created_at=utcnow(),
        )
        self.session.add(row)
        self.session.flush()
        return row

    @staticmethod
    def _which(sync_type: str, entity_type: str) -> tuple[Any, ...]:
        return (LocalMappingRow.sync_type == sync_type, LocalMappingRow.entity_type == entity_type)

    def in_force(
        self, sync_type: str, entity_type: str, connector_id: int | None
    ) -> LocalMappingRow | None:
        """The mapping a preview of that connector uses: the connector's own newest version,
        else (none, or it stopped using its own) its source's; None when neither exists (our
        own tables, as they are). A version of kind "builtin" means our own tables."""
        scope: Any = LocalMappingRow.connector_id.is_(None)
        if connector_id is not None:
            scope = or_(scope, LocalMappingRow.connector_id == connector_id)
        rows = self.session.scalars(
            select(LocalMappingRow)
            .where(*self._which(sync_type, entity_type), scope)
            .order_by(LocalMappingRow.id.desc())
        )
        own: LocalMappingRow | None = None
        whole: LocalMappingRow | None = None
        for row in rows:
            if row.connector_id is not None:
                own = own or row  # the connector's own newest version
            else:
                whole = whole or row
        if own is not None and own.kind != "builtin":
            return own
        return whole  # the connector stopped using its own (kind "builtin"): its source's

    def history(
        self, sync_type: str, entity_type: str, connector_id: int | None
    ) -> list[LocalMappingRow]:
        """Every version of one mapping, newest first."""
        scope = (
            LocalMappingRow.connector_id.is_(None)
            if connector_id is None
            else LocalMappingRow.connector_id == connector_id
        )
        return list(
            self.session.scalars(
                select(LocalMappingRow)
                .where(*self._which(sync_type, entity_type), scope)
                .order_by(LocalMappingRow.id.desc())
            )
        )

    def all_in_force(self) -> list[LocalMappingRow]:
        """The newest version of every mapping of the organization."""
        rows = self.session.scalars(select(LocalMappingRow).order_by(LocalMappingRow.id.desc()))
        seen: set[tuple[str, str, int | None]] = set()
        out: list[LocalMappingRow] = []
        for row in rows:
            which = (row.sync_type, row.entity_type, row.connector_id)
            if which not in seen:
                seen.add(which)
                out.append(row)
        return sorted(out, key=lambda r: (r.sync_type, r.entity_type, r.connector_id or 0))

    # --- write-back -------------------------------------------------------------------

    def write_back(
        self, sync_type: str, entity_type: str, connector_id: int | None
    ) -> LocalWriteBack | None:
        """The write-back setting of one mapping (None: never set, so off)."""
        scope = (
            LocalWriteBack.connector_id.is_(None)
            if connector_id is None
            else LocalWriteBack.connector_id == connector_id
        )
        return self.session.scalars(
            select(LocalWriteBack).where(
                LocalWriteBack.sync_type == sync_type,
                LocalWriteBack.entity_type == entity_type,
                scope,
            )
        ).first()

    def write_password(self, row: LocalWriteBack) -> str | None:
        """The write user's password in the clear (only to connect)."""
        if row.write_password_encrypted is None:
            return None
        return self.vault.decrypt(row.write_password_encrypted).get(_WRITE_PASSWORD)

    def set_write_back(
        self,
        sync_type: str,
        entity_type: str,
        connector_id: int | None,
        *,
        enabled: bool,
        write_user: str | None,
        write_password: str | None,
        keep_password: bool,
        active_column: str | None,
        by: str | None,
    ) -> LocalWriteBack:
        """Store the write-back setting of one mapping; ``keep_password`` keeps the stored
        write password when none is given (and the write user did not change)."""
        row = self.write_back(sync_type, entity_type, connector_id)
        if row is None:
            row = LocalWriteBack(
                sync_type=sync_type, entity_type=entity_type, connector_id=connector_id
            )
            self.session.add(row)
        if write_user != row.write_user or not (keep_password and write_password is None):
            row.write_password_encrypted = None
        row.enabled = enabled
        row.write_user = write_user
        if write_password is not None:
            row.write_password_encrypted = self.vault.encrypt({_WRITE_PASSWORD: write_password})
        row.delete_mode = "deactivate" if active_column else "delete"
        row.active_column = active_column
        row.updated_by = by
        row.updated_at = utcnow()
        self.session.flush()
        return row
