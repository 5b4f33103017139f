"""What differs between PostgreSQL, MySQL/MariaDB and SQLite: connecting read-only, quoting,
the catalog, and streaming a query's rows out as text columns.

Every value is read as text (``None`` for NULL), the same way on the three databases, so that
the engine's normalizers see one shape: numbers as their decimal text, timestamps as ISO text
in UTC, JSON as its text. Rows come out in frames of at most ``chunk_rows`` rows:

- PostgreSQL: ``COPY (query) TO STDOUT WITH (FORMAT csv)`` on a worker thread; the rows are
  cut into CSV chunks as they arrive and parsed by polars (a bounded queue holds back the
  server when the reader falls behind);
- MySQL / MariaDB: an unbuffered cursor (``SSCursor``) read ``chunk_rows`` at a time;
- SQLite: one cursor read ``chunk_rows`` at a time.
"""

from __future__ import annotations

import csv
import io
import json
import math
import queue
import re
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Protocol

import polars as pl
import psycopg2
import pymysql
import pymysql.cursors
from pymysql.constants import FIELD_TYPE

from core.localdb.names import split_name
from core.localdb.settings import DatabaseSettings, Kind

Row = tuple[Any, ...]

#: Rows per frame when the caller does not say.
CHUNK_ROWS: Final = 20_000


@dataclass(frozen=True)
class TableInfo:
    """A table or view of the organization's database, as the catalog lists it."""

    name: str  # as a mapping names it: "crm.clients" on PostgreSQL, "clients" elsewhere
    kind: str  # "table" or "view"
    schema: str | None = None


@dataclass(frozen=True)
class ColumnInfo:
    """A column of a table, view or query, with the database's own type name."""

    name: str
    type: str | None
    nullable: bool | None = None


class InvalidText(Exception):
    """A text value that is not valid UTF-8, at ``row`` (0-based in the read) of ``column``."""

    def __init__(self, row: int, column: int, values: Sequence[str | None]) -> None:
        super().__init__(row, column)
        self.row = row
        self.column = column
        self.values = tuple(values)


# ------------------------------------------------------------------------- text values


