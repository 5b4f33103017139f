"""Driver errors of the organization's database mapped to the project's error tree.

Each message is a plain sentence that says what to check; none carries the password (the
drivers' own texts never hold it, and only their first line, about the server's answer, is
quoted).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Final

import psycopg2
import pymysql

from core.errors import (
    AuthError,
    BadQuery,
    ExternalTimeout,
    RemoteNotFound,
    SyncPreviewError,
    Unreachable,
    WriteRefused,
)
from core.localdb.settings import KIND_LABELS, DatabaseSettings

WRITE_REFUSED: Final = (
    "The query tried to change data in {where}; Sync Preview only reads your database, so "
    "nothing was changed. Write a single SELECT."
)

# MySQL / MariaDB error numbers (server and client).
_MY_AUTH: Final = {1044, 1045, 1698, 1251}
_MY_UNKNOWN_DB: Final = {1049}
_MY_READ_ONLY: Final = {1792, 1290, 1836}
_MY_TIMEOUT: Final = {1969, 3024, 1317}
_MY_UNREACHABLE: Final = {2002, 2003, 2005, 2006}
_MY_LOST: Final = {2013}
_MY_DENIED_COMMAND: Final = {1142}

_PG_UNKNOWN_DB = re.compile(r'database "(?P<name>[^"]*)" does not exist')
_PG_AUTH = re.compile(
    r"password authentication failed|role \"[^\"]*\" does not exist|no password supplied"
    r"|pg_hba\.conf|authentication failed|SCRAM|password is required",
    re.IGNORECASE,
)
_PG_TIMEOUT = re.compile(r"timeout expired", re.IGNORECASE)
_PG_NO_HOST = re.compile(
    r"could not translate host name|Name or service not known|nodename nor servname",
    re.IGNORECASE,
)
_WRITE_WORDS = re.compile(
    r"data-modifying|read-only transaction|read only transaction|COPY query must have a RETURNING",
    re.IGNORECASE,
)


def _first_line(text: str, secret: str | None) -> str:
    """The driver's message, first line, trimmed and scrubbed of the password (belt and braces)."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    line = re.sub(r"^(ERROR|FATAL):\s+", "", line)
    if secret:
        line = line.replace(secret, "***")
    return line[:300]


def _unreachable(settings: DatabaseSettings) -> Unreachable:
    return Unreachable(
        f"Nothing answers at {settings.address}: check the host name and port, that the "
        f"{KIND_LABELS[settings.kind]} server is running, and that it accepts connections "
        "from this machine."
    )


def _unknown_host(settings: DatabaseSettings) -> Unreachable:
    return Unreachable(f"The host name {settings.host!r} could not be found: check its spelling.")


def _connect_timeout(settings: DatabaseSettings) -> ExternalTimeout:
    return ExternalTimeout(
        f"{settings.address} did not answer within {settings.connect_timeout:g} s: the host may "
        "be down, or a firewall may drop the connection."
    )


def _statement_timeout(settings: DatabaseSettings) -> ExternalTimeout:
    return ExternalTimeout(
        f"The query took longer than the {settings.statement_timeout:g} s allowed and was "
        "stopped; read a smaller table or view, or add an index for the query."
    )


def _auth(settings: DatabaseSettings) -> AuthError:
    user = f"user {settings.user!r}" if settings.user else "the empty user name"
    return AuthError(
        f"{KIND_LABELS[settings.kind]} at {settings.address} refused {user} or the password: "
        "check both, and that the user may connect to this database."
    )


def _unknown_database(settings: DatabaseSettings) -> RemoteNotFound:
    return RemoteNotFound(
        f"There is no database named {settings.database!r} at {settings.address}: check its "
        "name (names are case-sensitive)."
    )


def _bad_query(settings: DatabaseSettings, detail: str) -> BadQuery:
    label = KIND_LABELS[settings.kind]
    return BadQuery(f"{label} could not run the mapping's query: {detail}")


