"""What the activity log records: one frozen dataclass per kind of event.

Each event class names its action (``name``, the log's ``action`` column) and holds what is
worth keeping about it. The fields ``connector_id``, ``sync_type``, ``entity_type``,
``counts``, ``duration_ms`` and ``error`` fill the log's columns of those names; every other
field goes to ``details`` (None values left out): an event about a connector keeps its name
there (``connector``), so that the log still names it once it is deleted. An event with an
error has the status "failed".
:func:`record` writes one in the caller's transaction, so that an operation and its log row
are stored together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from core.db.audit import ActivityStore

COLUMNS = ("connector_id", "sync_type", "entity_type", "counts", "duration_ms", "error")


@dataclass(frozen=True)
class ActivityEvent:
    """Base of every event: its action name, and how it fills a row of the log."""

    name: ClassVar[str]
    #: Whether the preview came from the cache (previews only).
    cache_hit: ClassVar[bool | None] = None

    @property
    def status(self) -> str:
        return "failed" if getattr(self, "error", None) else "ok"

    def details(self) -> dict[str, Any] | None:
        """The fields that are not columns (None values left out), or None."""
        out = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in COLUMNS and getattr(self, f.name) is not None
        }
        return out or None

    def column(self, name: str) -> Any:
        return getattr(self, name, None)


# --- previews ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewViewed(ActivityEvent):
    """A preview served from the cache."""

    name = "view"
    cache_hit = True
    connector_id: int
    connector: str
    sync_type: str
    entity_type: str
    counts: Mapping[str, int]
    duration_ms: int = 0


@dataclass(frozen=True)
class PreviewRefreshed(ActivityEvent):
    """A preview computed afresh and stored."""

    name = "refresh"
    cache_hit = False
    connector_id: int
    connector: str
    sync_type: str
    entity_type: str
    counts: Mapping[str, int]
    duration_ms: int
    duplicates_collapsed: int


@dataclass(frozen=True)
class RefreshFailed(ActivityEvent):
    """A refresh that failed; the previous good preview stays. ``reference`` finds a bug's
    traceback in the server's log."""

    name = "refresh"
    cache_hit = False
    connector_id: int
    connector: str
    sync_type: str
    entity_type: str
    duration_ms: int
    error: str
    error_type: str
    reference: str | None = None


@dataclass(frozen=True)
class RefreshAbandoned(ActivityEvent):
    """A refresh that stopped without finishing (its process died or lost the database),
    found when the next refresh took its lease over; logged in the name of whoever started
    it."""

    name = "refresh"
    cache_hit = False
    connector_id: int
    connector: str
    sync_type: str
    entity_type: str
    error: str
    started_at: str


@dataclass(frozen=True)
class PreviewsExpired(ActivityEvent):
    """Cached previews expired by hand (of one connector or source, one entity, or all)."""

    name = "invalidate"
    sync_type: str | None
    entity_type: str | None
    snapshots: int
    connector_id: int | None = None
    connector: str | None = None


@dataclass(frozen=True)
class SelectiveSyncSaved(ActivityEvent):
    """Which kinds of change a sync from one connector of one entity may include."""

    name = "select"
    connector_id: int
    connector: str
    sync_type: str
    entity_type: str
    include_new: bool
    include_updated: bool
    include_deleted: bool

    def details(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "includeNew": self.include_new,
            "includeUpdated": self.include_updated,
            "includeDeleted": self.include_deleted,
        }


@dataclass(frozen=True)
class WarmChoiceSaved(ActivityEvent):
    """Whether workers keep one connector's preview of one entity warm, and how often."""

    name = "warm"
    connector_id: int
    connector: str
    sync_type: str
    entity_type: str
    every_minutes: int | None

    def details(self) -> dict[str, Any]:
        return {"connector": self.connector, "everyMinutes": self.every_minutes}


@dataclass(frozen=True)
class WarmingStopped(ActivityEvent):
    """The scheduler stopped keeping a preview warm (``entity_type`` None: every preview of
    the connector) after an error that retrying will not fix; ``error`` is its sentence."""

    name = "warm_stop"
    connector_id: int
    connector: str
    sync_type: str
    entity_type: str | None
    error: str
    error_type: str
    entities: tuple[str, ...]

    def details(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "errorType": self.error_type,
            "entities": list(self.entities),
        }