def as_text(value: Any) -> str | None:
    """One driver value as the text the normalizers read (``InvalidText`` is raised by callers)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time_of_day):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8")  # UnicodeDecodeError: see rows_frame
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _text_series(
    name: str, values: Sequence[Any], first_row: int, index: int, rows: Any
) -> pl.Series:
    try:
        return pl.Series(name, values, dtype=pl.String, strict=True)
    except Exception:  # noqa: BLE001 - not all str: convert value by value below
        pass
    out: list[str | None] = []
    for position, value in enumerate(values):
        try:
            out.append(as_text(value))
        except UnicodeDecodeError:
            row = rows[position]
            lossy = [_lossy(v) for v in row]
            raise InvalidText(first_row + position, index, lossy) from None
    return pl.Series(name, out, dtype=pl.String)


def _lossy(value: Any) -> str | None:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    try:
        return as_text(value)
    except Exception:  # noqa: BLE001 - only for an error message
        return repr(value)


def rows_frame(rows: Sequence[Row], names: Sequence[str], first_row: int) -> pl.DataFrame:
    """Driver rows as a frame of text columns named ``names``."""
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    return pl.DataFrame(
        [
            _text_series(name, list(column), first_row, index, rows)
            for index, (name, column) in enumerate(zip(names, columns, strict=True))
        ]
    )


# ----------------------------------------------------------------------------- dialects


class Dialect(Protocol):
    """The parts of reading that differ between databases."""

    kind: Kind
    param: str  # the driver's placeholder

    def connect(self, settings: DatabaseSettings) -> Any: ...

    def begin(self, conn: Any, settings: DatabaseSettings) -> str: ...

    def quote(self, name: str) -> str: ...

    def tables(self, conn: Any) -> list[TableInfo]: ...

    def columns(self, conn: Any, table: str) -> list[ColumnInfo]: ...

    def described(self, cursor: Any) -> list[ColumnInfo]: ...

    def lines_json(self, sku: str, quantity: str, total: str) -> str: ...

    def start_statement(self, conn: Any, settings: DatabaseSettings) -> None: ...

    def stream(
        self, conn: Any, sql: str, params: Sequence[Any], names: Sequence[str], chunk_rows: int
    ) -> Iterator[pl.DataFrame]: ...


def table_sql(dialect: Dialect, name: str) -> str:
    """A table name as SQL, each part quoted."""
    return ".".join(dialect.quote(part) for part in split_name(name))


def _rows(conn: Any, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    cur = conn.cursor()
    try:
        cur.execute(sql, tuple(params))
        return list(cur.fetchall())
    finally:
        cur.close()


def _fetch_frames(cur: Any, names: Sequence[str], chunk_rows: int) -> Iterator[pl.DataFrame]:
    done = 0
    while True:
        rows = cur.fetchmany(chunk_rows)
        if not rows:
            return
        yield rows_frame(rows, names, done)
        done += len(rows)


class Postgres:
    """PostgreSQL through psycopg2; rows streamed by ``COPY ... TO STDOUT``."""

    kind: Kind = "postgresql"
    param = "%s"

    def connect(self, settings: DatabaseSettings) -> Any:
        ms = int(settings.statement_timeout * 1000)
        return psycopg2.connect(
            host=settings.host,
            port=settings.effective_port,
            dbname=settings.database,
            user=settings.user,
            password=settings.password_value(),
            connect_timeout=max(2, math.ceil(settings.connect_timeout)),
            application_name="sync-preview",
            # Read-only and bounded from the first statement on (each transaction also says so).
            options=f"-c default_transaction_read_only=on -c statement_timeout={ms}",
            **dict(settings.options),
        )

    def begin(self, conn: Any, settings: DatabaseSettings) -> str:
        conn.autocommit = False
        with conn.cursor() as cur:
            cur.execute("SET TRANSACTION READ ONLY")
            cur.execute(
                "SET LOCAL statement_timeout = %s", (int(settings.statement_timeout * 1000),)
            )
            cur.execute("SET LOCAL TimeZone = 'UTC'")
            cur.execute("SET LOCAL DateStyle = 'ISO, YMD'")
            cur.execute("SELECT version()")
            row = cur.fetchone()
        return str(row[0]).split(" on ")[0] if row else "PostgreSQL"

    def quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def tables(self, conn: Any) -> list[TableInfo]:
        rows = _rows(
            conn,
            "SELECT n.nspname, c.relname, c.relkind FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp%%' "
            "ORDER BY 1, 2",
        )
        kinds = {"r": "table", "p": "table", "f": "table", "v": "view", "m": "view"}
        return [
            TableInfo(f"{_pg_part(schema)}.{_pg_part(name)}", kinds[kind], schema)
            for schema, name, kind in rows
        ]

    def columns(self, conn: Any, table: str) -> list[ColumnInfo]:
        parts = split_name(table)
        rows = _rows(
            conn,
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull "
            "FROM pg_catalog.pg_attribute a WHERE a.attrelid = to_regclass(%s) "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            (".".join(self.quote(part) for part in parts),),
        )
        return [ColumnInfo(name, kind, nullable) for name, kind, nullable in rows]

    def described(self, cursor: Any) -> list[ColumnInfo]:
        description = list(cursor.description)
        oids = sorted({column.type_code for column in description})
        names: dict[int, str] = {}
        if oids:
            cursor.execute(
                "SELECT oid, format_type(oid, NULL) FROM pg_catalog.pg_type WHERE oid = ANY(%s)",
                (oids,),
            )
            names = {int(oid): str(name) for oid, name in cursor.fetchall()}
        return [ColumnInfo(c.name, names.get(c.type_code)) for c in description]

    def lines_json(self, sku: str, quantity: str, total: str) -> str:
        return (
            f"json_agg(json_build_object('sku', ({sku})::text, 'quantity', ({quantity})::text, "
            f"'total', ({total})::text))"
        )

    def start_statement(self, conn: Any, settings: DatabaseSettings) -> None:
        return None

    def stream(
        self, conn: Any, sql: str, params: Sequence[Any], names: Sequence[str], chunk_rows: int
    ) -> Iterator[pl.DataFrame]:
        with conn.cursor() as cur:
            bound = cur.mogrify(sql, tuple(params)).decode() if params else sql
        copy = f"COPY ({bound}) TO STDOUT WITH (FORMAT csv)"
        schema = dict.fromkeys(names, pl.String())
        done = 0
        for chunk, count in _copy_chunks(conn, copy, chunk_rows):
            try:
                frame = pl.read_csv(chunk, has_header=False, new_columns=list(names), schema=schema)
            except Exception:  # noqa: BLE001 - most likely text that is not UTF-8
                _raise_invalid_text(chunk, done)
                raise
            yield frame
            done += count


def _pg_part(name: str) -> str:
    """A name part as a mapping writes it: bare when it is a plain lower-case name."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


