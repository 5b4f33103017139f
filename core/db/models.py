"""The tables of Sync Preview (SQLAlchemy 2 typed models).

Every table that holds an organization's data derives from :class:`TenantMixin` (an
``org_id`` column); `core.db.tenancy` makes every ORM query of such a table filter by the
session's organization.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from core.db.clock import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonType = JSON().with_variant(JSONB(), "postgresql")
Money = Numeric(14, 2, asdecimal=True)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone: naive means UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JsonType}


class TenantMixin:
    """An organization's data: every query of it is filtered by ``org_id``."""

    @declared_attr
    def org_id(cls) -> Mapped[int]:  # noqa: N805 - SQLAlchemy's declared_attr signature
        return mapped_column(
            ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, index=True
        )


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(TenantMixin, Base):
    """A user of one organization; usernames are unique within their organization."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("org_id", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))  # admin | editor | viewer
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignInThrottle(Base):
    """Failed sign-ins of one account or one client address, and until when the next sign-in
    of it must wait (growing with each failure; see core/services/signin.py). Not an
    organization's data: addresses are shared, and unknown accounts are counted too."""

    __tablename__ = "sign_in_throttle"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(default=utcnow)
    blocked_until: Mapped[datetime | None] = mapped_column()


class ApiToken(TenantMixin, Base):
    """A bearer token of the JSON API that this server issued: a request's token must be one
    of these and not revoked (the token itself is never stored, only its id)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    subject: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))  # user | service
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by: Mapped[str | None] = mapped_column(String(64))


class IntegrationConnector(TenantMixin, Base):
    """A connection to one external system; previews and selective settings belong to it.

    Each organization has exactly one default connector per source (``is_default``): the
    database allows at most one (a partial unique index), the connector store keeps one
    whenever the source has any (the first added; the next one when it is deleted).
    """

    __tablename__ = "integration_connector"
    __table_args__ = (
        UniqueConstraint("org_id", "name"),
        Index(
            "uq_integration_connector_default",
            "org_id",
            "sync_type",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sync_type: Mapped[str] = mapped_column(String(16))  # woocommerce | odoo
    name: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    base_url: Mapped[str] = mapped_column(String(500))
    credentials_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LocalRecordMixin(TenantMixin):
    """A record in the organization's own database, linked to one external source."""

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Customer(LocalRecordMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("org_id", "source", "external_id"),)

    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(64))
    company: Mapped[str | None] = mapped_column(String(300))
    address_1: Mapped[str | None] = mapped_column(String(300))
    address_2: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str | None] = mapped_column(String(64))
    postcode: Mapped[str | None] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str | None] = mapped_column(String(32))  # active | archived | guest


class Product(LocalRecordMixin, Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("org_id", "source", "external_id"),)

    sku: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(300))
    price: Mapped[Decimal | None] = mapped_column(Money)
    regular_price: Mapped[Decimal | None] = mapped_column(Money)
    sale_price: Mapped[Decimal | None] = mapped_column(Money)
    stock_quantity: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str | None] = mapped_column(String(32))
    type: Mapped[str | None] = mapped_column(String(32))
    parent_id: Mapped[str | None] = mapped_column(String(64))  # a variation's product


class Order(LocalRecordMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("org_id", "source", "external_id"),)

    number: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(32))
    currency: Mapped[str | None] = mapped_column(String(8))
    total: Mapped[Decimal | None] = mapped_column(Money)
    customer_email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime | None] = mapped_column()
    lines: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonType)


LOCAL_MODELS: dict[str, type[Customer] | type[Product] | type[Order]] = {
    "customers": Customer,
    "products": Product,
    "orders": Order,
}


