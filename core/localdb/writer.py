"""Writing applies back to the organization's own database: a *writable* connection, the
checks a mapping must pass first, and batches of rows read and written in one transaction.

The read connections of ``connection.py`` stay read-only by design; this module is the only
one that opens a connection that may write, and only for an apply (or its undo) of a mapping
whose write-back an admin switched on. It may use its own user and password (``write_user``).

    writer = LocalWriter(settings_with_write_credentials)
    writer.check(mapping, WriteOptions(active_column="is_active"))   # [] or problems in words
    with writer.batch(mapping, options) as batch:     # one transaction, committed on leaving
        found = batch.read(keys)                      # the rows of these keys, locked
        batch.insert(rows); batch.update(rows); batch.delete(keys)

Values come in canonical form (money as text, timestamps ISO in UTC) and are handed to the
driver as parameters; the database converts them to its column types. On PostgreSQL a batch
is a few set-based statements (``= ANY(array)`` reads and deletes, one ``UPDATE … FROM
unnest(arrays)`` per set of columns: one statement per row cost 2,000 statements' worth of
server work a batch); MariaDB and SQLite run ``executemany``.
"""

from __future__ import annotations

import math
import os
import sqlite3
import urllib.parse
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import psycopg2
import psycopg2.extras
import pymysql

from core.delta.fields import FIELD_TYPES
from core.delta.frame import records_of
from core.delta.natural import NATURAL_KEYS
from core.errors import SyncPreviewError
from core.localdb.dialects import DIALECTS, Dialect, as_text, rows_frame, table_sql
from core.localdb.failures import translate
from core.localdb.mapping import LocalMapping
from core.localdb.names import split_name
from core.localdb.settings import DatabaseSettings
from core.localdb.values import Layout, canonical_chunk

#: Text values of an "active" column that mean active (compared lower-cased).
ACTIVE_WORDS: Final = ("1", "t", "true", "y", "yes")
#: Keys per ``IN (...)`` of a read or a delete (MariaDB and SQLite).
IN_CHUNK: Final = 500
_TEXT_CAST: Final = {"postgresql": "TEXT", "mysql": "CHAR", "sqlite": "TEXT"}


@dataclass(frozen=True)
class WriteOptions:
    """How a deletion is written: the row deleted (``active_column`` None), or the column
    set to false (and back to true by an undo)."""

    active_column: str | None = None


@dataclass(frozen=True, slots=True)
class FoundRow:
    """A row of the mapped table as an apply meets it: its key as stored (what writes name
    it by), the mapped fields' values in canonical form (``external_id``: the key the engine
    matches on), and whether it is active (always, without an active column)."""

    key: Any
    canonical: dict[str, Any]
    active: bool = True


def active_filter(dialect: Dialect, column: str, alias: str = "src") -> str:
    """SQL that is true for an active row: the column's text is 1, t, true, y or yes (a
    boolean, a number or a word column alike)."""
    words = ", ".join(f"'{w}'" for w in ACTIVE_WORDS)
    return (
        f"lower(CAST({alias}.{dialect.quote(column)} AS {_TEXT_CAST[dialect.kind]})) IN ({words})"
    )


def _texts(values: Sequence[Any]) -> list[str | None]:
    """Values as text (PostgreSQL casts them to their columns' types)."""
    return [v if v is None or type(v) is str else as_text(v) for v in values]


def db_value(entity_type: str, field: str, value: Any) -> Any:
    """A canonical value as a statement parameter (timestamps without the ``T``/``Z``, which
    MariaDB's DATETIME refuses; all are UTC)."""
    if value is None or value == "":
        return None
    if FIELD_TYPES[entity_type].get(field) == "timestamp" and isinstance(value, str):
        return value.replace("T", " ").removesuffix("Z").split("+")[0]
    return value


# ------------------------------------------------------------------------------ connecting


def _connect_postgres(settings: DatabaseSettings) -> Any:
    ms = int(settings.statement_timeout * 1000)
    conn = psycopg2.connect(
        host=settings.host,
        port=settings.effective_port,
        dbname=settings.database,
        user=settings.user,
        password=settings.password_value(),
        connect_timeout=max(2, math.ceil(settings.connect_timeout)),
        application_name="sync-preview-write-back",
        options=f"-c statement_timeout={ms} -c TimeZone=UTC",
        **dict(settings.options),
    )
    conn.autocommit = False
    return conn


