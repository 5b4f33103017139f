"""Connecting to the organization's database: plain-words results, read-only reads, time
limits, and the password nowhere — on PostgreSQL, MariaDB and an SQLite file."""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from core.errors import (
    AuthError,
    BadQuery,
    ExternalTimeout,
    WriteRefused,
)
from core.localdb import DatabaseSettings, LocalDatabase, LocalMapping, LocalReader
from tests.integration.localdb.conftest import MARIADB, Crm


def snapshot(crm: Crm) -> list[tuple[object, ...]]:
    return crm.admin(f"SELECT cust_no, mail, town FROM {crm.table('clients')} ORDER BY cust_no")


def test_a_good_connection_says_so(crm: Crm) -> None:
    check = LocalDatabase(crm.settings).test_connection()
    assert check.ok, check.message
    assert "read-only" in check.message
    assert check.server


def test_tables_views_and_columns(crm: Crm) -> None:
    db = LocalDatabase(crm.settings)
    listed = {(t.name, t.kind) for t in db.tables()}
    assert (crm.table("clients"), "table") in listed
    assert (crm.table("active_clients"), "view") in listed
    columns = {c.name: (c.type or "").lower() for c in db.columns(crm.table("clients"))}
    assert list(columns)[:3] == ["cust_no", "woo_id", "mail"]
    assert "int" in columns["cust_no"] and "char" in columns["mail"]
    assert [c.name for c in db.query_columns(f"SELECT mail, town FROM {crm.table('clients')}")] == [
        "mail",
        "town",
    ]
    with pytest.raises(BadQuery, match="no table or view"):
        db.columns(crm.table("nothing_here"))


WRITES = {
    "update": "UPDATE {t} SET town = 'hacked'",
    "delete": "DELETE FROM {t}",
    "insert": "INSERT INTO {t} (cust_no, mail) VALUES (99, 'x@y.z')",
    "drop": "DROP TABLE {t}",
}


@pytest.mark.parametrize("statement", WRITES, ids=str)
def test_the_database_itself_refuses_writes(crm: Crm, statement: str) -> None:
    """Beneath the mapping's checks, the read-only transaction refuses any write."""
    before = snapshot(crm)
    with LocalDatabase(crm.settings).read_only() as session, pytest.raises(WriteRefused) as err:
        session.execute(WRITES[statement].format(t=crm.table("clients")))
    assert "nothing was changed" in str(err.value)
    assert snapshot(crm) == before


def test_two_statements_in_one_go_write_nothing(crm: Crm) -> None:
    before = snapshot(crm)
    sql = f"SELECT 1; DELETE FROM {crm.table('clients')}"
    with (
        LocalDatabase(crm.settings).read_only() as session,
        pytest.raises((WriteRefused, BadQuery)),
    ):
        session.execute(sql)
    assert snapshot(crm) == before


def test_a_mapping_query_that_writes_is_refused(crm: Crm) -> None:
    before = snapshot(crm)
    for query in (
        f"UPDATE {crm.table('clients')} SET town = 'x'",
        f"SELECT mail FROM {crm.table('clients')}; DELETE FROM {crm.table('clients')}",
    ):
        with pytest.raises((WriteRefused, BadQuery), match="single SELECT"):
            LocalMapping.create(
                "woocommerce", "customers", query=query, match="natural", columns={"email": "mail"}
            )
    if crm.kind == "postgresql":
        # Starts as a read; the database refuses the write it hides.
        mapping = LocalMapping.create(
            "woocommerce",
            "customers",
            query=f"WITH gone AS (DELETE FROM {crm.table('clients')} RETURNING mail) "
            "SELECT mail FROM gone",
            match="natural",
            columns={"email": "mail"},
        )
        with pytest.raises(WriteRefused, match="nothing was changed"):
            list(LocalReader(LocalDatabase(crm.settings), mapping).frames())
    if crm.kind == "sqlite":
        with LocalDatabase(crm.settings).read_only() as s, pytest.raises(WriteRefused):
            s.execute(f"WITH x AS (SELECT 1) DELETE FROM {crm.table('clients')}")
    assert snapshot(crm) == before


