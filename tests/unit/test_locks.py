"""The lock files agree with pyproject.toml (scripts/lock writes them; README, Dependencies).

A fresh install runs what the tests ran only if the application's lock pins the very versions
of the dev lock, inside pyproject's ranges; the lowest job tests the lower bounds only if
requirements/lowest.txt pins each runtime dependency at its bound.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)(?:\s*;\s*([^\\#]+))?")


def _pins(name: str) -> dict[tuple[str, str], str]:
    """(package, environment marker) -> version, of one lock file."""
    pins: dict[tuple[str, str], str] = {}
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        if m := PIN.match(line):
            pins[(canonicalize_name(m.group(1)), (m.group(3) or "").strip())] = m.group(2)
    return pins


def _runtime() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(d) for d in project["dependencies"]]


def test_the_application_lock_pins_the_versions_the_tests_use() -> None:
    app, dev = _pins("app.lock"), _pins("dev.lock")
    assert app, "requirements/app.lock pins nothing"
    different = {k: (v, dev.get(k)) for k, v in app.items() if dev.get(k) != v}
    assert not different, f"app.lock and dev.lock disagree (run bash scripts/lock): {different}"


def test_every_runtime_dependency_is_locked_inside_its_range() -> None:
    app = _pins("app.lock")
    for req in _runtime():
        versions = [v for (name, _), v in app.items() if name == canonicalize_name(req.name)]
        assert versions, f"{req.name} is not in requirements/app.lock (run bash scripts/lock)"
        for version in versions:
            assert req.specifier.contains(version), f"{req.name}=={version} is outside {req}"


def test_the_lowest_job_installs_every_lower_bound() -> None:
    lowest = {name: v for (name, _), v in _pins("lowest.txt").items()}
    for req in _runtime():
        bound = next(s.version for s in req.specifier if s.operator == ">=")
        pinned = lowest.get(canonicalize_name(req.name))
        assert pinned is not None and Version(pinned) == Version(bound), (
            f"requirements/lowest.txt has {req.name}=={pinned}, but its lower bound is {bound}: "
            "set the bound to the oldest version that resolves, or run bash scripts/lock"
        )