class _Stop(Exception):
    """The reader stopped early: abandon the COPY."""


_DONE = object()


class _CopySink:
    """Where psycopg2 writes a COPY's rows: one ``write`` per row, cut into chunks."""

    def __init__(self, out: queue.Queue[Any], stop: threading.Event, chunk_rows: int) -> None:
        self.out, self.stop, self.chunk_rows = out, stop, chunk_rows
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        if len(self.parts) >= self.chunk_rows:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.put((b"".join(self.parts), len(self.parts)))
            self.parts = []

    def put(self, item: Any) -> None:
        while True:
            if self.stop.is_set():
                raise _Stop
            try:
                self.out.put(item, timeout=0.1)
                return
            except queue.Full:
                continue


def _copy_chunks(conn: Any, copy: str, chunk_rows: int) -> Iterator[tuple[bytes, int]]:
    """The COPY's CSV output in chunks of ``chunk_rows`` rows, read on a worker thread."""
    out: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()
    sink = _CopySink(out, stop, chunk_rows)

    def work() -> None:
        try:
            with conn.cursor() as cur:
                cur.copy_expert(copy, sink)
            sink.flush()
            sink.put(_DONE)
        except _Stop:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            try:
                sink.put(exc)
            except _Stop:
                return

    worker = threading.Thread(target=work, name="localdb-copy", daemon=True)
    worker.start()
    try:
        while True:
            item = out.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _raise_invalid_text(chunk: bytes, first_row: int) -> None:
    """Find the row and column of the first value that is not UTF-8 (then raise)."""
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return
    text = chunk.decode("utf-8", "surrogateescape")
    for index, row in enumerate(csv.reader(io.StringIO(text, newline=""))):
        for column, value in enumerate(row):
            if any("\udc80" <= char <= "\udcff" for char in value):
                lossy = [
                    v.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for v in row
                ]
                raise InvalidText(first_row + index, column, lossy)