def test_a_query_over_its_time_limit_is_stopped(crm: Crm) -> None:
    slow = {
        "postgresql": "SELECT pg_sleep(5)",
        "mysql": "SELECT SLEEP(5)",
        "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
        "SELECT count(*) FROM n",
    }[crm.kind]
    settings = DatabaseSettings.from_dict(crm.settings.public_dict() | {"statement_timeout": 1})
    with LocalDatabase(settings).read_only() as session, pytest.raises(ExternalTimeout) as err:
        session.rows(slow)
    assert str(err.value).startswith("The query took longer than the 1 s allowed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(sock.getsockname()[1])
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    sock.close()


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_unreachable_and_silent_servers(kind: str, silent_server: int) -> None:
    port = _free_port()
    closed = LocalDatabase(
        DatabaseSettings(kind=kind, host="127.0.0.1", port=port, database="crm", user="u")  # type: ignore[arg-type]
    ).test_connection()
    assert not closed.ok and closed.error == "Unreachable"
    assert closed.message.startswith(f"Nothing answers at 127.0.0.1:{port}: check the host name")
    silent = LocalDatabase(
        DatabaseSettings(
            kind=kind,  # type: ignore[arg-type]
            host="127.0.0.1",
            port=silent_server,
            database="crm",
            user="u",
            connect_timeout=2,
        )
    ).test_connection()
    assert not silent.ok and silent.error == "ExternalTimeout", silent.message
    assert silent.message.startswith(f"127.0.0.1:{silent_server} did not answer within 2 s")
    assert silent.seconds < 10


def test_unknown_database_and_user(crm: Crm) -> None:
    if crm.kind == "sqlite":
        pytest.fail("not for SQLite")  # pragma: no cover - excluded below
    wrong_db = LocalDatabase(
        DatabaseSettings.from_dict(crm.settings.public_dict() | {"database": "no_such_db_x"})
    ).test_connection()
    assert wrong_db.error == "RemoteNotFound"
    assert wrong_db.message.startswith("There is no database named 'no_such_db_x'")
    wrong_user = LocalDatabase(
        DatabaseSettings.from_dict(crm.settings.public_dict() | {"user": "nobody_here"})
    ).test_connection()
    assert wrong_user.error == "AuthError"
    assert "refused user 'nobody_here' or the password" in wrong_user.message


test_unknown_database_and_user = pytest.mark.parametrize(
    "crm", ["postgresql", "mysql"], indirect=True
)(test_unknown_database_and_user)


def test_sqlite_missing_file_and_not_a_database(tmp_path: Path) -> None:
    missing = LocalDatabase(DatabaseSettings(kind="sqlite", database=str(tmp_path / "no.db")))
    check = missing.test_connection()
    assert check.error == "RemoteNotFound"
    assert check.message.startswith(f"There is no SQLite database at {tmp_path / 'no.db'}")
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a database\n" * 100)
    check = LocalDatabase(DatabaseSettings(kind="sqlite", database=str(text))).test_connection()
    assert check.error == "RemoteNotFound"
    assert check.message == f"{text} is not an SQLite database file."


@pytest.fixture
def mariadb_user(mariadb_crm: Crm) -> Iterator[tuple[str, str]]:
    """A MariaDB user with a real password, allowed to read the test database."""
    name = f"sp_{uuid.uuid4().hex[:8]}"
    password = f"Pw-{uuid.uuid4().hex}"
    conn = pymysql.connect(autocommit=True, **MARIADB)
    with conn.cursor() as cur:
        for host in ("%", "localhost", "127.0.0.1"):
            cur.execute("CREATE USER %s@%s IDENTIFIED BY %s", (name, host, password))
            cur.execute(f"GRANT SELECT ON {mariadb_crm.settings.database}.* TO %s@%s", (name, host))
    try:
        yield name, password
    finally:
        with conn.cursor() as cur:
            for host in ("%", "localhost", "127.0.0.1"):
                cur.execute("DROP USER IF EXISTS %s@%s", (name, host))
        conn.close()


def test_wrong_password_in_plain_words_and_never_shown(
    mariadb_crm: Crm, mariadb_user: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user, password = mariadb_user
    database = mariadb_crm.settings.database
    good = DatabaseSettings.from_url(f"mysql://{user}:{password}@127.0.0.1:3306/{database}")
    assert LocalDatabase(good).test_connection().ok
    wrong_password = f"Wrong-{uuid.uuid4().hex}"
    bad = DatabaseSettings.from_url(f"mysql://{user}:{wrong_password}@127.0.0.1:3306/{database}")
    check = LocalDatabase(bad).test_connection()
    assert check.error == "AuthError"
    assert check.message == (
        f"MySQL / MariaDB at 127.0.0.1:3306 refused user '{user}' or the password: check both, "
        "and that the user may connect to this database."
    )
    with pytest.raises(AuthError) as err, LocalDatabase(bad).read_only():
        pass  # pragma: no cover - connecting fails
    shown = [
        check.message,
        str(err.value),
        repr(err.value),
        repr(bad),
        str(bad),
        repr(LocalDatabase(bad)),
        str(bad.public_dict()),
        bad.public_url(),
        caplog.text,
    ]
    for text in shown:
        assert wrong_password not in text and password not in text
    assert bad.password_value() == wrong_password  # kept apart, for the driver only
