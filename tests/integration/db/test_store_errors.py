"""When our own database cannot be reached, the error says so and that a retry may help."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import select

from core.db.engine import make_engine, make_session_factory
from core.db.models import Organization
from core.db.tenancy import system_session, tenant_session
from core.errors import StoreError, retry_may_help


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nobody listens


@pytest.mark.postgres
def test_an_unreachable_postgresql_is_a_transient_store_error() -> None:
    url = f"postgresql+psycopg2://syncpreview:pw-not-shown@127.0.0.1:{_closed_port()}/nowhere"
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        for open_session in (lambda: system_session(sessions), lambda: tenant_session(sessions, 1)):
            with pytest.raises(StoreError) as caught, open_session() as s:
                s.execute(select(Organization.id))
            assert caught.value.transient and retry_may_help(caught.value)
            assert str(caught.value) == (
                "Our database did not answer (it may be restarting or busy); try again in a moment."
            )
            assert "pw-not-shown" not in str(caught.value)
    finally:
        engine.dispose()


def test_a_wrong_statement_is_not_taken_for_an_unreachable_database(session_factory) -> None:
    """SQLite reports "no such column" as an OperationalError too: it stays a bug."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError) as caught, system_session(session_factory) as s:
        s.execute(text("SELECT no_such_column FROM organizations"))
    assert "no_such_column" in str(caught.value)
