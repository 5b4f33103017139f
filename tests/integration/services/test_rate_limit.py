"""Fresh computations are limited per organization; cached reads are not."""

from __future__ import annotations

import pytest

from core.errors import RefreshRateLimited
from tests.conftest import REDIS_TEST_URL
from tests.integration.services.conftest import make_services


def _org(svc, sandbox, name: str):
    ctx = svc.accounts.create_organization(
        name,
        admin_username=f"{name.lower()}_admin",
        admin_name=name,
        admin_email=f"a@{name.lower()}.io",
        admin_password="password123",
    )
    svc.demo.load(ctx, sandbox_url=sandbox.url)
    return ctx


def test_memory_limit_counts_fresh_computations_only(db_url, tmp_path, sandbox):
    svc = make_services(db_url, tmp_path, rate_limit="2/minute")
    try:
        acme, other = _org(svc, sandbox, "Acme"), _org(svc, sandbox, "Other")
        svc.previews.get_preview_snapshot(acme, "woocommerce", "customers")
        svc.previews.get_preview_snapshot(acme, "woocommerce", "customers", force_refresh=True)
        for _ in range(5):  # cached reads are never limited
            assert svc.previews.get_preview_snapshot(acme, "woocommerce", "customers").cache_hit
        with pytest.raises(RefreshRateLimited) as caught:
            svc.previews.get_preview_snapshot(acme, "woocommerce", "customers", force_refresh=True)
        assert 0 < caught.value.retry_after <= 60
        assert f"Try again in {int(caught.value.retry_after)} s" in str(caught.value)
        # another organization has its own budget
        svc.previews.get_preview_snapshot(other, "woocommerce", "customers", force_refresh=True)
    finally:
        svc.close()


@pytest.mark.redis
def test_redis_limit_is_shared_by_two_app_processes(db_url, tmp_path, sandbox):
    """Two Services objects (two app processes) with one REDIS_URL share one budget."""
    import uuid

    ns = f"test-{uuid.uuid4().hex}"
    first = make_services(
        db_url, tmp_path, namespace=ns, rate_limit="2/minute", redis_url=REDIS_TEST_URL
    )
    second = make_services(
        db_url, tmp_path, namespace=ns, rate_limit="2/minute", redis_url=REDIS_TEST_URL
    )
    try:
        acme = _org(first, sandbox, "Acme")
        first.previews.get_preview_snapshot(acme, "odoo", "products", force_refresh=True)
        second.previews.get_preview_snapshot(acme, "odoo", "products", force_refresh=True)
        with pytest.raises(RefreshRateLimited):
            first.previews.get_preview_snapshot(acme, "odoo", "products", force_refresh=True)
        with pytest.raises(RefreshRateLimited):
            second.previews.get_preview_snapshot(acme, "odoo", "products", force_refresh=True)
    finally:
        first.close()
        second.close()