def translate(
    exc: BaseException, settings: DatabaseSettings, *, connecting: bool = False
) -> SyncPreviewError:
    """The project's error for a driver error raised while connecting or reading."""
    if isinstance(exc, SyncPreviewError):
        return exc
    secret = settings.password_value()
    if isinstance(exc, psycopg2.Error):
        return _postgres(exc, settings, secret)
    if isinstance(exc, pymysql.err.MySQLError):
        error = _mysql(exc, settings, secret)
        if connecting and isinstance(error, ExternalTimeout):
            return _connect_timeout(settings)
        return error
    if isinstance(exc, sqlite3.Error):
        return _sqlite(exc, settings, secret)
    if isinstance(exc, TimeoutError):
        return _connect_timeout(settings)
    if isinstance(exc, OSError):
        return _unreachable(settings)
    return Unreachable(
        f"Reading {settings.label} failed unexpectedly ({type(exc).__name__}); try again, and "
        "check the server's log if it persists."
    )


def _postgres(
    exc: psycopg2.Error, settings: DatabaseSettings, secret: str | None
) -> SyncPreviewError:
    code = exc.pgcode or ""
    text = str(exc.pgerror or exc)
    if code == "25006" or (code in ("0A000", "") and _WRITE_WORDS.search(text)):
        return WriteRefused(WRITE_REFUSED.format(where=settings.label))
    if code == "57014":
        return _statement_timeout(settings)
    if code.startswith("28"):
        return _auth(settings)
    if code == "3D000":
        return _unknown_database(settings)
    if code:
        return _bad_query(settings, _first_line(text, secret))
    # No SQLSTATE: a connection failure, known by libpq's words.
    if _PG_UNKNOWN_DB.search(text):
        return _unknown_database(settings)
    if _PG_AUTH.search(text):
        return _auth(settings)
    if _PG_TIMEOUT.search(text):
        return _connect_timeout(settings)
    if _PG_NO_HOST.search(text):
        return _unknown_host(settings)
    if isinstance(exc, psycopg2.OperationalError) and "server closed the connection" in text:
        return Unreachable(
            f"The PostgreSQL server at {settings.address} closed the connection; try again."
        )
    return _unreachable(settings)


def _mysql(
    exc: pymysql.err.MySQLError, settings: DatabaseSettings, secret: str | None
) -> SyncPreviewError:
    number = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
    text = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    if number in _MY_AUTH:
        return _auth(settings)
    if number in _MY_UNKNOWN_DB:
        return _unknown_database(settings)
    if number in _MY_READ_ONLY:
        return WriteRefused(WRITE_REFUSED.format(where=settings.label))
    if number in _MY_TIMEOUT:
        return _statement_timeout(settings)
    if number in _MY_DENIED_COMMAND and re.match(
        r"(INSERT|UPDATE|DELETE|DROP|CREATE|ALTER|TRUNCATE|REPLACE)", text, re.IGNORECASE
    ):
        return WriteRefused(WRITE_REFUSED.format(where=settings.label))
    if number == 2005:
        return _unknown_host(settings)
    if number in _MY_UNREACHABLE:
        if _PG_NO_HOST.search(text) or "getaddrinfo" in text:
            return _unknown_host(settings)
        if "timed out" in text:
            return _connect_timeout(settings)
        return _unreachable(settings)
    if number in _MY_LOST:
        if "during query" in text:
            return _statement_timeout(settings)
        return _connect_timeout(settings)
    if isinstance(exc, pymysql.err.OperationalError | pymysql.err.InterfaceError) and not number:
        return _unreachable(settings)
    return _bad_query(settings, _first_line(text, secret))


def _sqlite(exc: sqlite3.Error, settings: DatabaseSettings, secret: str | None) -> SyncPreviewError:
    text = str(exc)
    lowered = text.lower()
    if "readonly database" in lowered or "read-only" in lowered:
        return WriteRefused(WRITE_REFUSED.format(where=settings.label))
    if "unable to open database file" in lowered:
        return RemoteNotFound(
            f"There is no SQLite database at {settings.database}: check the path, and that this "
            "process may read the file and its folder."
        )
    if "file is not a database" in lowered or "malformed" in lowered:
        return RemoteNotFound(f"{settings.database} is not an SQLite database file.")
    if "interrupted" in lowered:
        return _statement_timeout(settings)
    if "one statement at a time" in lowered:
        return _bad_query(settings, "it holds more than one statement; write a single SELECT.")
    if "database is locked" in lowered:
        return ExternalTimeout(
            f"The SQLite file {settings.database} stayed locked by another program for "
            f"{settings.connect_timeout:g} s; try again."
        )
    return _bad_query(settings, _first_line(text, secret))
