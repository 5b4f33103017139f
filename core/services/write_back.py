"""Write-back: applies written to the organization's own database.

An admin switches write-back on per mapping (off by default); the mapping must then cover
what a write needs (``core.localdb.writer.LocalWriter.check``: a table, not a query or a
view; its key and every mapped column; the NOT NULL columns without a default; the write
user's privileges), checked when it is switched on and again before every apply. Writes may
use their own user and password (the password encrypted by the vault, never shown or
logged); by default the connection's own. A deletion deletes the row, or marks it inactive
through an "active" column.

:func:`apply_target` tells an apply where it writes: the organization's database when the
preview compared with it and write-back is on; the built-in store when the preview's local
side was our own tables; otherwise it refuses, saying where an admin switches write-back on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.db.local_data import LocalDataStore
from core.db.models import LocalMappingRow, LocalWriteBack
from core.db.vault import Vault
from core.errors import InvalidRequest
from core.localdb import DatabaseSettings, LocalMapping
from core.localdb.writer import LocalWriter, WriteOptions

#: Where an admin switches write-back on, in words.
WHERE_TO_SWITCH = (
    "Connectors › Your database › the {entity} mapping › Write-back, or "
    "`python -m core mapping write-back --on`"
)


@dataclass(frozen=True)
class WriteBackView:
    """The write-back of one mapping as shown (never the write password)."""

    sync_type: str
    entity_type: str
    connector_id: int | None
    table: str | None
    enabled: bool = False
    write_user: str | None = None
    write_password_set: bool = False
    active_column: str | None = None
    checked_at: datetime | None = None
    check_ok: bool | None = None
    check_message: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None

    @property
    def deletes(self) -> str:
        """What a deletion does, in words."""
        if self.active_column:
            return f"mark inactive via column {self.active_column}"
        return "delete rows"

    @property
    def credentials(self) -> str:
        if self.write_user:
            masked = ", password ••••••" if self.write_password_set else ""
            return f"user {self.write_user}{masked}"
        return "the connection's own user"

    def describe(self) -> str:
        """One sentence: on or off, where, with whom, what a deletion does."""
        if not self.enabled:
            return "Write-back is off: applies never write to your database."
        return (
            f"Write-back is on: applies write to table {self.table} as "
            f"{self.credentials}; deletions {self.deletes}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "syncType": self.sync_type,
            "entityType": self.entity_type,
            "connectorId": self.connector_id,
            "table": self.table,
            "enabled": self.enabled,
            "writeUser": self.write_user,
            "writePassword": "••••••" if self.write_password_set else "",
            "deletes": "deactivate" if self.active_column else "delete",
            "activeColumn": self.active_column,
            "lastCheck": None
            if self.checked_at is None
            else {
                "at": self.checked_at.isoformat(),
                "ok": self.check_ok,
                "message": self.check_message,
            },
        }


def view_of(mapping: LocalMappingRow, row: LocalWriteBack | None) -> WriteBackView:
    table = (mapping.mapping or {}).get("table") if mapping.kind == "database" else None
    base = WriteBackView(mapping.sync_type, mapping.entity_type, mapping.connector_id, table)
    if row is None:
        return base
    return WriteBackView(
        mapping.sync_type,
        mapping.entity_type,
        mapping.connector_id,
        table,
        enabled=row.enabled,
        write_user=row.write_user,
        write_password_set=row.write_password_encrypted is not None,
        active_column=row.active_column,
        checked_at=row.checked_at,
        check_ok=row.check_ok,
        check_message=row.check_message,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def write_settings(
    store: LocalDataStore, user: str | None, password: str | None
) -> DatabaseSettings:
    """The connection's settings with the write credentials (its own when ``user`` is None)."""
    row = store.database()
    if row is None:
        raise InvalidRequest(
            "No database of yours is connected: connect it first (Connectors, “Your database”)."
        )
    settings = DatabaseSettings.from_dict(row.settings, password=store.password(row))
    if user:
        settings = replace(settings, user=user).with_password(password)
    return settings


def check_message(table: str, problems: list[str]) -> str:
    """The check's result in words."""
    if not problems:
        return (
            f"Table {table} can be written: its columns cover the mapping and the user may write."
        )
    return f"Applies cannot write to table {table}: " + "; ".join(problems) + "."


def check(
    settings: DatabaseSettings, mapping: LocalMapping, active_column: str | None
) -> str | None:
    """None when applies can write through ``mapping``; else why not, in words."""
    problems = LocalWriter(settings).check(mapping, WriteOptions(active_column))
    if not problems:
        return None
    return check_message(mapping.table or "(a query)", problems)


@dataclass(frozen=True)
class ApplyTarget:
    """Where a run writes: ``kind`` ("builtin" or "database"), the words that name it, and
    the mapping version it writes through."""

    kind: str
    where: str | None = None
    mapping_id: int | None = None


def label(table: str) -> str:
    """'your database (table crm.customers)'."""
    return f"your database (table {table})"


def apply_target(
    s: Session,
    vault: Vault,
    local: dict[str, Any] | None,
    sync_type: str,
    entity_type: str,
    connector_id: int | None,
    *,
    checked: bool = True,
) -> ApplyTarget:
    """Where applying a snapshot whose local side was ``local`` (its scope's "local") may
    write; refused (``InvalidRequest``) when the preview compared with the organization's
    database and its write-back is off or cannot work (``checked``: connect and check)."""
    if not local or local.get("kind") != "database":
        return ApplyTarget("builtin")
    store = LocalDataStore(s, vault)
    mapping_row = store.in_force(sync_type, entity_type, connector_id)
    if mapping_row is None or mapping_row.kind != "database":
        raise InvalidRequest(
            "This preview compared with your database, whose mapping is no longer in force; "
            "refresh the preview."
        )
    mapping = LocalMapping.from_dict(mapping_row.mapping)
    row = store.write_back(sync_type, entity_type, mapping_row.connector_id)
    table = mapping.table or "(a query)"
    if row is None or not row.enabled:
        raise InvalidRequest(
            f"This preview compares with your database (table {table}), and write-back is off "
            f"for that mapping, so nothing was written. An admin can switch write-back on: "
            f"{WHERE_TO_SWITCH.format(entity=entity_type)}."
        )
    if checked:
        settings = write_settings(store, row.write_user, store.write_password(row))
        problem = check(settings, mapping, row.active_column)
        if problem is not None:
            raise InvalidRequest(problem + " Nothing was written.")
    return ApplyTarget("database", label(table), mapping_row.id)
