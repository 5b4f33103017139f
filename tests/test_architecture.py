"""The page scripts stay thin and guarded (import-linter cannot see scripts outside packages)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "pages").glob("*.py"))
FORBIDDEN = ("sqlalchemy", "requests", "httpx", "core.db", "core.connectors", "core.sandbox")


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


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_pages_use_the_services_only(page: Path) -> None:
    tree = ast.parse(page.read_text())
    for name in _imports(tree):
        assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), (
            f"{page.name} imports {name}: pages call core.services through ui/, nothing lower"
        )
    assert "SELECT " not in page.read_text().upper().replace("SELECTBOX", "")


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
