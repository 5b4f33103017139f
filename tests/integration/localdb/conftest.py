"""The organization's own database, for real: PostgreSQL, MariaDB and an SQLite file.

Each is laid out unlike our tables (``crm.clients(cust_no, mail, full_name, town, ...)``)
and created for this run, then dropped. MariaDB must answer at 127.0.0.1:3306: if it does
not, it is started (``start-stop-daemon`` with ``/usr/sbin/mariadbd``); if it still does not,
the tests fail (they never skip).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import pymysql
import pytest

from core.localdb import DatabaseSettings

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root"}


@dataclass
class Crm:
    """One test database: its settings, its table names, and a way to run SQL as admin."""

    kind: str
    settings: DatabaseSettings
    admin: Callable[[str], list[tuple[Any, ...]]]
    schema: str  # "crm." on PostgreSQL, "" elsewhere

    def table(self, name: str) -> str:
        return f"{self.schema}{name}"

    def scalar(self, sql: str) -> Any:
        return self.admin(sql)[0][0]


SCHEMA = """
CREATE TABLE {s}clients (
    cust_no BIGINT PRIMARY KEY,
    woo_id BIGINT,
    mail VARCHAR(200),
    full_name VARCHAR(200),
    town VARCHAR(100),
    region VARCHAR(10),
    phone_no VARCHAR(40),
    joined TIMESTAMP NULL
);
CREATE TABLE {s}items (
    art_no VARCHAR(40) PRIMARY KEY,
    label VARCHAR(200),
    unit_price DECIMAL(12, 2),
    stock VARCHAR(40)
);
CREATE TABLE {s}sales (
    sale_id BIGINT PRIMARY KEY,
    sale_no VARCHAR(40),
    woo_order BIGINT,
    sum_total DECIMAL(12, 2),
    cur VARCHAR(3),
    placed TIMESTAMP NULL,
    lines_doc TEXT
);
CREATE TABLE {s}sale_lines (
    line_id BIGINT PRIMARY KEY,
    sale_ref BIGINT,
    article VARCHAR(40),
    qty DECIMAL(10, 2),
    line_sum DECIMAL(12, 2)
);
INSERT INTO {s}clients VALUES
    (1, 101, ' Ann@Example.org ', 'Ann  Lee', 'Paris', 'idf', '+33 1', '2024-05-01 10:00:00'),
    (2, 102, 'bob@example.org', 'Bob Roy', 'Lyon', NULL, NULL, NULL),
    (3, NULL, 'carl@example.org', 'Carl Fox', 'Nice', NULL, NULL, NULL),
    (4, 104, 'dup@example.org', 'Dee One', 'Porto', NULL, NULL, NULL),
    (5, 105, 'DUP@example.org', 'Dee Two', 'Porto', NULL, NULL, NULL),
    (6, 106, 'gone@example.org', 'Gus Old', 'Bern', NULL, NULL, NULL),
    (7, 107, NULL, 'No Mail', 'Oslo', NULL, NULL, NULL);
INSERT INTO {s}items VALUES
    ('A-1', 'Apple', 1.50, '10'),
    ('B-2', 'Bread', 2.00, '  7 '),
    ('C-3', 'Cheese', 12.00, 'abc');
INSERT INTO {s}sales VALUES
    (1, 'S-1', 9001, 12.50, 'eur', '2024-05-01 10:00:00',
     '[{{"art": "A-1", "n": 2, "sum": "3"}}, {{"art": "B-2", "n": 1, "sum": 9.5}}]'),
    (2, 'S-2', 9002, 4.00, 'EUR', '2024-05-02 11:30:00', NULL);
INSERT INTO {s}sale_lines VALUES
    (1, 1, 'B-2', 1, 9.50),
    (2, 1, 'A-1', 2, 3.00),
    (3, 2, 'A-1', 1, 4.00);
CREATE VIEW {s}active_clients AS SELECT cust_no, mail, town FROM {s}clients WHERE town <> 'Bern';
"""


def _statements(schema: str) -> list[str]:
    return [part.strip() for part in SCHEMA.format(s=schema).split(";") if part.strip()]


@pytest.fixture(scope="session")
def pg_crm() -> Iterator[Crm]:
    name = f"syncpreview_crm_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(dbname="postgres", **PG)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn = psycopg2.connect(dbname=name, **PG)
    conn.autocommit = True

    def run(sql: str) -> list[tuple[Any, ...]]:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall()) if cur.description else []

    run("CREATE SCHEMA crm")
    for statement in _statements("crm."):
        run(statement)
    try:
        yield Crm(
            "postgresql",
            DatabaseSettings(kind="postgresql", database=name, host="127.0.0.1", user="postgres"),
            run,
            "crm.",
        )
    finally:
        conn.close()
        with admin.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def _mariadb_answers() -> bool:
    try:
        pymysql.connect(connect_timeout=2, **MARIADB).close()
        return True
    except pymysql.err.MySQLError:
        return False


def ensure_mariadb() -> None:
    """Start MariaDB if it does not answer; fail loudly if it still does not."""
    if _mariadb_answers():
        return
    daemon = Path("/usr/sbin/mariadbd")
    if daemon.exists() and shutil.which("start-stop-daemon"):
        subprocess.run(
            ["start-stop-daemon", "--start", "--oknodo", "--background", "--exec", str(daemon)],
            check=False,
        )
        for _ in range(30):
            if _mariadb_answers():
                return
            time.sleep(1)
    pytest.fail(
        "MariaDB does not answer at 127.0.0.1:3306 (root, no password): the local-database "
        "tests need it. Install Debian's mariadb-server and start it (scripts/services does).",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def mariadb_crm() -> Iterator[Crm]:
    ensure_mariadb()
    name = f"syncpreview_{uuid.uuid4().hex[:10]}"
    conn = pymysql.connect(autocommit=True, **MARIADB)

    def run(sql: str) -> list[tuple[Any, ...]]:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall()) if cur.description else []

    run(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    run(f"USE {name}")
    for statement in _statements(""):
        run(statement)
    try:
        yield Crm(
            "mysql",
            DatabaseSettings(kind="mysql", database=name, host="127.0.0.1", user="root"),
            run,
            "",
        )
    finally:
        run(f"DROP DATABASE IF EXISTS {name}")
        conn.close()


@pytest.fixture(scope="session")
def sqlite_crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crm]:
    path = tmp_path_factory.mktemp("crm") / "crm.sqlite"
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def run(sql: str) -> list[tuple[Any, ...]]:
        return list(conn.execute(sql).fetchall())

    for statement in _statements(""):
        run(statement)
    try:
        yield Crm("sqlite", DatabaseSettings(kind="sqlite", database=str(path)), run, "")
    finally:
        conn.close()


@pytest.fixture(params=["postgresql", "mysql", "sqlite"])
def crm(request: pytest.FixtureRequest) -> Crm:
    """Each of the three databases in turn."""
    fixture = {"postgresql": "pg_crm", "mysql": "mariadb_crm", "sqlite": "sqlite_crm"}
    return request.getfixturevalue(fixture[request.param])
