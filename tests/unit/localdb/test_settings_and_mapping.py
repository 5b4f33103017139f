"""Connection settings (the password kept apart) and mappings (validated, JSON round trip)."""

from __future__ import annotations

import pytest

from core.errors import BadQuery, InvalidRequest, WriteRefused
from core.localdb import DatabaseSettings, LinesMapping, LocalMapping, MatchMode
from core.localdb.names import check_select, split_name

SECRET = "s3cr3t-P@ss/w0rd"


def test_a_url_with_credentials_becomes_fields_and_a_password_apart() -> None:
    settings = DatabaseSettings.from_url(
        "postgresql+psycopg2://crm:s3cr3t-P%40ss%2Fw0rd@db.internal:6543/crm_prod?sslmode=require"
    )
    assert settings.public_dict() == {
        "kind": "postgresql",
        "database": "crm_prod",
        "host": "db.internal",
        "port": 6543,
        "user": "crm",
        "options": {"sslmode": "require"},
        "connect_timeout": 10.0,
        "statement_timeout": 60.0,
    }
    assert settings.password_value() == SECRET
    for shown in (repr(settings), str(settings), settings.public_url(), settings.label):
        assert SECRET not in shown and "s3cr3t" not in shown
    assert settings.public_url() == "postgresql://crm@db.internal:6543/crm_prod?sslmode=require"
    again = DatabaseSettings.from_dict(settings.public_dict(), password=SECRET)
    assert again == settings and again.password_value() == SECRET


@pytest.mark.parametrize(
    ("url", "kind", "address"),
    [
        ("mysql://shop@10.0.0.5/shop", "mysql", "10.0.0.5:3306"),
        ("mariadb+pymysql://shop@db/shop", "mysql", "db:3306"),
        ("postgres://u@h/d", "postgresql", "h:5432"),
        ("sqlite:////srv/data/shop.db", "sqlite", "/srv/data/shop.db"),
    ],
)
def test_url_kinds(url: str, kind: str, address: str) -> None:
    settings = DatabaseSettings.from_url(url)
    assert (settings.kind, settings.address) == (kind, address)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("oracle://u@h/d", "Unsupported database type 'oracle'"),
        ("postgresql+asyncpg://u@h/d", "Unsupported driver 'asyncpg'"),
        ("not a url", "That is not a database URL"),
        ("postgresql://u@/d", "Give the host name of the PostgreSQL server."),
        ("mysql://u@h/d?ssl_ca=x", "Unsupported option 'ssl_ca'"),
        ("sqlite://", "Give the path of the SQLite file."),
    ],
)
def test_bad_urls_say_what_to_fix(url: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        DatabaseSettings.from_url(url)


def test_the_password_may_come_apart_from_the_url() -> None:
    settings = DatabaseSettings.from_url("mysql://shop:inline@db/shop", password=SECRET)
    assert settings.password_value() == SECRET
    assert settings.with_password(None).password_value() is None


def mapping(**changes: object) -> LocalMapping:
    values: dict[str, object] = {
        "table": "crm.clients",
        "match": "id:woo_id",
        "columns": {"city": "town", "email": "mail"},
    }
    values.update(changes)
    return LocalMapping.create("woocommerce", "customers", **values)  # type: ignore[arg-type]


def test_a_mapping_round_trips_through_json() -> None:
    orders = LocalMapping.create(
        "odoo",
        "orders",
        table="sales",
        match="natural",
        columns={"number": "sale_no", "total": "sum_total"},
        lines=LinesMapping.from_columns(
            {"order_key": "sale_ref", "sku": "article", "quantity": "qty", "total": "line_sum"},
            table="sale_lines",
        ),
    )
    for value in (mapping(), orders):
        assert LocalMapping.from_json(value.to_json()) == value
    assert orders.parent_key == "sale_no"  # natural: the order number's column
    assert orders.compared_fields == ("number", "total", "lines")
    assert mapping().columns == (("email", "mail"), ("city", "town"))  # comparable order
    assert mapping().describe() == (
        "Customers from crm.clients, matched by the store's id in column woo_id; compared: "
        "email, city; not compared: name, phone, company, address_1, address_2, state, "
        "postcode, country, status."
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"table": None}, "either a table"),
        ({"query": "SELECT 1"}, "not both"),
        ({"match": "natural", "columns": {"city": "town"}}, "needs the email field mapped"),
        ({"match": "key:x"}, "Unknown match 'key:x'"),
        ({"columns": {"colour": "c"}}, "'colour' is not a field of customers"),
        ({"columns": {}}, "at least one field"),
        ({"columns": {"email": " "}}, "Give the column that holds email"),
        ({"table": "a.b.c"}, "is not a table name"),
    ],
)
def test_a_mapping_that_cannot_work_says_why(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        mapping(**changes)


def test_a_newer_or_unknown_saved_form_is_refused() -> None:
    data = mapping().to_dict()
    with pytest.raises(InvalidRequest, match="newer Sync Preview"):
        LocalMapping.from_dict(data | {"format": 99})
    with pytest.raises(InvalidRequest, match="Unknown mapping setting"):
        LocalMapping.from_dict(data | {"colour": "red"})


def test_match_modes_parse_and_print() -> None:
    assert str(MatchMode.parse(" id: woo_customer_id ")) == "id:woo_customer_id"
    assert MatchMode.parse("NATURAL") == MatchMode("natural")


@pytest.mark.parametrize(
    ("sql", "error", "message"),
    [
        ("UPDATE t SET a = 1", WriteRefused, "starts with UPDATE"),
        ("  /* hi */ delete from t", WriteRefused, "starts with DELETE"),
        ("SELECT a FROM t; DELETE FROM t", BadQuery, "more than one statement"),
        ("EXPLAIN SELECT 1", BadQuery, "starts with 'EXPLAIN'"),
        ("", BadQuery, "empty"),
    ],
)
def test_only_one_select_is_a_mapping_query(sql: str, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        check_select(sql)


def test_what_a_select_may_hold() -> None:
    assert check_select("SELECT 'a;b' AS x, \"c;d\" FROM t -- ; comment\n;  ") == (
        "SELECT 'a;b' AS x, \"c;d\" FROM t -- ; comment"
    )
    assert check_select("WITH x AS (SELECT 1) SELECT * FROM x").startswith("WITH")
    assert check_select("(SELECT 1)") == "(SELECT 1)"


def test_table_names() -> None:
    assert split_name("crm.clients") == ("crm", "clients")
    assert split_name('"My Schema"."odd.name"') == ("My Schema", "odd.name")
    assert split_name("`shop`.`order lines`") == ("shop", "order lines")
