"""Your own data on the local side: the organization's database, its mappings, file imports.

- **The database** (admins): PostgreSQL, MySQL/MariaDB or an SQLite file, by fields or a URL;
  the password goes to the vault and is never shown (``DatabaseView.password_masked``).
  Every read is read-only with a statement time limit (``core.localdb``).
- **Mappings** per (source, entity), optionally per connector: a table, view or one SELECT,
  the match key (the store's id in a column, or the natural key), column -> canonical
  field, order lines. Each save is a new version (who, when); the newest is in force;
  viewers may read them. Saving expires the affected previews, so that the next open
  computes them again.
- **File imports** (admins): a CSV or ``.xlsx`` into our own tables, refused while any row
  is invalid unless only the valid rows are asked for; it is a version of the mapping too.

The refresh pipeline asks :func:`local_side` which local side a preview uses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson
from sqlalchemy.orm import Session, sessionmaker

from core import sources
from core.db.clock import utcnow
from core.db.local_data import LocalDataStore
from core.db.local_records import LocalRecords
from core.db.models import LocalMappingRow
from core.db.previews import SnapshotRows
from core.db.tenancy import tenant_session
from core.db.vault import Vault
from core.delta.fields import COMPARABLE_FIELDS
from core.delta.natural import KEY_LABELS, NATURAL_KEYS
from core.errors import BadQuery, InvalidRequest, SyncPreviewError
from core.localdb import (
    ColumnInfo,
    ConnectionCheck,
    DatabaseSettings,
    LinesMapping,
    LocalDatabase,
    LocalMapping,
    LocalReader,
    Sample,
    TableInfo,
)
from core.localdb.fileimport import ImportProblem, ImportReport, parse_file, read_table
from core.localdb.settings import KIND_LABELS, KINDS
from core.services.actors import MANAGE_LOCAL_DATA, VIEW, Actor, authorize
from core.services.checks import check_entity_type, check_sync_type
from core.services.connectors import ConnectorChoice, find_connector
from core.services.events import (
    FileImported,
    LocalDatabaseRemoved,
    LocalDatabaseSet,
    LocalDatabaseTested,
    MappingSaved,
    WriteBackSwitched,
    record,
)
from core.services.write_back import WriteBackView, check, view_of, write_settings

log = logging.getLogger(__name__)

__all__ = [
    "COMPARABLE_FIELDS",
    "KINDS",
    "KIND_LABELS",
    "ColumnInfo",
    "ConnectionCheck",
    "DatabaseView",
    "ImportOutcome",
    "ImportProblem",
    "ImportReport",
    "LinesMapping",
    "LocalDataService",
    "LocalMapping",
    "LocalSide",
    "MappingVersion",
    "Sample",
    "TableInfo",
    "WriteBackView",
    "local_side",
]

Clock = Callable[[], datetime]
#: The longest key our own tables keep (``external_id``).
MAX_KEY = 64


@dataclass(frozen=True)
class DatabaseView:
    """The organization's database as shown: where it is, never the password."""

    kind: str
    kind_label: str
    url: str  # without the password
    host: str | None
    port: int | None
    database: str
    user: str | None
    password_set: bool
    updated_by: str | None
    updated_at: datetime
    tested_at: datetime | None
    test_ok: bool | None
    test_message: str | None

    @property
    def password_masked(self) -> str:
        return "••••••" if self.password_set else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "url": self.url,
            "host": self.host,
            "port": self.port,
            "database": self.database,
            "user": self.user,
            "password": self.password_masked,
            "updatedBy": self.updated_by,
            "updatedAt": self.updated_at.isoformat(),
            "lastTest": None
            if self.tested_at is None
            else {
                "at": self.tested_at.isoformat(),
                "ok": self.test_ok,
                "message": self.test_message,
            },
        }