class MySql:
    """MySQL and MariaDB through PyMySQL; rows streamed by an unbuffered cursor."""

    kind: Kind = "mysql"
    param = "%s"

    def connect(self, settings: DatabaseSettings) -> Any:
        options = dict(settings.options)
        # PyMySQL's connect_timeout bounds the TCP connect only; the server's greeting is read
        # with read_timeout, so that one is the connect limit too until the session is open.
        conn = pymysql.connect(
            host=settings.host,
            port=settings.effective_port or 3306,
            user=settings.user or "",
            password=settings.password_value() or "",
            database=settings.database,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.connect_timeout,
            write_timeout=settings.connect_timeout,
            charset=options.get("charset", "utf8mb4"),
            autocommit=False,
        )
        # Then reads may wait as long as a statement may run (the server stops it at the limit).
        conn._read_timeout = conn._write_timeout = settings.statement_timeout + 30
        return conn

    def begin(self, conn: Any, settings: DatabaseSettings) -> str:
        # MariaDB announces itself as "5.5.5-10.11.6-MariaDB-..." to old clients.
        server = str(conn.get_server_info()).removeprefix("5.5.5-")
        with conn.cursor() as cur:
            if "mariadb" in server.lower():
                cur.execute("SET SESSION max_statement_time = %s", (settings.statement_timeout,))
            else:
                ms = int(settings.statement_timeout * 1000)
                cur.execute("SET SESSION max_execution_time = %s", (ms,))
            cur.execute("SET SESSION time_zone = '+00:00'")
            cur.execute("SET SESSION TRANSACTION READ ONLY")
            cur.execute("START TRANSACTION READ ONLY")
        kind = "MariaDB" if "mariadb" in server.lower() else "MySQL"
        return f"{kind} {server.split('-')[0]}"

    def quote(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def tables(self, conn: Any) -> list[TableInfo]:
        rows = _rows(
            conn,
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_schema = DATABASE() ORDER BY table_name",
        )
        return [
            TableInfo(str(name), "view" if "VIEW" in str(kind).upper() else "table")
            for name, kind in rows
        ]

    def columns(self, conn: Any, table: str) -> list[ColumnInfo]:
        parts = split_name(table)
        schema_test = "table_schema = %s" if len(parts) == 2 else "table_schema = DATABASE()"
        rows = _rows(
            conn,
            "SELECT column_name, column_type, is_nullable FROM information_schema.columns "
            f"WHERE {schema_test} AND table_name = %s ORDER BY ordinal_position",
            parts,
        )
        return [
            ColumnInfo(str(name), str(kind), nullable == "YES") for name, kind, nullable in rows
        ]

    def described(self, cursor: Any) -> list[ColumnInfo]:
        type_names = {
            value: name.lower() for name, value in vars(FIELD_TYPE).items() if name.isupper()
        }
        return [ColumnInfo(str(c[0]), type_names.get(c[1])) for c in cursor.description]

    def lines_json(self, sku: str, quantity: str, total: str) -> str:
        return (
            f"JSON_ARRAYAGG(JSON_OBJECT('sku', CAST({sku} AS CHAR), 'quantity', "
            f"CAST({quantity} AS CHAR), 'total', CAST({total} AS CHAR)))"
        )

    def start_statement(self, conn: Any, settings: DatabaseSettings) -> None:
        return None

    def stream(
        self, conn: Any, sql: str, params: Sequence[Any], names: Sequence[str], chunk_rows: int
    ) -> Iterator[pl.DataFrame]:
        cur = conn.cursor(pymysql.cursors.SSCursor)
        cur.execute(sql, tuple(params))
        yield from _fetch_frames(cur, names, chunk_rows)
        cur.close()


class Sqlite:
    """SQLite files, opened read-only (``mode=ro``) with ``PRAGMA query_only``."""

    kind: Kind = "sqlite"
    param = "?"

    def connect(self, settings: DatabaseSettings) -> Any:
        path = Path(settings.database).expanduser().resolve()
        uri = f"file:{urllib.parse.quote(str(path))}?mode=ro"
        conn = sqlite3.connect(
            uri,
            uri=True,
            timeout=settings.connect_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute("PRAGMA query_only = ON")
        return conn

    def begin(self, conn: Any, settings: DatabaseSettings) -> str:
        conn.execute("BEGIN")
        # Reading the schema fails here for a file that is not a database.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return f"SQLite {sqlite3.sqlite_version}"

    def quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def tables(self, conn: Any) -> list[TableInfo]:
        rows = _rows(
            conn,
            "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )
        return [TableInfo(str(name), str(kind)) for name, kind in rows]

    def columns(self, conn: Any, table: str) -> list[ColumnInfo]:
        parts = split_name(table)
        if len(parts) == 2:
            sql = f'SELECT name, type, "notnull" FROM {self.quote(parts[0])}.pragma_table_info(?)'
        else:
            sql = 'SELECT name, type, "notnull" FROM pragma_table_info(?)'
        rows = _rows(conn, sql, parts[-1:])
        return [
            ColumnInfo(str(name), str(kind) or None, not notnull) for name, kind, notnull in rows
        ]

    def described(self, cursor: Any) -> list[ColumnInfo]:
        return [ColumnInfo(str(c[0]), None) for c in cursor.description]

    def lines_json(self, sku: str, quantity: str, total: str) -> str:
        return (
            f"json_group_array(json_object('sku', CAST({sku} AS TEXT), 'quantity', "
            f"CAST({quantity} AS TEXT), 'total', CAST({total} AS TEXT)))"
        )

    def start_statement(self, conn: Any, settings: DatabaseSettings) -> None:
        deadline = time.monotonic() + settings.statement_timeout
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)

    def stream(
        self, conn: Any, sql: str, params: Sequence[Any], names: Sequence[str], chunk_rows: int
    ) -> Iterator[pl.DataFrame]:
        cur = conn.execute(sql, tuple(params))
        done = 0
        try:
            while True:
                rows = cur.fetchmany(chunk_rows)
                if not rows:
                    return
                yield rows_frame(rows, names, done)
                done += len(rows)
        except sqlite3.OperationalError as exc:
            if "decode" not in str(exc).lower():
                raise
            _find_undecodable(conn, sql, params, names)
            raise
        finally:
            cur.close()


def _find_undecodable(conn: Any, sql: str, params: Sequence[Any], names: Sequence[str]) -> None:
    """Read the query again with text as bytes to find the value that is not UTF-8."""
    conn.text_factory = bytes
    try:
        cur = conn.execute(sql, tuple(params))
        done = 0
        while rows := cur.fetchmany(10_000):
            rows_frame(rows, names, done)  # raises InvalidText at the value
            done += len(rows)
    finally:
        conn.text_factory = str


DIALECTS: Final[dict[Kind, Dialect]] = {
    "postgresql": Postgres(),
    "mysql": MySql(),
    "sqlite": Sqlite(),
}
