"""Tenant isolation on every path into our tables, not only the ORM's selects.

Bulk and upsert inserts are held to the session's organization by the same rule as selects
(``core/db/tenancy.py``); raw SQL is allowed only where it takes its organization from an
``OrgScope``, which a scan of the code checks; and usernames belong to one organization, so
that nothing tells one organization about another's users.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite

from core.db import models as m
from core.db.local_records import LocalRecords
from core.db.scope import own_rows
from core.db.tenancy import tenant_session
from core.errors import InvalidRequest, SignInRefused, StoreError
from tests.integration.db.test_tenancy import _connector
from tests.reliability.conftest import SQLITE_ONLY

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 1, 1, tzinfo=UTC)
#: Raw SQL on our own database that reads or writes no organization's rows, and why.
NOT_TENANT_DATA = {
    ("core/db/engine.py", "_sqlite_pragmas"): "connection settings",
    ("core/services/health.py", "check"): "SELECT 1",
    ("core/db/previews.py", "add_ready"): "ANALYZE: the planner's statistics, no rows read",
    ("core/db/engine.py", "favour_index_lookups"): "a planner setting of the transaction",
    ("core/db/engine.py", "refresh_statistics"): "ANALYZE: the planner's statistics, no rows read",
}
#: Methods that run SQL the ORM's tenancy events never see, and SQLAlchemy's raw constructs.
RAW_METHODS = {"exec_driver_sql", "copy_expert", "cursor"}
RAW_CONSTRUCTS = {"text", "Table", "table", "literal_column"}
#: Folders whose SQL is not on our tables (the organization's own database) or not SQL.
OUTSIDE = ("core/localdb/", "core/sandbox/", "core/db/migrations/")


def _snapshot(session_factory, org_id: int) -> int:
    with tenant_session(session_factory, org_id) as s:
        snap = m.PreviewCache(
            org_id=org_id,
            connector=_connector(org_id, 1),
            sync_type="woocommerce",
            entity_type="customers",
            status="ready",
            hash_version=1,
            expires_at=NOW,
        )
        s.add(snap)
        s.flush()
        return snap.id


def _record(org_id: int, cache_id: int, n: int) -> dict[str, object]:
    return {
        "org_id": org_id,
        "cache_id": cache_id,
        "kind": "new",
        "position": n,
        "external_id": str(n),
        "search_text": "",
        "record": {},
    }


def test_a_bulk_insert_of_another_organizations_rows_is_refused(session_factory, two_orgs):
    org_a, org_b = two_orgs
    cache_b = _snapshot(session_factory, org_b)
    rows = [_record(org_a, cache_b, 1), _record(org_b, cache_b, 2)]
    with (
        pytest.raises(StoreError, match="a row of another organization"),
        tenant_session(session_factory, org_a) as s,
    ):
        s.execute(insert(m.PreviewRecord), rows)
    unsaid = _record(org_a, cache_b, 3)
    del unsaid["org_id"]
    with (
        pytest.raises(StoreError, match="a row of another organization"),  # or of none said
        tenant_session(session_factory, org_a) as s,
    ):
        s.execute(insert(m.PreviewRecord), [unsaid])
    with tenant_session(session_factory, org_b) as s:
        assert s.query(m.PreviewRecord).count() == 0


def test_an_upsert_of_another_organizations_row_is_refused(session_factory, two_orgs, db_url):
    org_a, org_b = two_orgs
    dialect = postgresql if db_url.startswith("postgresql") else sqlite
    stmt = dialect.insert(m.Customer)
    stmt = stmt.on_conflict_do_update(
        index_elements=["org_id", "source", "external_id"], set_={"city": stmt.excluded.city}
    )
    row = {"org_id": org_b, "source": "woocommerce", "external_id": "1", "city": "Lyon"}
    with (
        pytest.raises(StoreError, match="a row of another organization"),
        tenant_session(session_factory, org_a) as s,
    ):
        s.execute(stmt, [row])
    single = dialect.insert(m.PreviewLock).values(
        org_id=org_b, sync_type="woocommerce", entity_type="customers", holder="h",
        lease_until=NOW + timedelta(hours=1),
    )  # fmt: skip
    with (
        pytest.raises(StoreError, match="a row of another organization"),
        tenant_session(session_factory, org_a) as s,
    ):
        s.execute(single)
    with tenant_session(session_factory, org_a) as s:  # the helper of bulk writes says so too
        with pytest.raises(StoreError, match="a row of another organization"):
            list(own_rows(s, [{"org_id": org_b}]))
        assert list(own_rows(s, [{"external_id": "1"}])) == [{"external_id": "1", "org_id": org_a}]


def test_raw_reads_see_only_their_organization(session_factory, two_orgs):
    org_a, org_b = two_orgs
    for org, city in ((org_a, "Paris"), (org_b, "Lyon")):
        with tenant_session(session_factory, org) as s:
            records = [
                {"external_id": str(n), "email": f"{n}@x.io", "city": city} for n in range(3)
            ]
            LocalRecords(s).upsert("woocommerce", "customers", records)
    with tenant_session(session_factory, org_a) as s:
        frame = LocalRecords(s).load_frame("woocommerce", "customers")
        picked = LocalRecords(s).load_frame("woocommerce", "customers", ids=["0", "1", "2"])
    assert sorted(frame["city"].to_list()) == ["Paris"] * 3
    assert sorted(picked["city"].to_list()) == ["Paris"] * 3


def test_no_raw_sql_on_our_tables_without_its_organization():
    """Every raw statement (text(), a driver cursor, COPY, a Core table) in core either takes
    its organization from an OrgScope (a parameter, or a dataclass field of one) or is one of
    the few that touch no organization's rows."""
    found: dict[tuple[str, str], bool] = {}
    for path in sorted((ROOT / "core").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name.startswith(OUTSIDE):
            continue
        tree = ast.parse(path.read_text())
        scoped_types = _classes_with_an_org_scope(tree)
        constructs = _sqlalchemy_names(tree) & RAW_CONSTRUCTS
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if not any(_is_raw(node, constructs) for node in ast.walk(func)):
                continue
            found[(name, func.name)] = _takes_a_scope(func, scoped_types)
    unchecked = sorted(k for k, scoped in found.items() if not scoped and k not in NOT_TENANT_DATA)
    assert unchecked == [], f"raw SQL without an OrgScope: {unchecked}"
    assert set(NOT_TENANT_DATA) <= set(found), "an entry of NOT_TENANT_DATA no longer exists"
    assert any(scoped for scoped in found.values())  # the local records' CSV reads


def _sqlalchemy_names(tree: ast.Module) -> set[str]:
    """The names a module imports from SQLAlchemy (``from sqlalchemy import text``)."""
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
        for alias in node.names
    }