@dataclass(frozen=True)
class MappingVersion:
    """One version of a mapping: a database mapping (``mapping``) or a file import
    (``file``: its name, rows, match and columns)."""

    id: int
    version: int
    sync_type: str
    entity_type: str
    connector_id: int | None
    kind: Literal["database", "file", "builtin"]
    summary: str
    created_by: str | None
    created_at: datetime
    mapping: LocalMapping | None = None
    file: dict[str, Any] | None = None

    @property
    def match(self) -> str:
        if self.mapping is not None:
            return str(self.mapping.match)
        return str((self.file or {}).get("match", "natural"))

    @property
    def compared_fields(self) -> tuple[str, ...]:
        if self.mapping is not None:
            return self.mapping.compared_fields
        return tuple((self.file or {}).get("compared") or ())

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "syncType": self.sync_type,
            "entityType": self.entity_type,
            "connectorId": self.connector_id,
            "kind": self.kind,
            "summary": self.summary,
            "match": self.match,
            "compared": list(self.compared_fields),
            "createdBy": self.created_by,
            "createdAt": self.created_at.isoformat(),
            "mapping": self.mapping.to_dict() if self.mapping is not None else None,
            "file": self.file,
        }


@dataclass(frozen=True)
class ImportOutcome:
    """What an import did: the validation report, how many rows were written (0 when it was
    refused), for which sources, and the mapping version it made."""

    report: ImportReport
    imported: int
    sync_types: tuple[str, ...] = ()
    version: MappingVersion | None = None

    @property
    def refused(self) -> bool:
        return self.imported == 0 and not self.report.ok

    def summary(self) -> str:
        if self.refused:
            return (
                f"Nothing was imported: {self.report.invalid_rows} of {self.report.rows} rows "
                "cannot be read (listed below). Fix them, or import the valid rows only."
            )
        invalid = self.report.invalid_rows
        skipped = f"; {invalid} invalid rows left out" if invalid else ""
        return (
            f"Imported {self.imported:,} rows of {self.report.file} into "
            f"{', '.join(self.sync_types)} {self.version.entity_type if self.version else ''}"
            f"{skipped}."
        ).replace("  ", " ")

    def to_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "syncTypes": list(self.sync_types),
            "report": self.report.to_dict(),
            "version": self.version.to_dict() if self.version else None,
        }


@dataclass(frozen=True)
class LocalSide:
    """Where a preview's local records come from: our own tables as they are (``builtin``),
    the organization's database through a mapping (``database``), or a file imported into
    our tables (``file``). ``compared`` None: every field."""

    kind: Literal["builtin", "database", "file"]
    match: Literal["id", "natural"] = "id"
    compared: tuple[str, ...] | None = None
    mapping: LocalMapping | None = None
    settings: DatabaseSettings | None = field(default=None, repr=False)
    version: int | None = None
    description: str = ""
    #: write-back marks deleted rows inactive through this column: such rows are not read
    active_column: str | None = None

    def reader(self, chunk_rows: int | None = None) -> LocalReader:
        """A reader of the mapped table (``database`` only)."""
        assert self.mapping is not None and self.settings is not None
        db = LocalDatabase(self.settings)
        if chunk_rows is None:
            return LocalReader(db, self.mapping, active_column=self.active_column)
        return LocalReader(
            db, self.mapping, chunk_rows=chunk_rows, active_column=self.active_column
        )


# ------------------------------------------------------------------------------ helpers


def _version(row: LocalMappingRow) -> MappingVersion:
    if row.kind == "builtin":
        return MappingVersion(
            row.id,
            row.version,
            row.sync_type,
            row.entity_type,
            row.connector_id,
            "builtin",
            row.summary,
            row.created_by,
            row.created_at,
        )
    if row.kind == "database":
        return MappingVersion(
            row.id,
            row.version,
            row.sync_type,
            row.entity_type,
            row.connector_id,
            "database",
            row.summary,
            row.created_by,
            row.created_at,
            mapping=LocalMapping.from_dict(row.mapping),
        )
    return MappingVersion(
        row.id,
        row.version,
        row.sync_type,
        row.entity_type,
        row.connector_id,
        "file",
        row.summary,
        row.created_by,
        row.created_at,
        file=dict(row.mapping),
    )


def _settings(store: LocalDataStore) -> DatabaseSettings | None:
    row = store.database()
    if row is None:
        return None
    return DatabaseSettings.from_dict(row.settings, password=store.password(row))


