"""Rows of org A are invisible to org B, for every tenant table, and unscoped queries fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from core.db import models as m
from core.db.tenancy import system_session, tenant_session
from core.errors import StoreError

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _connector(org_id: int, n: int) -> m.IntegrationConnector:
    return m.IntegrationConnector(
        org_id=org_id,
        sync_type="woocommerce",
        name=f"c{n}",
        base_url="http://x",
        credentials_encrypted=b"x",
    )


def _row(model: type, org_id: int, n: int) -> Any:
    """A minimal valid row of ``model`` for ``org_id``."""
    common: dict[str, Any] = {"org_id": org_id}
    if model is m.User:
        return m.User(
            **common,
            username=f"u{org_id}_{n}",
            name="U",
            email="u@x.io",
            password_hash="x",
            role="viewer",
        )
    if model is m.IntegrationConnector:
        return _connector(org_id, n)
    if model in (m.Customer, m.Product, m.Order):
        return model(**common, source="woocommerce", external_id=str(n))
    if model is m.PreviewCache:
        return m.PreviewCache(
            **common,
            connector=_connector(org_id, n),
            sync_type="woocommerce",
            entity_type="customers",
            status="ready",
            hash_version=1,
            expires_at=NOW,
        )
    if model is m.PreviewRecord:
        snap = m.PreviewCache(
            **common,
            connector=_connector(org_id, n),
            sync_type="odoo",
            entity_type="products",
            status="ready",
            hash_version=1,
            expires_at=NOW,
        )
        return m.PreviewRecord(
            **common,
            cache=snap,
            kind="new",
            position=n,
            external_id=str(n),
            search_text="",
            record={},
        )
    if model in (m.ApplyRun, m.ApplyJournal, m.ApplyResult):
        run = m.ApplyRun(
            **common,
            connector_id=n,
            connector_name="c",
            sync_type="woocommerce",
            entity_type="customers",
            snapshot_id=1000 * org_id + n,
        )
        if model is m.ApplyRun:
            return run
        journal = m.ApplyJournal(**common, run=run, op="create", external_id=str(n), planned={})
        if model is m.ApplyJournal:
            return journal
        return m.ApplyResult(**common, journal_id=1000 * org_id + n, state="done")
    if model is m.PreviewLock:
        return m.PreviewLock(
            **common,
            connector=_connector(org_id, n),
            sync_type="woocommerce",
            entity_type=f"e{n}",
            holder="h",
            lease_until=NOW + timedelta(hours=1),
        )
    if model is m.Job:
        return m.Job(
            **common,
            kind="refresh",
            actor_kind="operator",
            active_key=f"refresh:{n}:customers",
            state="queued",
        )
    if model is m.SelectiveConfig:
        return m.SelectiveConfig(
            **common, connector=_connector(org_id, n), sync_type="woocommerce", entity_type="e"
        )
    if model is m.WarmChoice:
        return m.WarmChoice(
            **common,
            connector=_connector(org_id, n),
            sync_type="woocommerce",
            entity_type="customers",
            every_minutes=60,
        )
    if model is m.ActivityLog:
        return m.ActivityLog(**common, user="u", action="view")
    if model is m.ApiToken:
        return m.ApiToken(
            **common,
            token_id=f"t{org_id}_{n}",
            subject="billing",
            kind="service",
            expires_at=NOW + timedelta(days=1),
        )
    if model is m.UserPreference:
        user = _row(m.User, org_id, n)
        return m.UserPreference(**common, user=user, name="connector", value={"id": 1})
    if model is m.LocalDatabaseRow:
        return m.LocalDatabaseRow(
            **common, kind="sqlite", settings={"kind": "sqlite", "database": "/x.db"}
        )
    if model is m.LocalMappingRow:
        return m.LocalMappingRow(
            **common,
            sync_type="woocommerce",
            entity_type="customers",
            version=1,
            kind="file",
            mapping={},
            summary="s",
        )
    if model is m.LocalWriteBack:
        return m.LocalWriteBack(
            **common, sync_type="woocommerce", entity_type=f"e{n}", enabled=True
        )
    raise AssertionError(f"add a row factory for {model.__name__}")


@pytest.fixture
def two_orgs(session_factory) -> tuple[int, int]:
    with system_session(session_factory) as s:
        a, b = m.Organization(name="A", slug="a"), m.Organization(name="B", slug="b")
        s.add_all([a, b])
        s.flush()
        return a.id, b.id


@pytest.mark.parametrize("model", m.TENANT_MODELS, ids=lambda x: x.__tablename__)
def test_org_b_cannot_see_or_touch_org_a_rows(session_factory, two_orgs, model):
    org_a, org_b = two_orgs
    with tenant_session(session_factory, org_a) as s:
        s.add(_row(model, org_a, 1))
    with tenant_session(session_factory, org_b) as s:
        assert s.scalars(select(model)).all() == []
        assert s.scalar(select(func.count()).select_from(model)) == 0
        s.execute(update(model).values(org_id=org_b).execution_options(synchronize_session=False))
        s.execute(delete(model).execution_options(synchronize_session=False))
    with tenant_session(session_factory, org_a) as s:
        rows = s.scalars(select(model)).all()
        assert len(rows) == 1 and rows[0].org_id == org_a


@pytest.mark.parametrize("model", m.TENANT_MODELS, ids=lambda x: x.__tablename__)
def test_a_query_without_an_org_is_refused(session_factory, model):
    with pytest.raises(StoreError), system_session(session_factory) as s:
        s.scalars(select(model)).all()


def test_writing_a_row_of_another_org_is_refused(session_factory, two_orgs):
    org_a, org_b = two_orgs
    with pytest.raises(StoreError), tenant_session(session_factory, org_b) as s:
        s.add(_row(m.ActivityLog, org_a, 1))
    with tenant_session(session_factory, org_a) as s:
        assert s.scalars(select(m.ActivityLog)).all() == []