def _is_raw(node: ast.AST, constructs: set[str]) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "__table__":
        return True
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute):
        owner = ast.unparse(func.value)
        return func.attr in RAW_METHODS or (
            owner in ("sa", "sqlalchemy") and func.attr in RAW_CONSTRUCTS
        )
    return isinstance(func, ast.Name) and func.id in constructs


def _classes_with_an_org_scope(tree: ast.Module) -> set[str]:
    return {
        cls.name
        for cls in tree.body
        if isinstance(cls, ast.ClassDef)
        and any(
            isinstance(item, ast.AnnAssign) and "OrgScope" in ast.unparse(item.annotation)
            for item in cls.body
        )
    }


def _takes_a_scope(func: ast.FunctionDef | ast.AsyncFunctionDef, scoped: set[str]) -> bool:
    args = [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]
    for arg in args:
        shown = ast.unparse(arg.annotation) if arg.annotation is not None else ""
        if "OrgScope" in shown or shown in scoped:
            return True
    return "org_scope(" in ast.unparse(func)


@SQLITE_ONLY
def test_usernames_belong_to_one_organization(services, admin):
    other = services.accounts.create_organization(
        "Globex",
        admin_username="gus",
        admin_name="Gus",
        admin_email="gus@globex.example",
        admin_password="globex-pass-9",
    )
    # "ann" is Acme's admin: Globex may have its own "ann", and learns nothing of Acme's
    services.accounts.add_user(
        other, "ann", "Ann of Globex", "ann@globex.example", "pw-globex-1", "viewer"
    )
    with pytest.raises(InvalidRequest) as taken:  # within one organization it is taken
        services.accounts.add_user(
            other, "ANN", "Another", "a@globex.example", "pw-globex-2", "viewer"
        )
    assert (
        str(taken.value) == "This organization has a user 'ann' already; choose another username."
    )
    acme = services.accounts.sign_in("ann", "correct horse battery", organization="acme")
    globex = services.accounts.sign_in("ann", "pw-globex-1", organization="globex")
    assert (acme.org_name, acme.role) == ("Acme", "admin")
    assert (globex.org_name, globex.role) == ("Globex", "viewer")
    # the answer is the same for a wrong password, an unknown user and an unknown organization
    answers = set()
    for org, user, password in (
        ("acme", "ann", "pw-globex-1"),
        ("acme", "nobody", "whatever-1"),
        ("initech", "ann", "whatever-1"),
    ):
        with pytest.raises(SignInRefused) as refused:
            services.accounts.sign_in(user, password, organization=org)
        answers.add(str(refused.value))
    assert answers == {"Username or password is incorrect."}
    with pytest.raises(SignInRefused, match="organization's short name"):  # two: which one?
        services.accounts.sign_in("ann", "correct horse battery")
