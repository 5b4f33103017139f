"""How to reach the organization's own database: ``DatabaseSettings``.

Built from fields (host, port, database, user, password) or from a URL; a URL's password is
taken out into its own field, so that the settings can be stored without it (the password
goes to the vault) and so that it never appears in a message, a log or a ``repr``.

    DatabaseSettings.from_url("postgresql://crm@db.internal:5432/crm", password="...")
    DatabaseSettings(kind="mysql", host="db", database="shop", user="sync", password=...)
    DatabaseSettings(kind="sqlite", database="/srv/data/shop.db")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.errors import InvalidRequest

Kind = Literal["postgresql", "mysql", "sqlite"]
KINDS: Final[tuple[Kind, ...]] = ("postgresql", "mysql", "sqlite")
KIND_LABELS: Final[dict[Kind, str]] = {
    "postgresql": "PostgreSQL",
    "mysql": "MySQL / MariaDB",
    "sqlite": "SQLite",
}
DEFAULT_PORTS: Final[dict[Kind, int]] = {"postgresql": 5432, "mysql": 3306}

#: URL schemes (with or without a ``+driver`` suffix) and the kind each names.
_SCHEMES: Final[dict[str, Kind]] = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
}
#: Driver suffixes we accept in a URL (the drivers this package uses).
_DRIVERS: Final[dict[Kind, frozenset[str]]] = {
    "postgresql": frozenset({"", "psycopg2"}),
    "mysql": frozenset({"", "pymysql"}),
    "sqlite": frozenset({"", "pysqlite"}),
}
#: Connection options a URL may carry (``?sslmode=require``); anything else is refused.
_OPTIONS: Final[dict[Kind, frozenset[str]]] = {
    "postgresql": frozenset({"sslmode", "sslrootcert", "application_name"}),
    "mysql": frozenset({"charset"}),
    "sqlite": frozenset(),
}


def _secret(value: str | SecretStr | None) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(value)


@dataclass(frozen=True)
class DatabaseSettings:
    """Where the organization's database is and how long a read may take.

    ``database`` is the database name (PostgreSQL, MySQL) or the file's path (SQLite).
    ``password`` is a ``SecretStr``: its ``repr`` and ``str`` are masked, and
    ``public_dict()`` leaves it out.
    """

    kind: Kind
    database: str
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: SecretStr | None = field(default=None, repr=False, compare=False)
    options: tuple[tuple[str, str], ...] = ()
    connect_timeout: float = 10.0
    statement_timeout: float = 60.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "password", _secret(self.password))
        self.validate()

    # --- building ---------------------------------------------------------------------

    @classmethod
    def from_url(
        cls, url: str, *, password: str | SecretStr | None = None, **overrides: Any
    ) -> DatabaseSettings:
        """Settings from a URL (``postgresql://user:pw@host:5432/db``, ``sqlite:///path``).

        A password in the URL is taken out into ``password``; ``password=`` wins over it.
        """
        try:
            parsed = make_url(url.strip())
        except ArgumentError:
            raise InvalidRequest(
                "That is not a database URL; write it as "
                "postgresql://USER@HOST:5432/DATABASE, mysql://USER@HOST:3306/DATABASE "
                "or sqlite:///PATH/TO/FILE.db."
            ) from None
        scheme, _, driver = parsed.drivername.partition("+")
        kind = _SCHEMES.get(scheme.lower())
        if kind is None:
            raise InvalidRequest(
                f"Unsupported database type {scheme!r}: use postgresql, mysql (or mariadb) or "
                "sqlite."
            )
        if driver.lower() not in _DRIVERS[kind]:
            raise InvalidRequest(
                f"Unsupported driver {driver!r} for {KIND_LABELS[kind]}; leave it out of the URL."
            )
        options = tuple(
            (str(key), str(value if isinstance(value, str) else value[-1]))
            for key, value in sorted(parsed.query.items())
        )
        values: dict[str, Any] = {
            "kind": kind,
            "database": parsed.database or "",
            "host": parsed.host,
            "port": parsed.port,
            "user": parsed.username,
            "password": password if password is not None else parsed.password,
            "options": options,
        }
        values.update(overrides)
        return cls(**values)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, password: str | SecretStr | None = None
    ) -> DatabaseSettings:
        """Settings from ``public_dict()``'s shape, with the password given apart."""
        known = {
            "kind",
            "database",
            "host",
            "port",
            "user",
            "options",
            "connect_timeout",
            "statement_timeout",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidRequest(f"Unknown database setting(s): {', '.join(unknown)}.")
        values = dict(data)
        values["options"] = tuple(
            (str(k), str(v)) for k, v in dict(values.get("options") or {}).items()
        )
        return cls(**values, password=_secret(password))

    def with_password(self, password: str | SecretStr | None) -> DatabaseSettings:
        """The same settings with another password (from the vault, or none)."""
        return replace(self, password=_secret(password))

    # --- checking and showing ---------------------------------------------------------

    def validate(self) -> None:
        """Raise ``InvalidRequest`` for settings that cannot name a database."""
        if self.kind not in KINDS:
            raise InvalidRequest(
                f"Unsupported database type {self.kind!r}: use {', '.join(KINDS)}."
            )
        if not self.database.strip():
            what = "the path of the SQLite file" if self.kind == "sqlite" else "a database name"
            raise InvalidRequest(f"Give {what}.")
        if self.kind == "sqlite":
            if self.host or self.user or self.password is not None:
                raise InvalidRequest(
                    "An SQLite database is a file: give its path only (no host, user or password)."
                )
        elif not self.host:
            raise InvalidRequest(f"Give the host name of the {KIND_LABELS[self.kind]} server.")
        if self.port is not None and not 0 < self.port < 65536:
            raise InvalidRequest(f"Port {self.port} is not a port number (1-65535).")
        allowed = _OPTIONS[self.kind]
        for key, _ in self.options:
            if key not in allowed:
                choices = ", ".join(sorted(allowed)) or "none"
                raise InvalidRequest(
                    f"Unsupported option {key!r} for {KIND_LABELS[self.kind]} (allowed: {choices})."
                )
        if not 0 < self.connect_timeout <= 300 or not 0 < self.statement_timeout <= 3600:
            raise InvalidRequest(
                "Time limits must be positive: at most 300 s to connect, 3600 s for a query."
            )

    @property
    def effective_port(self) -> int | None:
        """The port, or the kind's default port (None for SQLite)."""
        return self.port if self.port is not None else DEFAULT_PORTS.get(self.kind)

    @property
    def label(self) -> str:
        """Where the database is, in words and without a secret (``PostgreSQL crm on db:5432``)."""
        if self.kind == "sqlite":
            return f"the SQLite file {self.database}"
        return f"{KIND_LABELS[self.kind]} database {self.database} on {self.address}"

    @property
    def address(self) -> str:
        """``host:port`` (the file's path for SQLite)."""
        if self.kind == "sqlite":
            return self.database
        return f"{self.host}:{self.effective_port}"

    def public_url(self) -> str:
        """The URL without the password (``postgresql://crm@db:5432/crm``)."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.database}"
        user = f"{self.user}@" if self.user else ""
        query = "&".join(f"{key}={value}" for key, value in self.options)
        return f"{self.kind}://{user}{self.address}/{self.database}" + (
            f"?{query}" if query else ""
        )

    def public_dict(self) -> dict[str, Any]:
        """Everything but the password, JSON-serializable (what may be stored in the clear)."""
        return {
            "kind": self.kind,
            "database": self.database,
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "options": dict(self.options),
            "connect_timeout": self.connect_timeout,
            "statement_timeout": self.statement_timeout,
        }

    def password_value(self) -> str | None:
        """The password in the clear: only for the driver's connect call."""
        return None if self.password is None else self.password.get_secret_value()

    def __str__(self) -> str:
        return self.public_url()
