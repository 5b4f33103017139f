"""One settings object, read from the environment, `.env` and `.streamlit/secrets.toml`.

Every setting has a default and one line of help; the README lists them all (a test checks
that it does). Nothing is read at import time: call :func:`load_settings`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.errors import ConfigError


class Settings(BaseSettings):
    """What an operator can set. Environment variables use the upper-case field names."""

    model_config = SettingsConfigDict(
        env_file=".env",
        extra="ignore",
        toml_file=".streamlit/secrets.toml",
        case_sensitive=False,
    )

    data_dir: Path = Field(
        Path("data"), description="Folder for the embedded SQLite database and generated keys."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; empty means an SQLite file in DATA_DIR. "
        "PostgreSQL: postgresql+psycopg2://user@host:5432/db",
    )
    redis_url: str | None = Field(
        None,
        description="Redis URL (redis://127.0.0.1:6379/0) so that app processes share "
        "rate-limit counts; empty keeps them in memory.",
    )
    secret_key: str | None = Field(
        None,
        description="Fernet key that encrypts connector credentials; generated once into "
        "DATA_DIR/secret.key (mode 0600) when empty.",
    )
    cookie_key: str | None = Field(
        None,
        description="Key (>= 32 bytes) that signs the login cookie; generated once into "
        "DATA_DIR/cookie.key when empty. Changing it signs everyone out.",
    )
    preview_ttl_seconds: int = Field(
        3600, ge=1, description="How long a computed preview is served from the cache."
    )
    rate_limit: str = Field(
        "10/minute", description="Fresh preview computations allowed per organization."
    )
    change_guard_percent: float = Field(
        30.0,
        gt=0,
        le=100,
        description="The Preview warns when more than this share of an entity's existing local "
        "records would change or be deleted (a wrong mapping or an emptied store).",
    )
    apply_batch_size: int = Field(
        2_000,
        ge=1,
        le=10_000,
        description="Records an apply writes per transaction (a killed apply resumes after the "
        "last whole batch).",
    )
    external_timeout_seconds: float = Field(
        30.0, gt=0, description="Hard wall-time limit of one call to WooCommerce or Odoo."
    )
    refresh_deadline_seconds: float = Field(
        600.0, gt=0, description="Overall time limit of one preview refresh."
    )
    fetch_concurrency: int = Field(
        6, ge=1, le=32, description="Pages fetched at once from an external system."
    )
    single_flight_wait_seconds: float = Field(
        120.0, gt=0, description="How long a caller waits for a refresh another caller runs."
    )
    refresh_lease_seconds: float = Field(
        15.0,
        ge=1,
        description="Lease of a running refresh, renewed by its heartbeat every third of it: "
        "a refresh whose process died blocks its preview at most this long.",
    )
    queue_url: str | None = Field(
        None,
        description="Where the background workers' queue lives: sqlite:///path, "
        "postgresql://user@host/db or redis://host:6379/0. Empty: Redis when REDIS_URL is set, "
        "else PostgreSQL when DATABASE_URL is PostgreSQL, else DATA_DIR/queue.db (SQLite).",
    )
    worker_threads: int = Field(
        2, ge=1, le=64, description="Jobs one `python -m core worker` runs at once (--workers)."
    )
    scheduler_seconds: float = Field(
        10.0,
        gt=0,
        description="How often each worker looks for work to schedule: previews to keep warm, "
        "jobs whose worker died (their lease ran out), and announces itself as alive.",
    )
    warm_previews: bool = Field(
        True,
        description="The global switch of always-warm previews: workers refresh the previews "
        "an organization chose to keep warm (Selective sync, admins; `python -m core warm`), "
        "done by 'scheduler' and not counted against RATE_LIMIT. Off: none is warmed.",
    )
    warm_ahead_seconds: float = Field(
        300.0,
        ge=0,
        description="How long before its expiry a warm preview is refreshed.",
    )
    warm_per_org: int = Field(
        2, ge=1, description="Scheduled refreshes of one organization queued or running at once."
    )
    login_sleep_seconds: float = Field(
        0.7, ge=0, description="Pause after each failed sign-in (slows guessing)."
    )
    cookie_expiry_days: float = Field(7.0, ge=0, description="How long 'stay signed in' lasts.")
    api_jwt_secret: str | None = Field(
        None,
        description="Key (>= 32 bytes) that signs the JSON API's bearer tokens (HS256, with "
        "an org_id claim); empty keeps the API closed.",
    )
    api_trusted_gateway: bool = Field(
        False,
        description="Take the organization from the X-Org-Id header without a token: only "
        "behind a gateway that authenticates every caller.",
    )
    api_rate_limit: str = Field("10/minute", description="JSON API requests per organization.")

    @field_validator(
        "database_url", "redis_url", "queue_url", "secret_key", "cookie_key", "api_jwt_secret"
    )
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        """``NAME=`` (set but empty) means the same as not set: the documented default."""
        return value if value is None or value.strip() else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls),
        )

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL to connect to (the embedded SQLite file by default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'syncpreview.db').resolve()}"

    @property
    def queue_location(self) -> str:
        """The queue's URL: QUEUE_URL, else REDIS_URL, else a PostgreSQL DATABASE_URL, else
        an SQLite file beside the embedded database."""
        if self.queue_url:
            return self.queue_url
        if self.redis_url:
            return self.redis_url
        if self.database_url and self.database_url.startswith("postgresql"):
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'queue.db').resolve()}"

    @property
    def is_embedded(self) -> bool:
        """True when running on the embedded SQLite default."""
        return not self.database_url


def _key_file(data_dir: Path, name: str, make: Any) -> str:
    """Read a generated key from DATA_DIR, creating it (mode 0600) on first use."""
    path = data_dir / name
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value: str = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def load_settings(**overrides: Any) -> Settings:
    """Read the settings and fill in generated keys for the embedded default."""
    settings = Settings(**overrides)
    if not settings.secret_key:
        settings.secret_key = _key_file(
            settings.data_dir, "secret.key", lambda: Fernet.generate_key().decode()
        )
    if not settings.cookie_key:
        settings.cookie_key = _key_file(
            settings.data_dir, "cookie.key", lambda: secrets.token_urlsafe(48)
        )
    try:
        Fernet(settings.secret_key.encode())
    except ValueError as exc:
        raise ConfigError(
            "SECRET_KEY is not a valid Fernet key (32 url-safe base64-encoded bytes)."
        ) from exc
    if len(settings.cookie_key) < 32:
        raise ConfigError("COOKIE_KEY must be at least 32 characters long.")
    if settings.api_jwt_secret is not None and len(settings.api_jwt_secret) < 32:
        raise ConfigError("API_JWT_SECRET must be at least 32 characters long.")
    return settings
