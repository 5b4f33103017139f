"""build_services(settings): the one place that wires the concrete parts together."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.config import Settings, load_settings
from core.connectors import Connector, ConnectorConfig, build_connector
from core.db.connector_store import ConnectorSecretConfig
from core.db.engine import make_engine, make_session_factory
from core.db.migrate import upgrade_to_head
from core.db.tenancy import store_errors
from core.db.vault import Vault
from core.jobs import JobKinds
from core.jobs.queue import JobQueue
from core.services.accounts import AccountService
from core.services.activity import ActivityService
from core.services.api_tokens import ApiTokenService
from core.services.apply import ApplyService
from core.services.connectors import ConnectorService
from core.services.demo import DemoService, SandboxPool
from core.services.health import HealthService
from core.services.jobs import JobService
from core.services.local_data import LocalDataService
from core.services.preferences import PreferenceService
from core.services.previews import Clock, DeltaDetectionService
from core.services.ratelimit import OrgRateLimiter, RefreshLimiter
from core.services.selective import SelectiveSyncService
from core.services.warming import WarmingService


@dataclass(frozen=True)
class Services:
    """Every use case, sharing one engine; built once per process, holds no per-user state."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    accounts: AccountService
    api_tokens: ApiTokenService
    connectors: ConnectorService
    local_data: LocalDataService
    previews: DeltaDetectionService
    selective: SelectiveSyncService
    warming: WarmingService
    apply: ApplyService
    activity: ActivityService
    preferences: PreferenceService
    demo: DemoService
    sandboxes: SandboxPool
    api_limiter: OrgRateLimiter
    health: HealthService
    jobs: JobService

    def close(self) -> None:
        """Stop in-process sandboxes; release database connections."""
        self.sandboxes.close()
        if self.jobs.queue is not None:
            self.jobs.queue.close()
        self.engine.dispose()


def build_services(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    rate_limit_namespace: str = "syncpreview",
    queue: bool = True,
) -> Services:
    """Connect to the database (migrating it), and build every service (``queue=False``:
    without the workers' queue; refreshes then run only in the caller's process)."""
    settings = settings or load_settings()
    assert settings.secret_key is not None
    if migrate:
        with store_errors():  # a database that does not answer is a sentence, not a traceback
            upgrade_to_head(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    sessions = make_session_factory(engine)
    vault = Vault(settings.secret_key)
    sandboxes = SandboxPool()

    def connect(config: ConnectorSecretConfig, deadline: float | None) -> Connector:
        return build_connector(
            ConnectorConfig(config.sync_type, config.base_url, config.credentials, config.options),
            timeout=settings.external_timeout_seconds,
            deadline=deadline,
            concurrency=settings.fetch_concurrency,
        )

    limiter = RefreshLimiter(settings.rate_limit, settings.redis_url, rate_limit_namespace)
    api_limiter = OrgRateLimiter(
        settings.api_rate_limit,
        settings.redis_url,
        rate_limit_namespace,
        kind="api",
        setting="API_RATE_LIMIT",
    )
    previews = DeltaDetectionService(
        sessions,
        vault,
        connect,
        limiter,
        ttl_seconds=settings.preview_ttl_seconds,
        refresh_deadline_seconds=settings.refresh_deadline_seconds,
        wait_seconds=settings.single_flight_wait_seconds,
        lease_seconds=settings.refresh_lease_seconds,
        change_guard_percent=settings.change_guard_percent,
        clock=clock,
    )
    accounts = AccountService(sessions, clock)
    # every kind of job is registered here: "refresh" by the previews, "apply" and "undo" by
    # the apply service, "demo" by the demo service (their use_jobs)
    kinds = JobKinds()
    jobs = JobService(
        sessions,
        accounts,
        kinds,
        JobQueue(settings.queue_location) if queue else None,
        lease_seconds=settings.refresh_lease_seconds,
        worker_seen_seconds=settings.scheduler_seconds * 3,
        clock=clock,
    )
    previews.use_jobs(jobs)
    warming = WarmingService(sessions, clock)
    previews.use_warming(warming)
    apply = ApplyService(sessions, clock=clock, batch_size=settings.apply_batch_size, vault=vault)
    apply.use_jobs(jobs)
    demo = DemoService(sessions, vault, connect, sandboxes)
    demo.use_jobs(jobs)
    services = Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        accounts=accounts,
        api_tokens=ApiTokenService(sessions, clock),
        connectors=ConnectorService(sessions, vault, connect, clock),
        local_data=LocalDataService(sessions, vault, clock),
        previews=previews,
        selective=SelectiveSyncService(sessions),
        warming=warming,
        apply=apply,
        activity=ActivityService(sessions),
        preferences=PreferenceService(sessions),
        demo=demo,
        sandboxes=sandboxes,
        api_limiter=api_limiter,
        health=HealthService(
            sessions, (limiter, api_limiter), lambda: previews.snapshots.pending_failures
        ),
        jobs=jobs,
    )
    services.demo.resume()  # the demo's sandbox ended with the last process: start it here
    return services


_shared: Services | None = None
_shared_lock = threading.Lock()


def shared_services() -> Services:
    """The process's one Services, built on first use from the environment's settings
    (the dashboard's pages and the JSON API mounted beside them share it)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = build_services()
        return _shared


def close_shared_services() -> None:
    """Close and forget the process's Services (tests that change settings between runs)."""
    global _shared
    with _shared_lock:
        if _shared is not None:
            _shared.close()
        _shared = None