def _view(store: LocalDataStore) -> DatabaseView | None:
    row = store.database()
    if row is None:
        return None
    settings = DatabaseSettings.from_dict(row.settings)
    return DatabaseView(
        kind=settings.kind,
        kind_label=KIND_LABELS[settings.kind],
        url=settings.public_url(),
        host=settings.host,
        port=settings.port,
        database=settings.database,
        user=settings.user,
        password_set=row.password_encrypted is not None,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        tested_at=row.tested_at,
        test_ok=row.test_ok,
        test_message=row.test_message,
    )


def _no_database() -> InvalidRequest:
    return InvalidRequest(
        "No database of yours is connected: connect it first (Connectors, “Your database”, or "
        "`python -m core localdb set`)."
    )


def _expire(
    s: Session, now: datetime, sync_type: str, entity_type: str | None, connector_id: int | None
) -> int:
    """Expire the cached previews a change of the local side affects (they stay as history)."""
    return SnapshotRows(s).invalidate(now, sync_type, entity_type, connector_id)


def _file_summary(name: str, rows: int, match: str, entity: str, compared: Sequence[str]) -> str:
    how = (
        "matched by the store's id"
        if match == "id"
        else f"matched by {KEY_LABELS[NATURAL_KEYS[entity]]}"
    )
    return f"{entity.capitalize()} imported from {name} ({rows:,} rows), {how}; compared: " + (
        ", ".join(compared) + "."
    )


def local_side(
    sessions: sessionmaker[Session],
    vault: Vault,
    org_id: int,
    sync_type: str,
    entity_type: str,
    connector_id: int | None,
) -> LocalSide:
    """The local side a preview of (connector, entity) uses now (for the refresh pipeline)."""
    with tenant_session(sessions, org_id) as s:
        store = LocalDataStore(s, vault)
        row = store.in_force(sync_type, entity_type, connector_id)
        if row is None or row.kind == "builtin":
            return LocalSide("builtin")
        version = _version(row)
        if version.kind == "file":
            info = version.file or {}
            match: Literal["id", "natural"] = "id" if info.get("match") == "id" else "natural"
            return LocalSide(
                "file",
                match,
                version.compared_fields,
                version=version.version,
                description=version.summary,
            )
        settings = _settings(store)
        write_back = store.write_back(sync_type, entity_type, row.connector_id)
        # while write-back marks deleted rows inactive (checked when switched on), such rows
        # are deleted for the preview
        active_column = (
            write_back.active_column if write_back is not None and write_back.enabled else None
        )
    assert version.mapping is not None
    if settings is None:
        raise _no_database()
    return LocalSide(
        "database",
        version.mapping.match.kind,
        version.mapping.compared_fields,
        mapping=version.mapping,
        settings=settings,
        version=version.version,
        description=version.summary,
        active_column=active_column,
    )


# ------------------------------------------------------------------------------ service