# --- applying a sync -------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplyStarted(ActivityEvent):
    """An apply of a preview was started: run ``run_id``, what it plans (``counts``:
    create/update/delete) and how many records were left out by hand (``excluded``)."""

    name = "apply_started"
    connector_id: int
    connector: str
    sync_type: str
    entity_type: str
    run_id: int
    snapshot_id: int
    counts: Mapping[str, int]
    excluded: int = 0
    target: str | None = None


@dataclass(frozen=True)
class SyncApplied(ActivityEvent):
    """An apply run that ended: what it did (``counts``: created/updated/deleted/conflicts/
    skipped) or why it stopped (``error``; the run can be resumed)."""

    name = "apply"
    connector_id: int
    connector: str
    sync_type: str
    entity_type: str
    run_id: int
    counts: Mapping[str, int]
    duration_ms: int | None = None
    state: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class SyncUndone(ActivityEvent):
    """An apply run undone: records restored, and those left as they are because they
    changed after the apply (``counts``: restored/conflicts)."""

    name = "undo"
    connector_id: int
    connector: str
    sync_type: str
    entity_type: str
    run_id: int
    counts: Mapping[str, int]


# --- signing in -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedIn(ActivityEvent):
    """A sign-in with a password; ``client`` is the address it came from (when known)."""

    name = "login"
    client: str | None = None


@dataclass(frozen=True)
class SignedOut(ActivityEvent):
    name = "logout"


@dataclass(frozen=True)
class SignInFailed(ActivityEvent):
    """A wrong password for a user of the organization; after a few in a row the next
    sign-in waits ``wait_seconds`` (core/services/signin.py)."""

    name = "login"
    error: str
    failures: int | None = None
    wait_seconds: int | None = None
    client: str | None = None


@dataclass(frozen=True)
class OrganizationSetUp(ActivityEvent):
    """First run: the organization and its first admin were created."""

    name = "setup"
    org: str


@dataclass(frozen=True)
class DemoLoaded(ActivityEvent):
    """Demo connectors and local records were loaded: records per source."""

    name = "demo_loaded"
    records: Mapping[str, int]

    def details(self) -> dict[str, Any]:
        return dict(self.records)


# --- connectors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectorAdded(ActivityEvent):
    name = "connector_added"
    connector_id: int
    connector: str
    sync_type: str
    base_url: str


@dataclass(frozen=True)
class ConnectorUpdated(ActivityEvent):
    """A connector changed; only the names of changed credentials are kept."""

    name = "connector_updated"
    connector_id: int
    connector: str
    sync_type: str
    credentials_changed: list[str]


@dataclass(frozen=True)
class ConnectorDeleted(ActivityEvent):
    """A connector deleted (with its previews and settings); ``new_default`` names the
    connector that became its source's default instead."""

    name = "connector_deleted"
    connector_id: int
    connector: str
    sync_type: str
    new_default: str | None = None


@dataclass(frozen=True)
class ConnectorMadeDefault(ActivityEvent):
    """A connector became the one used for its source when no connector is named."""

    name = "connector_default"
    connector_id: int
    connector: str
    sync_type: str


@dataclass(frozen=True)
class ConnectorTested(ActivityEvent):
    """A connection test; ``error`` says why it failed."""

    name = "connector_tested"
    connector_id: int
    connector: str
    sync_type: str
    error: str | None = None


# --- your own data ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalDatabaseSet(ActivityEvent):
    """The organization's own database was connected or changed (never its password; only
    whether one was given)."""

    name = "localdb_set"
    kind: str
    address: str
    password_changed: bool
    previews_expired: int = 0


@dataclass(frozen=True)
class LocalDatabaseRemoved(ActivityEvent):
    name = "localdb_removed"
    address: str


@dataclass(frozen=True)
class LocalDatabaseTested(ActivityEvent):
    """A connection test of the organization's database; ``error`` says why it failed."""

    name = "localdb_tested"
    address: str
    error: str | None = None


