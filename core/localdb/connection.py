"""``LocalDatabase``: the organization's own database, only ever read.

Every read runs in a read-only transaction with a statement time limit, and is rolled back:

- PostgreSQL: the session starts with ``default_transaction_read_only`` and
  ``statement_timeout``; each transaction ``SET TRANSACTION READ ONLY`` and
  ``SET LOCAL statement_timeout``;
- MySQL / MariaDB: ``SET SESSION TRANSACTION READ ONLY``, ``START TRANSACTION READ ONLY`` and
  ``max_statement_time`` (MariaDB) or ``max_execution_time`` (MySQL);
- SQLite: the file opened with ``mode=ro`` and ``PRAGMA query_only``, a progress handler as
  the time limit.

A statement that tries to write is refused by the database itself (``WriteRefused``). Driver
errors become the project's errors (``failures.translate``), with messages that never hold
the password.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import polars as pl

from core.errors import BadQuery, SyncPreviewError
from core.localdb.dialects import (
    CHUNK_ROWS,
    DIALECTS,
    ColumnInfo,
    Dialect,
    InvalidText,
    TableInfo,
    table_sql,
)
from core.localdb.failures import translate
from core.localdb.names import check_select, split_name
from core.localdb.settings import DatabaseSettings


@dataclass(frozen=True)
class ConnectionCheck:
    """The result of ``test_connection``: ``ok`` and a sentence to show as it is."""

    ok: bool
    message: str
    server: str | None = None
    seconds: float = 0.0
    error: str | None = None  # the error class name when not ok (AuthError, Unreachable, ...)


class ReadSession:
    """One connection inside one read-only transaction (see ``LocalDatabase.read_only``)."""

    def __init__(self, dialect: Dialect, conn: Any, settings: DatabaseSettings, server: str):
        self.dialect = dialect
        self.conn = conn
        self.settings = settings
        self.server = server

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except (SyncPreviewError, InvalidText):
            raise
        except Exception as exc:
            raise translate(exc, self.settings) from None

    def quote(self, name: str) -> str:
        """An identifier quoted for this database."""
        return self.dialect.quote(name)

    def table(self, name: str) -> str:
        """A ``[schema.]table`` name quoted for this database."""
        return table_sql(self.dialect, name)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of a small query (catalog look-ups, samples)."""
        with self._translated():
            self.dialect.start_statement(self.conn, self.settings)
            cur = self.conn.cursor()
            try:
                cur.execute(sql, tuple(params))
                return list(cur.fetchall()) if cur.description else []
            finally:
                cur.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement as it is (inside the read-only transaction: writes are refused)."""
        with self._translated():
            self.dialect.start_statement(self.conn, self.settings)
            cur = self.conn.cursor()
            try:
                cur.execute(sql, tuple(params))
            finally:
                cur.close()

    def describe(self, sql: str) -> list[ColumnInfo]:
        """The columns a query returns (it is run with no rows to return)."""
        with self._translated():
            self.dialect.start_statement(self.conn, self.settings)
            cur = self.conn.cursor()
            try:
                cur.execute(f"SELECT * FROM ({sql}) AS src WHERE 1 = 0")
                cur.fetchall()
                return self.dialect.described(cur)
            finally:
                cur.close()

    def tables(self) -> list[TableInfo]:
        with self._translated():
            return self.dialect.tables(self.conn)

    def columns(self, table: str) -> list[ColumnInfo]:
        split_name(table)  # a clear error for a malformed name
        with self._translated():
            return self.dialect.columns(self.conn, table)

    def stream(
        self,
        sql: str,
        names: Sequence[str],
        params: Sequence[Any] = (),
        chunk_rows: int = CHUNK_ROWS,
    ) -> Iterator[pl.DataFrame]:
        """The query's rows as frames of text columns ``names`` (at most ``chunk_rows`` rows)."""
        with self._translated():
            self.dialect.start_statement(self.conn, self.settings)
            frames = self.dialect.stream(self.conn, sql, params, names, chunk_rows)
        while True:
            with self._translated():
                frame = next(frames, None)
            if frame is None:
                return
            yield frame


class LocalDatabase:
    """The organization's database, reached with ``settings`` and only ever read."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        self.dialect: Dialect = DIALECTS[settings.kind]

    def __repr__(self) -> str:
        return f"LocalDatabase({self.settings.public_url()!r})"

    @contextmanager
    def read_only(self) -> Iterator[ReadSession]:
        """A connection in a read-only transaction, rolled back and closed on leaving."""
        try:
            conn = self.dialect.connect(self.settings)
        except Exception as exc:
            raise translate(exc, self.settings, connecting=True) from None
        try:
            try:
                server = self.dialect.begin(conn, self.settings)
            except Exception as exc:
                raise translate(exc, self.settings, connecting=True) from None
            yield ReadSession(self.dialect, conn, self.settings, server)
        finally:
            # Never a commit: roll back, then close (either may fail on a broken connection).
            with suppress(Exception):
                conn.rollback()
            with suppress(Exception):
                conn.close()

    def test_connection(self) -> ConnectionCheck:
        """Connect, open a read-only transaction and list the tables: a sentence either way."""
        start = time.monotonic()
        try:
            with self.read_only() as session:
                count = len(session.tables())
                server = session.server
        except SyncPreviewError as err:
            return ConnectionCheck(
                False, str(err), seconds=time.monotonic() - start, error=type(err).__name__
            )
        what = "table or view" if count == 1 else "tables and views"
        return ConnectionCheck(
            True,
            f"Connected to {self.settings.label} ({server}), read-only: {count} {what} visible.",
            server=server,
            seconds=time.monotonic() - start,
        )

    def tables(self) -> list[TableInfo]:
        """The tables and views this user may see (with the schema on PostgreSQL: ``crm.x``)."""
        with self.read_only() as session:
            return session.tables()

    def columns(self, table: str) -> list[ColumnInfo]:
        """A table's or view's columns and types; ``BadQuery`` if there is no such table."""
        with self.read_only() as session:
            found = session.columns(table)
        if not found:
            raise BadQuery(
                f"There is no table or view {table!r} in {self.settings.label} "
                "(or this user may not read it)."
            )
        return found

    def query_columns(self, sql: str) -> list[ColumnInfo]:
        """The columns a mapping's SELECT returns."""
        query = check_select(sql)
        with self.read_only() as session:
            return session.describe(query)