class PreviewCache(TenantMixin, Base):
    """One computed (or failed) preview of one (connector, entity); the newest ready one is
    served. ``sync_type`` is the connector's source, kept for display and filtering."""

    __tablename__ = "sync_preview_cache"
    __table_args__ = (
        Index("ix_preview_cache_lookup", "org_id", "connector_id", "entity_type", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(
        ForeignKey("integration_connector.id", ondelete="CASCADE"), nullable=False
    )
    connector: Mapped[IntegrationConnector] = relationship(lazy="joined", innerjoin=True)
    sync_type: Mapped[str] = mapped_column(String(16))
    entity_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # ready | failed
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    duplicates_collapsed: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    hash_version: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    # What the refresh read: {"not_compared": [fields], "notes": [sentences]} (None: all)
    scope: Mapped[dict[str, Any] | None] = mapped_column(JsonType)


class PreviewRecord(TenantMixin, Base):
    """One new/updated/deleted record of a snapshot."""

    __tablename__ = "sync_preview_record"
    __table_args__ = (Index("ix_preview_record_page", "cache_id", "kind", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cache_id: Mapped[int] = mapped_column(
        ForeignKey("sync_preview_cache.id", ondelete="CASCADE"), nullable=False
    )
    cache: Mapped[PreviewCache] = relationship()
    kind: Mapped[str] = mapped_column(String(8))  # new | updated | deleted
    position: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str] = mapped_column(String(64))
    search_text: Mapped[str] = mapped_column(Text)  # lower-cased e-mail, name, sku, number
    record: Mapped[dict[str, Any]] = mapped_column()
    changes: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonType)


class PreviewLock(TenantMixin, Base):
    """Single-flight: a row exists while one process computes one (org, connector, entity).

    A row whose lease ran out was left by a refresh that never finished (its process died or
    lost the database): whoever takes the lease over keeps who started that one and when
    (``abandoned_by``, ``abandoned_at``), so that it can be told.
    """

    __tablename__ = "sync_preview_lock"
    __table_args__ = (UniqueConstraint("org_id", "connector_id", "entity_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(
        ForeignKey("integration_connector.id", ondelete="CASCADE"), nullable=False
    )
    connector: Mapped[IntegrationConnector] = relationship()
    sync_type: Mapped[str] = mapped_column(String(16))
    entity_type: Mapped[str] = mapped_column(String(16))
    holder: Mapped[str] = mapped_column(String(64))
    started_by: Mapped[str | None] = mapped_column(String(64))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime] = mapped_column()
    abandoned_by: Mapped[str | None] = mapped_column(String(64))
    abandoned_at: Mapped[datetime | None] = mapped_column()


class SelectiveConfig(TenantMixin, Base):
    """Which kinds of change a sync from one connector of one entity may include."""

    __tablename__ = "sync_selective_config"
    __table_args__ = (UniqueConstraint("org_id", "connector_id", "entity_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(
        ForeignKey("integration_connector.id", ondelete="CASCADE"), nullable=False
    )
    connector: Mapped[IntegrationConnector] = relationship()
    sync_type: Mapped[str] = mapped_column(String(16))
    entity_type: Mapped[str] = mapped_column(String(16))
    include_new: Mapped[bool] = mapped_column(Boolean, default=True)
    include_updated: Mapped[bool] = mapped_column(Boolean, default=True)
    include_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ActivityLog(TenantMixin, Base):
    """One event of the audit trail. ``connector_id`` names the connector an event is about
    (no foreign key: the history outlives a deleted connector; its name is in ``details``)."""

    __tablename__ = "sync_activity_log"
    __table_args__ = (
        Index("ix_activity_org_time", "org_id", "created_at"),
        Index("ix_activity_org_connector_time", "org_id", "connector_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    connector_id: Mapped[int | None] = mapped_column(Integer)
    sync_type: Mapped[str | None] = mapped_column(String(16))
    entity_type: Mapped[str | None] = mapped_column(String(16))
    counts: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    cache_hit: Mapped[bool | None] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16), default="ok")  # ok | failed | denied
    error: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserPreference(TenantMixin, Base):
    """One remembered choice of one user (such as the connector they last previewed), kept
    across sign-outs and browsers."""

    __tablename__ = "user_preferences"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    user: Mapped[User] = relationship()
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[dict[str, Any]] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LocalDatabaseRow(TenantMixin, Base):
    """The organization's own database (one per organization): where it is, in the clear
    without the password (``settings``: ``DatabaseSettings.public_dict()``), and the
    password encrypted by the vault. Only ever read (see core/localdb)."""

    __tablename__ = "local_database"
    __table_args__ = (UniqueConstraint("org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # postgresql | mysql | sqlite
    settings: Mapped[dict[str, Any]] = mapped_column()
    password_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    tested_at: Mapped[datetime | None] = mapped_column()
    test_ok: Mapped[bool | None] = mapped_column(Boolean)
    test_message: Mapped[str | None] = mapped_column(Text)


class LocalMappingRow(TenantMixin, Base):
    """One version of where the local side of (source, entity) comes from: a mapping of the
    organization's database (``kind`` "database": ``mapping`` is ``LocalMapping.to_dict()``)
    or a file imported into our own tables (``kind`` "file"). Every save adds a version; the
    newest of a (source, entity, connector) is in force. ``connector_id`` None: every
    connector of the source (a connector's own mapping wins over it)."""

    __tablename__ = "local_mapping"
    __table_args__ = (Index("ix_local_mapping_lookup", "org_id", "sync_type", "entity_type", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sync_type: Mapped[str] = mapped_column(String(16))
    entity_type: Mapped[str] = mapped_column(String(16))
    connector_id: Mapped[int | None] = mapped_column(
        ForeignKey("integration_connector.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # database | file
    mapping: Mapped[dict[str, Any]] = mapped_column()
    summary: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(TenantMixin, Base):
    """A piece of background work of one organization (a refresh now; an apply later): what
    the dashboard, the API and the command line read. The queue only delivers its id.

    ``active_key`` names what the job works on (``refresh:<connector>:<entity>``) while it is
    queued or running, and is cleared when it ends: the unique constraint makes a second
    request for the same work find the first (single flight). ``lease_holder`` and
    ``lease_until`` are the running attempt's lease, renewed by its heartbeat; a running job
    whose lease ran out was abandoned (its worker died) and is run again by another.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("org_id", "active_key"),
        Index("ix_jobs_org_created", "org_id", "created_at"),
        Index("ix_jobs_state_lease", "state", "lease_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    connector_id: Mapped[int | None] = mapped_column(Integer)  # history outlives a connector
    sync_type: Mapped[str | None] = mapped_column(String(16))
    entity_type: Mapped[str | None] = mapped_column(String(16))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    state: Mapped[str] = mapped_column(String(12), default="queued")
    phase: Mapped[str | None] = mapped_column(String(24))
    fraction: Mapped[float] = mapped_column(Float, default=0.0)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    started_by: Mapped[str | None] = mapped_column(String(64))
    actor_kind: Mapped[str] = mapped_column(String(12))
    actor_ref: Mapped[str | None] = mapped_column(String(64))
    active_key: Mapped[str | None] = mapped_column(String(120))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    lease_holder: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonType)


class WorkerBeat(Base):
    """A running worker process (``python -m core worker``), seen alive at ``seen_at``: the
    command line and the API run a refresh themselves when no worker was seen lately."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    threads: Mapped[int] = mapped_column(Integer)
    queue: Mapped[str] = mapped_column(String(16))  # the queue's kind, never its URL
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApplyRun(TenantMixin, Base):
    """One apply of a snapshot to the local side: what was planned, what it did, who asked.

    ``state``: queued -> running -> succeeded | partly_succeeded (conflicts) | failed |
    cancelled; a finished run may become ``undone``. The snapshot is named, not referenced
    (snapshots are pruned; the run and its journal outlive them), and so is the connector.
    At most one run per snapshot: applying a snapshot again resumes its run.
    """

    __tablename__ = "sync_apply_runs"
    __table_args__ = (
        UniqueConstraint("org_id", "snapshot_id"),
        Index("ix_apply_runs_org_connector", "org_id", "connector_id", "entity_type", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(Integer)
    connector_name: Mapped[str] = mapped_column(String(200))
    sync_type: Mapped[str] = mapped_column(String(16))
    entity_type: Mapped[str] = mapped_column(String(16))
    snapshot_id: Mapped[int] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(String(32), default="builtin")
    state: Mapped[str] = mapped_column(String(24), default="queued")
    #: planned record operations: {"create": n, "update": n, "delete": n}
    planned: Mapped[dict[str, Any]] = mapped_column(default=dict)
    excluded: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    #: the last journal id handled: batches take the journal in id order and record all of
    #: their rows in one transaction, so the rows handled are those up to it
    done_through: Mapped[int | None] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    undone_by: Mapped[str | None] = mapped_column(String(64))
    undone_at: Mapped[datetime | None] = mapped_column()
    #: what the undo did: {"restored": n, "conflicts": n}
    undo_counts: Mapped[dict[str, Any] | None] = mapped_column(JsonType)


class ApplyJournal(TenantMixin, Base):
    """One planned record operation of a run (the run's journal), written when the run is
    planned; what became of it is its ``ApplyResult``, written once by the batch that
    handled it (a journal row without one is still to do).

    ``planned``: the snapshot's view of the record (``before`` and ``after`` canonical values,
    ``changes``).
    """

    __tablename__ = "sync_apply_journal"
    __table_args__ = (
        UniqueConstraint("run_id", "external_id"),
        Index("ix_apply_journal_run", "run_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("sync_apply_runs.id", ondelete="CASCADE"), nullable=False
    )
    run: Mapped[ApplyRun] = relationship()
    op: Mapped[str] = mapped_column(String(8))  # create | update | delete
    external_id: Mapped[str] = mapped_column(String(64))
    planned: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ApplyResult(TenantMixin, Base):
    """What became of one journal row: inserted by the batch that handled it, in the same
    transaction as its writes to the built-in store (a second table, not columns of the
    journal: rewriting each journal row with its planned values cost more than the writes).

    ``state``: done | conflict | skipped; ``before``: the local row as it was just before the
    write (the before-image undo restores, with its ``id``); ``after``: the values written;
    ``found``: the local values met instead of the snapshot's (a conflict) or at undo (an
    undo conflict, ``undo_found``). ``journal_id`` names its journal row without a foreign
    key (checking one locked each journal row and cost as much as the rewrite); results go
    with their organization, and a run is never deleted on its own.
    """

    __tablename__ = "sync_apply_result"

    journal_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16))
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    found: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    message: Mapped[str | None] = mapped_column(Text)
    applied_at: Mapped[datetime | None] = mapped_column()
    undo_state: Mapped[str | None] = mapped_column(String(16))  # undone | conflict
    undo_found: Mapped[dict[str, Any] | None] = mapped_column(JsonType)


class WarmChoice(TenantMixin, Base):
    """Whether workers keep one connector's preview of one entity warm, and how often they
    refresh it (``every_minutes``; None: off)."""

    __tablename__ = "sync_warm_choice"
    __table_args__ = (UniqueConstraint("org_id", "connector_id", "entity_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(
        ForeignKey("integration_connector.id", ondelete="CASCADE"), nullable=False
    )
    connector: Mapped[IntegrationConnector] = relationship()
    sync_type: Mapped[str] = mapped_column(String(16))
    entity_type: Mapped[str] = mapped_column(String(16))
    every_minutes: Mapped[int | None] = mapped_column(Integer)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: when the scheduler stopped warming it after a terminal error, the error's sentence and
    #: kind (``core.errors`` class name); None while it is warmed
    stopped_at: Mapped[datetime | None] = mapped_column()
    stopped_reason: Mapped[str | None] = mapped_column(Text)
    stopped_error: Mapped[str | None] = mapped_column(String(64))
    #: when a change of the connector cleared a stop: failures before it do not back off
    resumed_at: Mapped[datetime | None] = mapped_column()


class LocalWriteBack(TenantMixin, Base):
    """Whether applies of (source, entity[, connector]) write to the organization's own
    database through the mapping in force (``enabled``; off by default, switched by an
    admin), with which credentials (``write_user`` and the vault-encrypted password; None:
    the connection's own), and what a deletion does (``delete_mode`` "delete", or
    "deactivate": ``active_column`` set to false). ``check_*``: the last check, in words."""

    __tablename__ = "local_write_back"
    __table_args__ = (UniqueConstraint("org_id", "sync_type", "entity_type", "connector_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sync_type: Mapped[str] = mapped_column(String(16))
    entity_type: Mapped[str] = mapped_column(String(16))
    connector_id: Mapped[int | None] = mapped_column(
        ForeignKey("integration_connector.id", ondelete="CASCADE")
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    write_user: Mapped[str | None] = mapped_column(String(128))
    write_password_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    delete_mode: Mapped[str] = mapped_column(String(16), default="delete")
    active_column: Mapped[str | None] = mapped_column(String(128))
    checked_at: Mapped[datetime | None] = mapped_column()
    check_ok: Mapped[bool | None] = mapped_column(Boolean)
    check_message: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


TENANT_MODELS: tuple[type[Base], ...] = (
    User,
    IntegrationConnector,
    Customer,
    Product,
    Order,
    PreviewCache,
    PreviewRecord,
    PreviewLock,
    SelectiveConfig,
    ActivityLog,
    UserPreference,
    ApiToken,
    LocalDatabaseRow,
    LocalMappingRow,
    Job,
    ApplyRun,
    ApplyJournal,
    ApplyResult,
    WarmChoice,
    LocalWriteBack,
)