@dataclass(frozen=True)
class MappingSaved(ActivityEvent):
    """A new version of where the local records of (source, entity) come from."""

    name = "mapping_saved"
    sync_type: str
    entity_type: str
    version: int
    summary: str
    connector_id: int | None = None
    connector: str | None = None
    previews_expired: int = 0


@dataclass(frozen=True)
class WriteBackSwitched(ActivityEvent):
    """An admin switched write-back to the organization's database on or off for one
    mapping (never a password: only whether separate write credentials are set)."""

    name = "write_back_switched"
    sync_type: str
    entity_type: str
    enabled: bool
    table: str | None = None
    deletes: str = "delete"  # "delete", or "mark inactive via <column>"
    separate_credentials: bool = False
    connector_id: int | None = None
    connector: str | None = None


@dataclass(frozen=True)
class FileImported(ActivityEvent):
    """A CSV or Excel file imported into our own tables (or refused: ``error``)."""

    name = "file_imported"
    entity_type: str
    file: str
    rows: int
    imported: int
    invalid_rows: int
    sync_type: str | None = None
    sources: list[str] | None = None
    error: str | None = None
    previews_expired: int = 0


# --- users ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserAdded(ActivityEvent):
    name = "user_added"
    username: str
    role: str


@dataclass(frozen=True)
class PasswordReset(ActivityEvent):
    name = "password_reset"
    username: str


@dataclass(frozen=True)
class UserUnlocked(ActivityEvent):
    """An admin or the operator cleared a user's failed sign-ins."""

    name = "user_unlocked"
    username: str
    had_failures: bool


@dataclass(frozen=True)
class ApiTokenIssued(ActivityEvent):
    name = "api_token_issued"
    token_id: str
    subject: str
    kind: str


@dataclass(frozen=True)
class ApiTokenRevoked(ActivityEvent):
    name = "api_token_revoked"
    token_id: str
    subject: str


@dataclass(frozen=True)
class RoleChanged(ActivityEvent):
    name = "role_changed"
    username: str
    role: str


@dataclass(frozen=True)
class UserActivated(ActivityEvent):
    name = "user_activated"
    username: str


@dataclass(frozen=True)
class UserDeactivated(ActivityEvent):
    name = "user_deactivated"
    username: str


EVENT_TYPES: tuple[type[ActivityEvent], ...] = (
    PreviewViewed,
    PreviewRefreshed,
    RefreshFailed,
    RefreshAbandoned,
    PreviewsExpired,
    SelectiveSyncSaved,
    WarmChoiceSaved,
    ApplyStarted,
    SyncApplied,
    SyncUndone,
    SignedIn,
    SignInFailed,
    SignedOut,
    OrganizationSetUp,
    DemoLoaded,
    ConnectorAdded,
    ConnectorUpdated,
    ConnectorDeleted,
    ConnectorMadeDefault,
    ConnectorTested,
    LocalDatabaseSet,
    LocalDatabaseTested,
    LocalDatabaseRemoved,
    MappingSaved,
    WriteBackSwitched,
    FileImported,
    UserAdded,
    PasswordReset,
    UserUnlocked,
    RoleChanged,
    UserActivated,
    UserDeactivated,
    ApiTokenIssued,
    ApiTokenRevoked,
)
#: Every action the log can hold, in the order the Activity screen offers them.
ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(e.name for e in EVENT_TYPES))


def record(
    session: Session, event: ActivityEvent, *, by: str | None, at: datetime | None = None
) -> None:
    """Append ``event``, done by ``by`` (an actor's ``log_name``), in ``session``'s
    transaction."""
    ActivityStore(session).add(
        event.name,
        user=by,
        connector_id=event.column("connector_id"),
        sync_type=event.column("sync_type"),
        entity_type=event.column("entity_type"),
        counts=event.column("counts"),
        duration_ms=event.column("duration_ms"),
        cache_hit=event.cache_hit,
        status=event.status,
        error=event.column("error"),
        details=event.details(),
        at=at,
    )