class LocalDataService:
    """The organization's database, the mappings of its records, and file imports."""

    def __init__(
        self, sessions: sessionmaker[Session], vault: Vault, clock: Clock | None = None
    ) -> None:
        self.sessions = sessions
        self.vault = vault
        self.clock: Clock = clock or utcnow

    # --- the database -----------------------------------------------------------------

    def database(self, actor: Actor) -> DatabaseView | None:
        """The organization's database as shown (never the password), or None."""
        authorize(actor, VIEW)
        with tenant_session(self.sessions, actor.org_id) as s:
            return _view(LocalDataStore(s, self.vault))

    @staticmethod
    def draft_settings(
        *,
        url: str | None = None,
        kind: str | None = None,
        host: str | None = None,
        port: int | str | None = None,
        database: str | None = None,
        user: str | None = None,
        password: str | None = None,
    ) -> DatabaseSettings:
        """Settings from a URL or from fields, checked (``InvalidRequest`` in words)."""
        password = password or None
        if url is not None and url.strip():
            return DatabaseSettings.from_url(url, password=password)
        if kind not in KINDS:
            raise InvalidRequest(
                "Choose the kind of database: PostgreSQL, MySQL / MariaDB or an SQLite file."
            )
        number: int | None = None
        if port is not None and str(port).strip():
            try:
                number = int(str(port).strip())
            except ValueError:
                raise InvalidRequest(f"Port {port!r} is not a number.") from None
        if kind == "sqlite":
            return DatabaseSettings(kind="sqlite", database=(database or "").strip())
        return DatabaseSettings(
            kind=kind,
            database=(database or "").strip(),
            host=(host or "").strip() or None,
            port=number,
            user=(user or "").strip() or None,
        ).with_password(password)

    def set_database(self, actor: Actor, settings: DatabaseSettings) -> DatabaseView:
        """Connect (or change) the organization's database. Without a password, a stored one
        is kept (same kind, not SQLite). Previews that read it are expired."""
        authorize(actor, MANAGE_LOCAL_DATA)
        password = settings.password_value()
        with tenant_session(self.sessions, actor.org_id) as s:
            store = LocalDataStore(s, self.vault)
            before = store.database()
            keep = settings.kind != "sqlite" and before is not None and before.kind == settings.kind
            store.set_database(
                settings.kind,
                settings.public_dict(),
                password,
                keep_password=keep,
                by=actor.log_name,
            )
            expired = sum(
                _expire(s, self.clock(), row.sync_type, row.entity_type, row.connector_id)
                for row in store.all_in_force()
                if row.kind == "database"
            )
            event = LocalDatabaseSet(settings.kind, settings.address, password is not None, expired)
            record(s, event, by=actor.log_name)
            view = _view(store)
        assert view is not None
        return view

    def remove_database(self, actor: Actor) -> bool:
        """Disconnect the organization's database (its mappings stay, unused until it is
        connected again). True when there was one."""
        authorize(actor, MANAGE_LOCAL_DATA)
        with tenant_session(self.sessions, actor.org_id) as s:
            store = LocalDataStore(s, self.vault)
            view = _view(store)
            if view is None:
                return False
            store.remove_database()
            record(s, LocalDatabaseRemoved(view.url), by=actor.log_name)
        return True

    def _stored_settings(self, actor: Actor) -> DatabaseSettings:
        with tenant_session(self.sessions, actor.org_id) as s:
            settings = _settings(LocalDataStore(s, self.vault))
        if settings is None:
            raise _no_database()
        return settings

    def _db(self, actor: Actor) -> LocalDatabase:
        return LocalDatabase(self._stored_settings(actor))

    def test_database(self, actor: Actor, draft: DatabaseSettings | None = None) -> ConnectionCheck:
        """Connect read-only and list the tables: the stored connection, or ``draft`` (whose
        empty password means the stored one). Logged; the stored one's result is kept."""
        authorize(actor, MANAGE_LOCAL_DATA)
        settings = draft
        if settings is None:
            settings = self._stored_settings(actor)
        elif settings.password is None and settings.kind != "sqlite":
            with tenant_session(self.sessions, actor.org_id) as s:
                stored = _settings(LocalDataStore(s, self.vault))
            if stored is not None and stored.kind == settings.kind:
                settings = settings.with_password(stored.password)
        check = LocalDatabase(settings).test_connection()
        with tenant_session(self.sessions, actor.org_id) as s:
            store = LocalDataStore(s, self.vault)
            if draft is None:
                store.record_test(check.ok, check.message, self.clock())
            event = LocalDatabaseTested(settings.address, None if check.ok else check.message)
            record(s, event, by=actor.log_name)
        return check

    def tables(self, actor: Actor) -> list[TableInfo]:
        """The tables and views of the organization's database this user may read."""
        authorize(actor, MANAGE_LOCAL_DATA)
        return self._db(actor).tables()

    def columns(self, actor: Actor, table: str) -> list[ColumnInfo]:
        """A table's (or view's) columns and their types."""
        authorize(actor, MANAGE_LOCAL_DATA)
        return self._db(actor).columns(table)

    def query_columns(self, actor: Actor, sql: str) -> list[ColumnInfo]:
        """The columns one SELECT returns (run read-only, with no rows)."""
        authorize(actor, MANAGE_LOCAL_DATA)
        return self._db(actor).query_columns(sql)

    # --- mappings ---------------------------------------------------------------------

    def sample(self, actor: Actor, mapping: LocalMapping, limit: int = 20) -> Sample:
        """The first rows of a draft mapping, with the values exactly as a preview compares
        them (nothing is saved)."""
        authorize(actor, MANAGE_LOCAL_DATA)
        return LocalReader(self._db(actor), mapping).sample(max(1, min(int(limit), 200)))

    def _connector_id(
        self, actor: Actor, connector: ConnectorChoice, sync_type: str | None
    ) -> tuple[int | None, str | None, str]:
        """(connector id, its name, the source) for a mapping of one connector, or
        (None, None, source) for the whole source."""
        if connector is None or str(connector).strip() == "":
            if sync_type is None:
                raise InvalidRequest("Give the source (--sync-type) or the connector.")
            check_sync_type(sync_type)
            return None, None, sync_type
        chosen = find_connector(self.sessions, actor.org_id, connector, sync_type)
        return chosen.id, chosen.name, chosen.sync_type

    def check_mapping(self, actor: Actor, mapping: LocalMapping) -> None:
        """``BadQuery`` naming what the database lacks: a table, a column of the mapping,
        the key column, the lines table or its columns."""
        authorize(actor, MANAGE_LOCAL_DATA)
        db = self._db(actor)
        if mapping.table is not None:
            names = [c.name for c in db.columns(mapping.table)]
        else:
            assert mapping.query is not None
            names = [c.name for c in db.query_columns(mapping.query)]
        where = f"table {mapping.table}" if mapping.table else "the query's result"
        wanted = [("the match key", mapping.key_column)] + [
            (f"field {f}", c) for f, c in mapping.columns
        ]
        lines = mapping.lines
        if lines is not None and lines.json_column is not None:
            wanted.append(("the order lines", lines.json_column))
        if lines is not None and lines.table is not None and mapping.parent_key:
            wanted.append(("the orders' key the lines refer to", mapping.parent_key))
        _require(where, names, wanted)
        if lines is not None and lines.table is not None:
            line_names = [c.name for c in db.columns(lines.table)]
            _require(
                f"table {lines.table}",
                line_names,
                [
                    ("the lines' order key", lines.order_key or ""),
                    ("the lines' SKU", lines.sku),
                    ("the lines' quantity", lines.quantity),
                    ("the lines' total", lines.total),
                ],
            )

    def save_mapping(
        self, actor: Actor, mapping: LocalMapping, connector: ConnectorChoice = None
    ) -> MappingVersion:
        """Check the mapping against the database and store it as the newest version (of
        ``connector``, or of its whole source); the affected previews are expired."""
        authorize(actor, MANAGE_LOCAL_DATA)
        mapping.validate()
        connector_id, connector_name, sync_type = self._connector_id(
            actor, connector, mapping.sync_type
        )
        if sync_type != mapping.sync_type:
            raise InvalidRequest(
                f"The connector is a {sync_type} connector; the mapping is for {mapping.sync_type}."
            )
        self.check_mapping(actor, mapping)
        with tenant_session(self.sessions, actor.org_id) as s:
            return self._save_version(
                s,
                actor,
                (mapping.sync_type, mapping.entity_type, connector_id, connector_name),
                kind="database",
                mapping=mapping.to_dict(),
                summary=mapping.describe(),
            )

    def remove_mapping(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        connector: ConnectorChoice = None,
    ) -> MappingVersion:
        """Stop using the mapping of (source, entity[, connector]): a new version that says
        "our own tables" (the history keeps the ones before); the previews are expired."""
        authorize(actor, MANAGE_LOCAL_DATA)
        check_entity_type(entity_type)
        connector_id, connector_name, sync_type = self._connector_id(actor, connector, sync_type)
        with tenant_session(self.sessions, actor.org_id) as s:
            store = LocalDataStore(s, self.vault)
            own = store.history(sync_type, entity_type, connector_id)
            if not own or own[0].kind == "builtin":
                whose = f"connector {connector_name}'s own" if connector_name else "the source's"
                raise InvalidRequest(
                    f"There is no mapping of {sync_type} {entity_type} ({whose}) to stop using."
                )
            return self._save_version(
                s,
                actor,
                (sync_type, entity_type, connector_id, connector_name),
                kind="builtin",
                mapping={},
                summary=f"{entity_type.capitalize()}: back to our own tables (no mapping).",
            )

    def _save_version(
        self,
        s: Session,
        actor: Actor,
        which: tuple[str, str, int | None, str | None],
        *,
        kind: str,
        mapping: dict[str, Any],
        summary: str,
    ) -> MappingVersion:
        """A new version of the mapping of ``which`` (source, entity, connector id and name),
        the previews it feeds expired, and the save logged."""
        sync_type, entity_type, connector_id, connector_name = which
        row = LocalDataStore(s, self.vault).add_version(
            sync_type,
            entity_type,
            connector_id,
            kind=kind,
            mapping=mapping,
            summary=summary,
            by=actor.log_name,
        )
        expired = _expire(s, self.clock(), sync_type, entity_type, connector_id)
        event = MappingSaved(
            sync_type, entity_type, row.version, row.summary, connector_id, connector_name, expired
        )
        record(s, event, by=actor.log_name)
        return _version(row)

    def mapping(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        connector: ConnectorChoice = None,
    ) -> MappingVersion | None:
        """The mapping in force for (source, entity) — of ``connector`` when named (its own,
        else its source's) — or None (our own tables as they are)."""
        authorize(actor, VIEW)
        check_entity_type(entity_type)
        connector_id, _, sync_type = self._connector_id(actor, connector, sync_type)
        with tenant_session(self.sessions, actor.org_id) as s:
            row = LocalDataStore(s, self.vault).in_force(sync_type, entity_type, connector_id)
            return None if row is None or row.kind == "builtin" else _version(row)

    def mappings(self, actor: Actor) -> list[MappingVersion]:
        """Every mapping in force in the organization."""
        authorize(actor, VIEW)
        with tenant_session(self.sessions, actor.org_id) as s:
            rows = LocalDataStore(s, self.vault).all_in_force()
            return [_version(row) for row in rows if row.kind != "builtin"]

    def history(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        connector: ConnectorChoice = None,
    ) -> list[MappingVersion]:
        """Every version of one mapping, newest first (who saved it, when, what)."""
        authorize(actor, VIEW)
        check_entity_type(entity_type)
        connector_id, _, sync_type = self._connector_id(actor, connector, sync_type)
        with tenant_session(self.sessions, actor.org_id) as s:
            rows = LocalDataStore(s, self.vault).history(sync_type, entity_type, connector_id)
            return [_version(row) for row in rows]

    # --- write-back -------------------------------------------------------------------

    def _database_mapping(
        self,
        s: Session,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        connector: ConnectorChoice,
    ) -> tuple[LocalMappingRow, str | None]:
        check_entity_type(entity_type)
        connector_id, connector_name, sync_type = self._connector_id(actor, connector, sync_type)
        row = LocalDataStore(s, self.vault).in_force(sync_type, entity_type, connector_id)
        if row is None or row.kind != "database":
            raise InvalidRequest(
                f"There is no mapping of {sync_type} {entity_type} to your database: write-back "
                "writes through a mapping, so map a table first."
            )
        return row, connector_name

    def write_back(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        connector: ConnectorChoice = None,
    ) -> WriteBackView:
        """The write-back of the mapping in force for (source, entity[, connector])."""
        authorize(actor, VIEW)
        with tenant_session(self.sessions, actor.org_id) as s:
            row, _ = self._database_mapping(s, actor, sync_type, entity_type, connector)
            store = LocalDataStore(s, self.vault)
            return view_of(row, store.write_back(row.sync_type, entity_type, row.connector_id))

    def set_write_back(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        connector: ConnectorChoice = None,
        *,
        enabled: bool,
        write_user: str | None = None,
        write_password: str | None = None,
        keep_password: bool = True,
        active_column: str | None = None,
    ) -> WriteBackView:
        """Switch write-back on (checked first: refused in words, nothing changed, when the
        mapping does not cover what a write needs) or off; logged without any secret."""
        authorize(actor, MANAGE_LOCAL_DATA)
        user = (write_user or "").strip() or None
        column = (active_column or "").strip() or None
        with tenant_session(self.sessions, actor.org_id) as s:
            row, connector_name = self._database_mapping(
                s, actor, sync_type, entity_type, connector
            )
            store = LocalDataStore(s, self.vault)
            mapping = LocalMapping.from_dict(row.mapping)
            old = store.write_back(row.sync_type, entity_type, row.connector_id)
            password = write_password
            if password is None and keep_password and old is not None and old.write_user == user:
                password = store.write_password(old)
            message: str | None = None
            if enabled:
                problem = check(write_settings(store, user, password), mapping, column)
                if problem is not None:
                    raise InvalidRequest(problem + " Write-back stays as it was.")
                message = f"Checked: table {mapping.table} can be written."
            saved = store.set_write_back(
                row.sync_type,
                entity_type,
                row.connector_id,
                enabled=enabled,
                write_user=user,
                write_password=write_password,
                keep_password=keep_password,
                active_column=column,
                by=actor.log_name,
            )
            if message is not None:
                saved.checked_at, saved.check_ok, saved.check_message = self.clock(), True, message
            record(
                s,
                WriteBackSwitched(
                    sync_type=row.sync_type,
                    entity_type=entity_type,
                    enabled=enabled,
                    table=mapping.table,
                    deletes=f"mark inactive via {column}" if column else "delete",
                    separate_credentials=user is not None,
                    connector_id=row.connector_id,
                    connector=connector_name,
                ),
                by=actor.log_name,
            )
            return view_of(row, saved)

    def check_write_back(
        self,
        actor: Actor,
        sync_type: str | None,
        entity_type: str,
        connector: ConnectorChoice = None,
    ) -> WriteBackView:
        """Check now whether applies can write through the mapping (the result is kept and
        shown in words); writes nothing to the organization's database."""
        authorize(actor, MANAGE_LOCAL_DATA)
        with tenant_session(self.sessions, actor.org_id) as s:
            row, _ = self._database_mapping(s, actor, sync_type, entity_type, connector)
            store = LocalDataStore(s, self.vault)
            mapping = LocalMapping.from_dict(row.mapping)
            wb = store.write_back(row.sync_type, entity_type, row.connector_id)
            user = wb.write_user if wb is not None else None
            password = store.write_password(wb) if wb is not None else None
            column = wb.active_column if wb is not None else None
            try:
                problem = check(write_settings(store, user, password), mapping, column)
            except SyncPreviewError as err:
                problem = str(err)
            if wb is None:
                wb = store.set_write_back(
                    row.sync_type,
                    entity_type,
                    row.connector_id,
                    enabled=False,
                    write_user=None,
                    write_password=None,
                    keep_password=True,
                    active_column=None,
                    by=actor.log_name,
                )
            wb.checked_at, wb.check_ok = self.clock(), problem is None
            wb.check_message = problem or f"Table {mapping.table} can be written."
            return view_of(row, wb)

    # --- files ------------------------------------------------------------------------

    def file_columns(self, actor: Actor, data: bytes, file_name: str) -> list[str]:
        """The column titles of a CSV or ``.xlsx`` file (its header row)."""
        authorize(actor, MANAGE_LOCAL_DATA)
        return list(read_table(data, file_name)[0].columns)

    def check_file(
        self,
        actor: Actor,
        entity_type: str,
        data: bytes,
        file_name: str,
        columns: Mapping[str, str] | None = None,
    ) -> ImportReport:
        """The validation report of a file, without importing anything."""
        authorize(actor, MANAGE_LOCAL_DATA)
        check_entity_type(entity_type)
        return _parsed(entity_type, data, file_name, columns)[1]

    def import_file(
        self,
        actor: Actor,
        entity_type: str,
        file: bytes | str | Path,
        *,
        file_name: str | None = None,
        columns: Mapping[str, str] | None = None,
        valid_only: bool = False,
        sync_type: str | None = None,
        connector: ConnectorChoice = None,
    ) -> ImportOutcome:
        """Import a CSV or ``.xlsx`` file into our own tables: it replaces the records of that
        entity for the source named (every source when none is), becomes the mapping in force
        and expires the affected previews. While any row is invalid nothing is imported,
        unless ``valid_only``. Logged either way."""
        authorize(actor, MANAGE_LOCAL_DATA)
        check_entity_type(entity_type)
        if isinstance(file, bytes):
            data, name = file, file_name or "the file"
        else:
            path = Path(file)
            try:
                data = path.read_bytes()
            except OSError:
                raise InvalidRequest(f"{path} cannot be read: check the path.") from None
            name = file_name or path.name
        if connector is not None or sync_type is not None:
            connector_id, _, source = self._connector_id(actor, connector, sync_type)
            targets = [source]
        else:
            connector_id = None
            targets = list(sources.keys())
        frame, report = _parsed(entity_type, data, name, columns)
        if not report.ok and not valid_only:
            with tenant_session(self.sessions, actor.org_id) as s:
                event = FileImported(
                    entity_type,
                    name,
                    report.rows,
                    0,
                    report.invalid_rows,
                    sync_type=targets[0] if len(targets) == 1 else None,
                    sources=targets,
                    error=f"{report.invalid_rows} of {report.rows} rows cannot be read",
                )
                record(s, event, by=actor.log_name)
            return ImportOutcome(report, 0)
        chosen = dict(report.columns)
        match = "id" if "external_id" in chosen else "natural"
        compared = tuple(f for f in COMPARABLE_FIELDS[entity_type] if f in chosen)
        summary = _file_summary(name, frame.data.height, match, entity_type, compared)
        info = {
            "file": name,
            "rows": frame.data.height,
            "match": match,
            "columns": chosen,
            "compared": list(compared),
        }
        with tenant_session(self.sessions, actor.org_id) as s:
            records = LocalRecords(s)
            store = LocalDataStore(s, self.vault)
            expired = 0
            row: LocalMappingRow | None = None
            for source in targets:
                records.clear(source, entity_type)
                for part in frame.data.iter_slices(5_000):
                    records.upsert(source, entity_type, (_stored(r) for r in part.to_dicts()))
                row = store.add_version(
                    source,
                    entity_type,
                    connector_id,
                    kind="file",
                    mapping=info,
                    summary=summary,
                    by=actor.log_name,
                )
                expired += _expire(s, self.clock(), source, entity_type, connector_id)
            event = FileImported(
                entity_type,
                name,
                report.rows,
                frame.data.height,
                report.invalid_rows,
                sync_type=targets[0] if len(targets) == 1 else None,
                sources=targets,
                previews_expired=expired,
            )
            record(s, event, by=actor.log_name)
            assert row is not None
            version = _version(row)
        return ImportOutcome(report, frame.data.height, tuple(targets), version)


