"""The page scripts stay thin and guarded (import-linter cannot see scripts outside packages:
the contracts in pyproject.toml cover `ui`, the CLI and the API; this covers `pages/` and
`app.py`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "pages").glob("*.py"))
SCRIPTS = [*PAGES, ROOT / "app.py"]
FORBIDDEN = ("sqlalchemy", "requests", "httpx", "core.db", "core.connectors", "core.sandbox")
#: What of the project a page may import: the UI helpers, the services and their errors.
PROJECT_ALLOWED = ("ui", "core.services", "core.errors")


def _imports(tree: ast.Module) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_there_are_pages() -> None:
    assert {p.stem for p in PAGES} >= {
        "preview",
        "selective_sync",
        "connectors",
        "activity",
        "users",
    }


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


@pytest.mark.parametrize("page", SCRIPTS, ids=lambda p: p.stem)
def test_pages_use_the_services_only(page: Path) -> None:
    tree = ast.parse(page.read_text())
    for name in _imports(tree):
        assert not _within(name, FORBIDDEN), (
            f"{page.name} imports {name}: pages call core.services through ui/, nothing lower"
        )
        if _within(name, ("core",)):
            assert _within(name, PROJECT_ALLOWED), (
                f"{page.name} imports {name}: of core, pages use only core.services and "
                "core.errors (the services object comes from ui.services)"
            )
    assert "SELECT " not in page.read_text().upper().replace("SELECTBOX", "")


def test_the_check_sees_a_page_that_reaches_into_the_database(tmp_path: Path) -> None:
    page = tmp_path / "leaky.py"
    page.write_text("from core.db.accounts import OrganizationRepo\nimport core.bootstrap\n")
    names = _imports(ast.parse(page.read_text()))
    assert [n for n in names if _within(n, FORBIDDEN)] == ["core.db.accounts"]
    assert [n for n in names if not _within(n, PROJECT_ALLOWED)] == names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_page_starts_with_the_guard(page: Path) -> None:
    """A deep link can run a page without app.py: its first statement must be the guard."""
    tree = ast.parse(page.read_text())
    body = [
        node
        for node in tree.body
        if not isinstance(node, ast.Import | ast.ImportFrom)
        and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    first = body[0]
    assert isinstance(first, ast.Assign), f"{page.name} must start with user = require_user()"
    call = first.value
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
    assert call.func.id == "require_user"
    assert any(
        isinstance(node, ast.ImportFrom)
        and node.module == "ui.auth"
        and "require_user" in {a.name for a in node.names}
        for node in tree.body
    ), f"{page.name} must use the shared guard ui.auth.require_user"


def test_app_and_ui_use_no_material_icons() -> None:
    for path in [ROOT / "app.py", *PAGES, *(ROOT / "ui").glob("*.py")]:
        assert ":material/" not in path.read_text(), path.name


def test_only_the_accounts_service_marks_actors_as_checked() -> None:
    """``authorize`` trusts an actor's organization because only ``AccountService`` (which
    checks it) marks actors as checked; nothing else in the product may call ``checked``."""
    callers = set()
    for path in [*(ROOT / "core").rglob("*.py"), *(ROOT / "ui").rglob("*.py"), *SCRIPTS]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in (
                "checked",
                "actors.checked",
            ):
                callers.add(path.relative_to(ROOT).as_posix())
    assert callers == {"core/services/accounts.py"}


#: The service calls that compute (fetch, diff, load, apply) in the caller's process: the
#: dashboard's pages leave them to workers (docs/architecture.md "No computation runs in a
#: page script"); the CLI and the API may call them when no worker is alive.
COMPUTING_CALLS = (
    "get_preview_snapshot",
    "detect_customer_delta",
    "detect_product_delta",
    "detect_order_delta",
    "run_here",
    "execute_here",
)


def _computing_calls(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            owner = node.func.value
            if name in COMPUTING_CALLS or (
                name == "load" and isinstance(owner, ast.Attribute) and owner.attr == "demo"
            ):
                found.append(name)
    return found


@pytest.mark.parametrize(
    "script", [*SCRIPTS, *sorted((ROOT / "ui").glob("*.py"))], ids=lambda p: p.stem
)
def test_no_computation_runs_in_a_page_script(script: Path) -> None:
    calls = _computing_calls(ast.parse(script.read_text()))
    assert not calls, f"{script.name} computes in the page ({calls}): queue a job for a worker"


def test_the_check_sees_a_page_that_computes() -> None:
    page = "snap = services.previews.get_preview_snapshot(u, 'odoo', 'orders')\n"
    page += "services.demo.load(u)\nservices.demo.enqueue(u)\n"
    assert _computing_calls(ast.parse(page)) == ["get_preview_snapshot", "load"]