def _connect_mysql(settings: DatabaseSettings) -> Any:
    options = dict(settings.options)
    conn = pymysql.connect(
        host=settings.host,
        port=settings.effective_port or 3306,
        user=settings.user or "",
        password=settings.password_value() or "",
        database=settings.database,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.statement_timeout + 30,
        write_timeout=settings.statement_timeout + 30,
        charset=options.get("charset", "utf8mb4"),
        autocommit=False,
    )
    with conn.cursor() as cur:
        cur.execute("SET SESSION time_zone = '+00:00'")
        cur.execute("START TRANSACTION")
    return conn


def _connect_sqlite(settings: DatabaseSettings) -> Any:
    path = Path(settings.database).expanduser().resolve()
    if not path.is_file():
        raise sqlite3.OperationalError("unable to open database file")
    uri = f"file:{urllib.parse.quote(str(path))}?mode=rw"
    conn = sqlite3.connect(uri, uri=True, timeout=settings.connect_timeout, isolation_level=None)
    # The write lock from the start: the rows read are the rows written over.
    conn.execute("BEGIN IMMEDIATE")
    return conn


_CONNECT: Final = {
    "postgresql": _connect_postgres,
    "mysql": _connect_mysql,
    "sqlite": _connect_sqlite,
}


def _close(conn: Any) -> None:
    with suppress(Exception):
        conn.rollback()
    with suppress(Exception):
        conn.close()


def _close_all(conns: list[Any]) -> None:
    while conns:
        _close(conns.pop())


def _favour_index_lookups(conn: Any) -> None:
    """For this transaction, price a random page read as a cached one (as
    ``core.db.engine.favour_index_lookups`` does for our database): a batch names a few
    thousand rows of a table of 100,000, and at the default cost the planner reads the whole
    table for each statement (~40-90 ms) instead of looking each key up in its index."""
    cur = conn.cursor()
    try:
        cur.execute("SET LOCAL random_page_cost = 1.1")
    finally:
        cur.close()


# ------------------------------------------------------------------------------- the checks


def _pg_problems(cur: Any, table: str, filled: set[str], deletes: bool) -> list[str]:
    regclass = ".".join(DIALECTS["postgresql"].quote(p) for p in split_name(table))
    cur.execute("SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(%s)", (regclass,))
    row = cur.fetchone()
    if row is None:
        return [f"there is no table {table} (or this user may not see it)"]
    if row[0] not in ("r", "p"):
        return [f"{table} is a view, not a table: map the table itself to write back"]
    cur.execute(
        "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass(%s) "
        "AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull AND NOT a.atthasdef "
        "AND a.attidentity = '' AND a.attgenerated = '' ORDER BY a.attnum",
        (regclass,),
    )
    problems = _not_filled([str(r[0]) for r in cur.fetchall()], filled)
    wanted = ["SELECT", "INSERT", "UPDATE", *(["DELETE"] if deletes else [])]
    missing = []
    for privilege in wanted:
        cur.execute("SELECT has_table_privilege(to_regclass(%s), %s)", (regclass, privilege))
        if not cur.fetchone()[0]:
            missing.append(privilege)
    if missing:
        problems.append(f"the write user may not {', '.join(missing)} on {table}")
    return problems


