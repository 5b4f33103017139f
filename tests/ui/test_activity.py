"""The Activity screen: operational figures, chart, filtered and paged log."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.bootstrap import Services
from core.services.actors import UserContext
from tests.ui.appkit import open_page, texts


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_shows_figures_chart_and_log(
    role: str, services: Services, ctx: Callable[[str], UserContext]
) -> None:
    at = open_page("activity", role)
    labels = [m.label for m in at.metric]
    assert labels == [
        "Cache hit ratio",
        "Refresh p50",
        "Refresh p95",
        "Failed refreshes",
        "External timeouts",
    ]
    log = at.dataframe[0].value
    _, total = services.activity.list_activity(ctx(role))
    assert len(log) == min(total, 50)
    # (opening a signed-in session is no sign-in: only a password sign-in is a "login" row)
    assert {"refresh", "demo_loaded", "setup"} <= set(log["action"])
    assert "No refresh in this period yet." not in texts(at)  # the chart is drawn


def test_filters_by_action(services: Services) -> None:
    at = open_page("activity", "viewer")
    at.selectbox(key="act_action").set_value("refresh").run()
    assert not at.exception
    log = at.dataframe[0].value
    assert set(log["action"]) == {"refresh"}
    assert list(log["new"]) == [50] * len(log)


def test_filters_by_connector(services: Services, ctx: Callable[[str], UserContext]) -> None:
    admin = ctx("admin")
    odoo = next(c for c in services.connectors.list(admin) if c.sync_type == "odoo")
    services.previews.get_preview_snapshot(admin, None, "orders", connector=odoo.id)
    at = open_page("activity", "viewer")
    at.selectbox(key="act_connector").set_value(odoo.id).run()
    assert not at.exception
    log = at.dataframe[0].value
    assert set(log["connector"]) == {"Demo Odoo"}
    assert {"refresh", "connector_added"} <= set(log["action"])