def _require(where: str, names: Sequence[str], wanted: Sequence[tuple[str, str]]) -> None:
    """``BadQuery`` for the first wanted column ``names`` lacks."""
    present = set(names)
    for what, column in wanted:
        if column not in present:
            shown = ", ".join(names[:30]) + (", …" if len(names) > 30 else "")
            raise BadQuery(
                f"{where} has no column {column!r} (for {what}); its columns are: {shown}."
            )


def _parsed(
    entity_type: str, data: bytes, name: str, columns: Mapping[str, str] | None
) -> tuple[Any, ImportReport]:
    """``parse_file``, with keys longer than our tables keep reported as problems."""
    frame, report = parse_file(data, entity_type, columns=columns, file_name=name)
    long_keys = frame.data.filter(frame.data["external_id"].str.len_chars() > MAX_KEY)
    if long_keys.height == 0:
        return frame, report
    key_column = dict(report.columns).get("external_id") or dict(report.columns).get(
        NATURAL_KEYS[entity_type], "key"
    )
    problems = tuple(
        ImportProblem(0, key_column, f"{key[:40]!r}… is longer than {MAX_KEY} characters")
        for key in long_keys["external_id"].to_list()[:100]
    )
    frame = type(frame)(
        entity_type, frame.data.filter(frame.data["external_id"].str.len_chars() <= MAX_KEY)
    )
    return frame, ImportReport(
        file=report.file,
        rows=report.rows,
        valid=report.valid - long_keys.height,
        problems=report.problems + problems,
        invalid_rows=report.invalid_rows + long_keys.height,
        columns=report.columns,
    )


def _stored(record_: dict[str, Any]) -> dict[str, Any]:
    """A canonical row as our tables store it (order lines as a list, not JSON text)."""
    lines = record_.get("lines")
    if isinstance(lines, str):
        record_["lines"] = orjson.loads(lines)
    return record_