def _mysql_problems(cur: Any, table: str, filled: set[str], deletes: bool) -> list[str]:
    parts = split_name(table)
    schema_test = "table_schema = %s" if len(parts) == 2 else "table_schema = DATABASE()"
    cur.execute(
        f"SELECT table_type FROM information_schema.tables WHERE {schema_test} AND table_name = %s",
        parts,
    )
    row = cur.fetchone()
    if row is None:
        return [f"there is no table {table} (or this user may not see it)"]
    if "VIEW" in str(row[0]).upper():
        return [f"{table} is a view, not a table: map the table itself to write back"]
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE "
        f"{schema_test} AND table_name = %s AND is_nullable = 'NO' "
        "AND (column_default IS NULL OR column_default = 'NULL') "
        "AND extra NOT LIKE '%%auto_increment%%' AND extra NOT LIKE '%%GENERATED%%' "
        "ORDER BY ordinal_position",
        parts,
    )
    problems = _not_filled([str(r[0]) for r in cur.fetchall()], filled)
    cur.execute("SELECT CURRENT_USER(), DATABASE()")
    user, database = cur.fetchone()
    name, _, host = str(user).rpartition("@")
    grantee = f"'{name}'@'{host}'"
    schema = parts[0] if len(parts) == 2 else database
    cur.execute(
        "SELECT privilege_type FROM information_schema.user_privileges WHERE grantee = %s "
        "UNION SELECT privilege_type FROM information_schema.schema_privileges "
        "WHERE grantee = %s AND table_schema = %s "
        "UNION SELECT privilege_type FROM information_schema.table_privileges "
        "WHERE grantee = %s AND table_schema = %s AND table_name = %s",
        (grantee, grantee, schema, grantee, schema, parts[-1]),
    )
    granted = {str(r[0]).upper() for r in cur.fetchall()}
    wanted = ["SELECT", "INSERT", "UPDATE", *(["DELETE"] if deletes else [])]
    missing = [p for p in wanted if p not in granted]
    if missing:
        problems.append(f"the write user may not {', '.join(missing)} on {table}")
    return problems


def _sqlite_problems(
    conn: Any, settings: DatabaseSettings, table: str, filled: set[str]
) -> list[str]:
    parts = split_name(table)
    master = (
        f"{DIALECTS['sqlite'].quote(parts[0])}.sqlite_master"
        if len(parts) == 2
        else ("sqlite_master")
    )
    row = conn.execute(f"SELECT type FROM {master} WHERE name = ?", (parts[-1],)).fetchone()
    if row is None:
        return [f"there is no table {table}"]
    if row[0] != "table":
        return [f"{table} is a view, not a table: map the table itself to write back"]
    info = (
        f"{DIALECTS['sqlite'].quote(parts[0])}.pragma_table_info(?)"
        if len(parts) == 2
        else ("pragma_table_info(?)")
    )
    rows = conn.execute(
        f'SELECT name, type, "notnull", dflt_value, pk FROM {info}', (parts[-1],)
    ).fetchall()
    required = [
        str(name)
        for name, kind, notnull, default, pk in rows
        if notnull and default is None and not (pk and str(kind).upper() == "INTEGER")
    ]
    # An INTEGER PRIMARY KEY is the rowid: SQLite numbers new rows itself.
    problems = _not_filled(required, filled)
    path = Path(settings.database).expanduser().resolve()
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        problems.append(
            f"this process may not write the file {settings.database} (or its folder, where "
            "SQLite keeps its journal)"
        )
    return problems


def _not_filled(required: Sequence[str], filled: set[str]) -> list[str]:
    missing = [c for c in required if c not in filled]
    if not missing:
        return []
    return [
        f"column(s) {', '.join(missing)} must have a value (NOT NULL, no default) and the "
        "mapping does not fill them: map a field to them, or give them a default"
    ]


# --------------------------------------------------------------------------------- batches


