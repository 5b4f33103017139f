"""The Connectors screen's "Your database": connect an SQLite file, see the test's result, map
customers with drop-downs, see a sample as the preview compares it, save a version."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from core.bootstrap import Services
from core.services.actors import UserContext
from core.services.local_data import LocalMapping
from tests.ui.appkit import errors, open_page, texts
from ui.format import md


def _shop(tmp_dir: Path) -> Path:
    path = tmp_dir / "shop.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE clients (no INTEGER PRIMARY KEY, woo_id TEXT, mail TEXT, town TEXT)")
    conn.execute("INSERT INTO clients VALUES (1, '1', ' Ann@Example.ORG ', 'Paris')")
    conn.commit()
    conn.close()
    return path


def test_connect_map_sample_and_save(
    services: Services, ctx: Callable[[str], UserContext], tmp_dir: Path
) -> None:
    shop = _shop(tmp_dir)
    at = open_page("connectors", "admin")
    assert "No database of yours is connected" in texts(at)
    at.radio(key="localdb_kind").set_value("sqlite").run()
    at.text_input(key="localdb_path").input(str(shop))
    at.button(key="localdb_try").click().run()
    assert not at.exception
    assert md("read-only: 1 table or view visible") in texts(at)
    at.button(key="localdb_save").click().run()
    connected = services.local_data.database(ctx("admin"))
    assert connected is not None and connected.kind == "sqlite"

    key = "map_woocommerce_customers"
    at.selectbox(key=f"{key}_table").select("clients").run()
    at.selectbox(key=f"{key}_idcol").select("woo_id").run()
    at.selectbox(key=f"{key}_f_email").select("mail").run()
    at.selectbox(key=f"{key}_f_city").select("town").run()
    at.button(key=f"{key}_sample").click().run()
    assert not at.exception
    (rows,) = [d.value for d in at.dataframe if "email" in d.value.columns]
    assert rows.to_dict("records") == [
        {"external_id": "1", "email": "ann@example.org", "city": "Paris"}
    ]
    at.button(key=f"{key}_save").click().run()
    assert not at.exception
    saved = services.local_data.mapping(ctx("admin"), "woocommerce", "customers")
    assert saved is not None and saved.version == 1
    assert saved.mapping is not None and saved.mapping.column_of == {
        "email": "mail",
        "city": "town",
    }
    assert "Mapping saved (version 1)" in texts(at)


def test_the_password_is_never_shown(services: Services, ctx: Callable[[str], UserContext]) -> None:
    secret = "crm-Pa55-never-shown"
    services.local_data.set_database(
        ctx("admin"),
        services.local_data.draft_settings(url=f"postgresql://reader:{secret}@127.0.0.1:1/crm"),
    )
    at = open_page("connectors", "admin")
    shown = texts(at)
    assert md("postgresql://reader@127.0.0.1:1/crm") in shown and "••••••" in shown
    assert secret not in shown
    assert all(secret not in str(t.value) for t in at.text_input)
    at.button(key="localdb_test").click().run()
    assert md("Nothing answers at 127.0.0.1:1") in texts(at)
    assert secret not in texts(at)


def _mapped_shop(services: Services, admin: UserContext, tmp_dir: Path, *, notnull: bool) -> Path:
    """An SQLite shop file connected and mapped (customers by the store's id in woo_id)."""
    path = tmp_dir / f"wb_{'strict' if notnull else 'ok'}.sqlite"
    conn = sqlite3.connect(path)
    extra = ", must_have TEXT NOT NULL" if notnull else ""
    conn.execute(
        "CREATE TABLE clients (no INTEGER PRIMARY KEY, woo_id TEXT, mail TEXT, town TEXT, "
        f"active INTEGER NOT NULL DEFAULT 1{extra})"
    )
    conn.commit()
    conn.close()
    local = services.local_data
    local.set_database(admin, local.draft_settings(kind="sqlite", database=str(path)))
    local.save_mapping(
        admin,
        LocalMapping.create(
            "woocommerce",
            "customers",
            table="clients",
            match="id:woo_id",
            columns={"email": "mail", "city": "town"},
        ),
    )
    return path


def test_write_back_is_switched_on_with_a_check_in_words(
    services: Services, ctx: Callable[[str], UserContext], tmp_dir: Path
) -> None:
    admin = ctx("admin")
    _mapped_shop(services, admin, tmp_dir, notnull=True)
    at = open_page("connectors", "admin")
    key = "wb_woocommerce_customers"
    assert md("Write-back is off: applies never write to your database.") in texts(at)

    # a NOT NULL column the mapping does not fill: refused, named, nothing switched on
    at.toggle(key=f"{key}_on").set_value(True).run()
    at.button(key=f"{key}_save").click().run()
    assert not at.exception
    assert "must_have" in errors(at) and "Write-back stays as it was" in errors(at)
    assert not services.local_data.write_back(admin, "woocommerce", "customers").enabled

    _mapped_shop(services, admin, tmp_dir, notnull=False)
    at = open_page("connectors", "admin")
    at.toggle(key=f"{key}_on").set_value(True).run()
    at.radio(key=f"{key}_deletes").set_value("deactivate").run()
    at.selectbox(key=f"{key}_active").select("active").run()
    at.button(key=f"{key}_save").click().run()
    assert not at.exception
    view = services.local_data.write_back(admin, "woocommerce", "customers")
    assert view.enabled and view.active_column == "active"
    assert md("Write-back is on: applies write to table clients") in texts(at)
    assert md("deletions mark inactive via column active") in texts(at)
    at.button(key=f"{key}_check").click().run()
    assert md("Table clients can be written") in texts(at)
