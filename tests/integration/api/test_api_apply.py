"""POST ...?action=apply over real HTTP: a real API process, signed tokens, the sandbox."""

from __future__ import annotations

import requests

from tests.integration.api import test_api as base
from tests.integration.api.test_api import Api, bearer, services_of, token

# the fixtures of the API tests: a demo database and an API process of its own
demo_env, api, org_id = base.demo_env, base.api, base.org_id

WHICH = {"sync_type": "woocommerce", "entity_type": "products"}


def _preview(api: Api, tok: str) -> dict:
    got = requests.get(api.url, params=WHICH, headers=bearer(tok), timeout=60)
    assert got.status_code == 200, got.text
    return got.json()["data"]


def test_apply_answers_the_run_and_the_preview_no_longer_shows_it(api: Api, org_id: int):
    tok = token(org_id, "admin")
    before = _preview(api, tok)
    unticked = [before["delta"]["new"]["records"][0]["external_id"]]
    new, updated = before["delta"]["new"]["count"], before["delta"]["updated"]["count"]

    services = services_of(api.env)
    try:
        snapshot_id = services.previews.latest(
            services.accounts.operator(org_id), "woocommerce", "products"
        ).snapshot_id
    finally:
        services.close()
    answer = requests.post(
        api.url,
        params={"action": "apply", **WHICH},
        json={"snapshotId": snapshot_id, "exclude": unticked},
        headers=bearer(tok),
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["success"] is True and answer.headers["Cache-Control"] == "no-store"
    run = body["data"]
    assert run["state"] == "succeeded" and run["createdBy"] == "admin"
    assert run["planned"] == {"create": new - 1, "update": updated, "delete": 0}
    assert run["counts"] == {
        "created": new - 1,
        "updated": updated,
        "deleted": 0,
        "conflicts": 0,
        "skipped": 0,
    }
    after = _preview(api, tok)
    assert after["cacheHit"] is False  # recomputed after the apply
    assert after["delta"]["new"]["count"] == 1 and after["delta"]["updated"]["count"] == 0

    # that preview is spent: applying it again is refused in words
    again = requests.post(
        api.url,
        params={"action": "apply", **WHICH},
        json={"snapshotId": snapshot_id},
        headers=bearer(tok),
        timeout=60,
    )
    assert again.status_code == 400 and "no longer the newest" in again.json()["error"]


def test_apply_refuses_viewers_and_wrong_bodies(api: Api, org_id: int):
    services = services_of(api.env)
    try:
        admin = services.accounts.operator(org_id)
        services.accounts.add_user(admin, "val", "Val", "val@demo.example", "password123", "viewer")
    finally:
        services.close()
    params = {"action": "apply", "sync_type": "odoo", "entity_type": "customers"}
    viewer = requests.post(api.url, params=params, headers=bearer(token(org_id, "val")), timeout=60)
    assert viewer.status_code == 403
    assert (
        viewer.json()["error"] == "You need to be an editor to apply a sync; your role is viewer."
    )

    tok = token(org_id, "admin")
    for body, status, words in (
        ({"exclude": "17"}, 400, "exclude must be a list"),
        ({"snapshotId": "x"}, 400, "snapshotId must be a whole number"),
        ({"snapshotIds": 1}, 400, "Unknown snapshotIds"),
        ([1, 2], 400, "Send a JSON object"),
    ):
        got = requests.post(api.url, params=params, json=body, headers=bearer(tok), timeout=60)
        assert got.status_code == status, got.text
        assert words in got.json()["error"]
    too_big = requests.post(
        api.url,
        params=params,
        data=b'{"exclude": [' + b'"1",' * 20_000 + b'"2"]}',
        headers=bearer(tok, **{"Content-Type": "application/json"}),
        timeout=60,
    )
    assert too_big.status_code == 413


def test_apply_to_your_database_is_refused_while_write_back_is_off(api: Api, org_id: int, tmp_path):
    """The preview compares with an SQLite file of the organization; write-back is off: the
    apply answers 400 with the sentence saying where an admin switches it on, and the file is
    not written."""
    import sqlite3

    from core.services.local_data import LocalMapping

    shop = tmp_path / "shop.sqlite"
    conn = sqlite3.connect(shop)
    conn.execute("CREATE TABLE clients (no INTEGER PRIMARY KEY, woo_id TEXT, mail TEXT)")
    conn.commit()
    conn.close()
    before = shop.read_bytes()
    services = services_of(api.env)
    try:
        operator = services.accounts.operator(org_id)
        local = services.local_data
        local.set_database(operator, local.draft_settings(kind="sqlite", database=str(shop)))
        local.save_mapping(
            operator,
            LocalMapping.create(
                "woocommerce",
                "customers",
                table="clients",
                match="id:woo_id",
                columns={"email": "mail"},
            ),
        )
    finally:
        services.close()
    which = {"sync_type": "woocommerce", "entity_type": "customers"}
    tok = token(org_id, "admin")
    got = requests.get(api.url, params=which, headers=bearer(tok), timeout=60)
    assert got.status_code == 200 and got.json()["data"]["delta"]["new"]["count"] > 0
    answer = requests.post(
        api.url, params={"action": "apply", **which}, headers=bearer(tok), timeout=60
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert "write-back is off" in error and "Connectors › Your database" in error
    assert shop.read_bytes() == before