class WriteBatch:
    """One transaction on the mapped table: read rows by key (locked), then write."""

    def __init__(
        self,
        dialect: Dialect,
        conn: Any,
        mapping: LocalMapping,
        options: WriteOptions,
        types: dict[str, str] | None = None,
    ) -> None:
        self.dialect = dialect
        self.conn = conn
        self.mapping = mapping
        self.options = options
        assert mapping.table is not None
        self.table = table_sql(dialect, mapping.table)
        self.p = dialect.param
        self.pg = dialect.kind == "postgresql"
        #: PostgreSQL: each column's type (read once per writer, see ``_types``)
        self.types = types if types is not None else {}

    def _q(self, name: str) -> str:
        return self.dialect.quote(name)

    def _key_sql(self, alias: str = "") -> str:
        """The key column as compared with the keys given (natural keys as the engine
        normalizes them: e-mails trimmed and lower-cased, SKUs and numbers trimmed)."""
        column = f"{alias}{self._q(self.mapping.key_column)}"
        if self.mapping.match.kind == "id":
            return column
        key = NATURAL_KEYS[self.mapping.entity_type]
        text = f"CAST({column} AS {_TEXT_CAST[self.dialect.kind]})"
        return f"lower(trim({text}))" if key == "email" else f"trim({text})"

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for many rows: psycopg2's ``execute_batch`` (pages of statements
        per round trip; its ``executemany`` makes one per row), the others' ``executemany``
        (PyMySQL makes multi-row INSERTs of it)."""
        if not rows:
            return
        cur = self.conn.cursor()
        try:
            if self.dialect.kind == "postgresql":
                psycopg2.extras.execute_batch(cur, sql, [tuple(r) for r in rows], page_size=500)
            else:
                cur.executemany(sql, [tuple(r) for r in rows])
        finally:
            cur.close()

    def _types(self) -> dict[str, str]:
        """PostgreSQL: each column's type without its length or precision. Values are cast
        to it from text (as a literal would be), and the column's own limits still apply
        when the value is assigned (a too-long text is refused, not cut)."""
        if not self.types:
            regclass = ".".join(self.dialect.quote(p) for p in split_name(self.mapping.table or ""))
            cur = self.conn.cursor()
            try:
                cur.execute(
                    "SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a "
                    "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped",
                    (regclass,),
                )
                self.types.update({str(name): str(kind) for name, kind in cur.fetchall()})
            finally:
                cur.close()
        return self.types

    def _key_array(self) -> str:
        """PostgreSQL: the parameter of ``key = ANY(...)``, a text array cast to the key
        column's type (so that its index is used)."""
        return f"CAST(%s AS {self._types()[self.mapping.key_column]}[])"

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        cur = self.conn.cursor()
        try:
            cur.execute(sql, tuple(params))
            return list(cur.fetchall())
        finally:
            cur.close()

    def read(self, keys: Sequence[str]) -> dict[str, FoundRow]:
        """The rows whose key (as the engine matches it) is one of ``keys``, by that key."""
        mapping = self.mapping
        columns = list(dict.fromkeys([mapping.key_column, *(c for _, c in mapping.columns)]))
        active = self.options.active_column
        select = [f"src.{self._q(c)}" for c in columns]
        if active:
            select.append(f"src.{self._q(active)}")
        sql = f"SELECT {', '.join(select)} FROM {self.table} AS src WHERE {self._key_sql('src.')}"
        wanted = list(dict.fromkeys(k for k in keys if k))
        if not wanted:
            return {}
        rows: list[Any] = []
        if self.pg:  # one statement for the batch, its rows locked
            array = self._key_array() if mapping.match.kind == "id" else "%s"
            rows = self._fetch(f"{sql} = ANY({array}) FOR UPDATE OF src", [wanted])
        else:
            lock = "" if self.dialect.kind == "sqlite" else " FOR UPDATE"
            for start in range(0, len(wanted), IN_CHUNK):
                part = wanted[start : start + IN_CHUNK]
                rows += self._fetch(f"{sql} IN ({', '.join([self.p] * len(part))}){lock}", part)
        if not rows:
            return {}
        names = [f"c{i}" for i in range(len(columns))]
        raw = rows_frame([r[: len(columns)] for r in rows], names, 0)
        layout = Layout(tuple(names), tuple(columns), 0, None)
        keyed, _ = canonical_chunk(mapping, layout, raw, 0)
        fields = [f for f, _ in mapping.columns]
        # the engine's key and the mapped fields only: what a batch compares and keeps
        records = records_of(keyed.data.select("external_id", *fields))
        found: dict[str, FoundRow] = {}
        for row, record in zip(rows, records, strict=False):
            is_active = True
            if active:
                is_active = str(row[-1]).strip().lower() in ACTIVE_WORDS
            found[str(record["external_id"])] = FoundRow(row[0], record, is_active)
        return found

    def insert(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """New rows: the key column (matching by id) and the mapped fields' columns, from
        canonical values; active when there is an active column."""
        if not rows:
            return
        mapping = self.mapping
        entity = mapping.entity_type
        fields = [f for f, _ in mapping.columns]
        columns = [c for _, c in mapping.columns]
        by_id = mapping.match.kind == "id" and mapping.key_column not in columns
        if by_id:
            columns = [mapping.key_column, *columns]
        if self.options.active_column and self.options.active_column not in columns:
            columns.append(self.options.active_column)
        values = []
        for row in rows:
            item = [db_value(entity, f, row.get(f)) for f in fields]
            if by_id:
                item = [row["external_id"], *item]
            if self.options.active_column and self.options.active_column not in (
                c for _, c in mapping.columns
            ):
                item.append(self._flag(True))
            values.append(item)
        marks = ", ".join([self.p] * len(columns))
        self._many(
            f"INSERT INTO {self.table} ({', '.join(self._q(c) for c in columns)}) VALUES ({marks})",
            values,
        )

    def update(self, rows: Sequence[tuple[Any, Mapping[str, Any]]]) -> None:
        """(stored key, {field: canonical value}): one statement per set of fields."""
        groups: dict[tuple[str, ...], list[tuple[Any, Mapping[str, Any]]]] = {}
        for key, values in rows:
            groups.setdefault(tuple(sorted(values)), []).append((key, values))
        column_of = self.mapping.column_of
        entity = self.mapping.entity_type
        for fields, group in groups.items():
            if fields:
                self._set(
                    [column_of[f] for f in fields],
                    [k for k, _ in group],
                    [[db_value(entity, f, v.get(f)) for _, v in group] for f in fields],
                )

    def set_active(self, keys: Sequence[Any], active: bool) -> None:
        """Mark rows (by stored key) active or inactive."""
        column = self.options.active_column
        assert column is not None
        self._set([column], keys, [[self._flag(active)] * len(keys)])

    def _set(
        self, columns: Sequence[str], keys: Sequence[Any], values: Sequence[Sequence[Any]]
    ) -> None:
        """Set ``columns`` of the rows named by stored ``keys`` (``values``: one list per
        column, in the keys' order). PostgreSQL: one ``UPDATE … FROM unnest(…)`` of text
        arrays, each value cast to its column's type; the others: one UPDATE per row."""
        if not keys:
            return
        key_column = self._q(self.mapping.key_column)
        if not self.pg:
            sets = ", ".join(f"{self._q(c)} = {self.p}" for c in columns)
            self._many(
                f"UPDATE {self.table} SET {sets} WHERE {key_column} = {self.p}",
                [[*row[1:], row[0]] for row in zip(keys, *values, strict=True)],
            )
            return
        types = self._types()
        sets = ", ".join(
            f"{self._q(c)} = CAST(v.c{i} AS {types[c]})" for i, c in enumerate(columns)
        )
        names = ", ".join(["k", *(f"c{i}" for i in range(len(columns)))])
        arrays = ", ".join(["%s::text[]"] * (len(columns) + 1))
        self._execute(
            f"UPDATE {self.table} AS dst SET {sets} FROM unnest({arrays}) AS v({names}) "
            f"WHERE dst.{key_column} = CAST(v.k AS {types[self.mapping.key_column]})",
            [_texts(column) for column in (keys, *values)],
        )

    def delete(self, keys: Sequence[Any]) -> None:
        """Delete rows by stored key (PostgreSQL: ``= ANY(array)``; the others: ``IN``
        lists of at most ``IN_CHUNK``)."""
        if not keys:
            return
        key_column = self._q(self.mapping.key_column)
        if self.pg:
            part = _texts(keys)
            self._execute(
                f"DELETE FROM {self.table} WHERE {key_column} = ANY({self._key_array()})", [part]
            )
            return
        for start in range(0, len(keys), IN_CHUNK):
            part = list(keys[start : start + IN_CHUNK])
            marks = ", ".join([self.p] * len(part))
            self._execute(f"DELETE FROM {self.table} WHERE {key_column} IN ({marks})", part)

    def _execute(self, sql: str, params: Sequence[Any]) -> None:
        cur = self.conn.cursor()
        try:
            cur.execute(sql, tuple(params))
        finally:
            cur.close()

    def _flag(self, active: bool) -> Any:
        """The "active" column's value: a boolean for PostgreSQL's boolean columns, else 1
        or 0 (integers, MariaDB's TINYINT, SQLite; a text column reads "1" as active)."""
        column = self.options.active_column
        if self.pg and column is not None and self._types().get(column) == "boolean":
            return active
        return int(active)


class LocalWriter:
    """The organization's database, reached with ``settings`` (the write credentials) to
    write one mapping's table."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        self.dialect: Dialect = DIALECTS[settings.kind]
        #: the last batch's connection, kept open for the next one
        self._idle: list[Any] = []
        weakref.finalize(self, _close_all, self._idle)
        #: PostgreSQL: the column types of each table written (read by its first batch)
        self._types: dict[str, dict[str, str]] = {}

    def __repr__(self) -> str:
        return f"LocalWriter({self.settings.public_url()!r})"

    def _open(self) -> Any:
        try:
            return _CONNECT[self.settings.kind](self.settings)
        except Exception as exc:
            raise translate(exc, self.settings, connecting=True) from None

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        conn = self._open()
        try:
            yield conn
        finally:
            _close(conn)

    def _begin(self, conn: Any, *, again: bool) -> None:
        """Start a batch's transaction (``again``: on a connection a batch used before; a
        new one has begun it already)."""
        if again and self.settings.kind == "sqlite":
            conn.execute("BEGIN IMMEDIATE")
        elif again and self.settings.kind == "mysql":
            conn.begin()
        if self.settings.kind == "postgresql":
            _favour_index_lookups(conn)

    def _batch_connection(self) -> Any:
        """The last batch's connection when it still works (a batch of 2,000 rows took ~10
        ms more to connect anew), else a new one."""
        if self._idle:
            conn = self._idle.pop()
            try:
                self._begin(conn, again=True)
                return conn
            except Exception:  # noqa: BLE001 - closed since (a restart, a timeout): connect anew
                _close(conn)
        conn = self._open()
        try:
            self._begin(conn, again=False)
        except Exception as exc:
            _close(conn)
            raise translate(exc, self.settings) from None
        return conn

    def close(self) -> None:
        """Close the connection kept for the next batch (also done when the writer is let
        go)."""
        _close_all(self._idle)

    def check(self, mapping: LocalMapping, options: WriteOptions) -> list[str]:
        """What stops applies from writing through ``mapping``, in words ([] when nothing):
        a query or a view instead of a table, order lines, columns missing, NOT NULL columns
        the mapping leaves empty, privileges the write user lacks. Writes nothing."""
        problems: list[str] = []
        if mapping.table is None:
            return [
                "the mapping reads a SELECT query, which cannot be written: map a table instead"
            ]
        if mapping.lines is not None:
            problems.append(
                "order lines are not written back: map orders without their lines to write "
                "them back"
            )
        try:
            with self._connection() as conn:
                names = {c.name for c in self.dialect.columns(conn, mapping.table)}
                wanted = [mapping.key_column, *(c for _, c in mapping.columns)]
                if options.active_column:
                    wanted.append(options.active_column)
                absent = [c for c in dict.fromkeys(wanted) if names and c not in names]
                if absent:
                    problems.append(f"table {mapping.table} has no column(s) {', '.join(absent)}")
                filled = set(wanted)
                deletes = options.active_column is None
                if self.settings.kind == "sqlite":
                    problems += _sqlite_problems(conn, self.settings, mapping.table, filled)
                else:
                    cur = conn.cursor()
                    try:
                        check = (
                            _pg_problems
                            if self.settings.kind == "postgresql"
                            else (_mysql_problems)
                        )
                        problems += check(cur, mapping.table, filled, deletes)
                    finally:
                        cur.close()
        except SyncPreviewError:
            raise
        except Exception as exc:
            raise translate(exc, self.settings) from None
        return problems

    @contextmanager
    def batch(self, mapping: LocalMapping, options: WriteOptions) -> Iterator[WriteBatch]:
        """One transaction on the mapped table, committed when the block ends without an
        error (rolled back otherwise). Its connection is kept for the writer's next batch
        (until ``close``), but never after an error."""
        conn = self._batch_connection()
        try:
            types = self._types.setdefault(mapping.table or "", {})
            yield WriteBatch(self.dialect, conn, mapping, options, types)
            conn.commit() if self.settings.kind != "sqlite" else conn.execute("COMMIT")
        except BaseException as exc:
            _close(conn)  # rolled back; the next batch connects anew
            if isinstance(exc, SyncPreviewError) or not isinstance(exc, Exception):
                raise
            raise translate(exc, self.settings) from None
        self._idle.append(conn)
