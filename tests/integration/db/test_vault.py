"""Connector secrets are encrypted at rest, masked for display, kept when not retyped."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.db.connector_store import ConnectorStore
from core.db.models import Organization
from core.db.tenancy import system_session, tenant_session
from core.db.vault import Vault, mask
from core.errors import ConfigError

SECRET = "cs_9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddcc"
KEY = "ck_0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def org_id(session_factory) -> int:
    with system_session(session_factory) as s:
        org = Organization(name="Acme", slug="acme")
        s.add(org)
        s.flush()
        return org.id


@pytest.fixture
def vault() -> Vault:
    return Vault(Fernet.generate_key().decode())


def _save(session_factory, org_id, vault) -> int:
    with tenant_session(session_factory, org_id) as s:
        view = ConnectorStore(s, vault).add(
            "woocommerce",
            "Shop",
            "https://shop.example.com/",
            {"consumer_key": KEY, "consumer_secret": SECRET},
            {"query_string_auth": False},
        )
    return view.id


def test_plaintext_secret_is_nowhere_in_the_database(
    session_factory, org_id, vault, db_url, db_engine
):
    _save(session_factory, org_id, vault)
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        with session_factory() as s:  # push the WAL into the main file too
            s.execute(text("PRAGMA wal_checkpoint(FULL)"))
        # Close our connections first: closing any other descriptor of the file in this
        # process would drop SQLite's POSIX locks (and corrupt the next writer's view).
        db_engine.dispose()
        raw = b"".join(
            p.read_bytes() for p in Path(url.database).parent.glob(Path(url.database).name + "*")
        )
    else:
        raw = subprocess.run(
            ["pg_dump", "-h", url.host, "-U", url.username, "-d", url.database, "--data-only"],
            check=True,
            capture_output=True,
        ).stdout
        assert b"integration_connector" in raw  # the dump really contains the table
    assert SECRET.encode() not in raw
    assert KEY.encode() not in raw


def test_display_is_masked_and_use_is_decrypted(session_factory, org_id, vault):
    cid = _save(session_factory, org_id, vault)
    with tenant_session(session_factory, org_id) as s:
        store = ConnectorStore(s, vault)
        view = store.get(cid)
        assert SECRET not in repr(view) and SECRET not in str(store.list())
        assert view.shown_credentials["consumer_secret"] == "cs_…" + SECRET[-4:]
        cfg = store.secret_config(cid)
        assert cfg.credentials["consumer_secret"] == SECRET
        assert SECRET not in repr(cfg)


def test_editing_without_retyping_keeps_the_secret(session_factory, org_id, vault):
    cid = _save(session_factory, org_id, vault)
    with tenant_session(session_factory, org_id) as s:
        ConnectorStore(s, vault).update(
            cid, name="Main shop", credentials={"consumer_key": "", "consumer_secret": ""}
        )
    with tenant_session(session_factory, org_id) as s:
        cfg = ConnectorStore(s, vault).secret_config(cid)
    assert cfg.name == "Main shop"
    assert cfg.credentials == {"consumer_key": KEY, "consumer_secret": SECRET}


def test_a_changed_secret_key_gives_a_clear_error(session_factory, org_id, vault):
    cid = _save(session_factory, org_id, vault)
    other = Vault(Fernet.generate_key().decode())
    with (
        pytest.raises(ConfigError, match="SECRET_KEY has changed"),
        tenant_session(session_factory, org_id) as s,
    ):
        ConnectorStore(s, other).secret_config(cid)


def test_mask_never_reveals_short_secrets():
    assert mask("admin") == "••••••"
    assert mask("") == ""
    assert mask(SECRET).startswith("cs_…") and len(mask(SECRET)) == 8
