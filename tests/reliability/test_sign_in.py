"""Guessing passwords is slowed down, and nobody can lock the only admin out for good: the
wait grows per account and per client address, runs out by itself, and the operator can
always let an admin in again from the command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.errors import SignInRefused
from core.services import signin
from core.services.activity import ActivityFilter
from tests.reliability.conftest import ROOT, SQLITE_ONLY, core_env, run_core, services_for

PASSWORD = "correct horse battery"  # the admin fixture's


def _refused(services, username: str, password: str, **where: str) -> SignInRefused:
    with pytest.raises(SignInRefused) as refused:
        services.accounts.sign_in(username, password, **where)
    return refused.value


def test_the_wait_grows_then_runs_out_by_itself(services, admin, clock):
    for _ in range(signin.ACCOUNT.free - 1):
        assert str(_refused(services, "ann", "wrong")) == "Username or password is incorrect."
    last = _refused(services, "ann", "wrong")  # the one that starts the wait
    assert str(last) == (
        "Username or password is incorrect. Too many failed sign-ins: the next one waits 5 s."
    )
    waiting = _refused(services, "ann", PASSWORD)  # the right password waits too
    assert waiting.retry_after == pytest.approx(5) and waiting.transient
    assert str(waiting).startswith("Too many failed sign-ins for this account or from this")
    clock.advance(5)
    assert str(_refused(services, "ann", "wrong")).endswith("the next one waits 10 s.")
    clock.advance(10)
    assert services.accounts.sign_in("ann", PASSWORD).username == "ann"  # it ran out
    # and a success starts the count again
    assert str(_refused(services, "ann", "wrong")) == "Username or password is incorrect."
    failed, _ = services.activity.list_activity(
        admin, ActivityFilter(action="login", status="failed")
    )
    assert [e.details.get("failures") for e in failed][:3] == [1, 4, 3]


@SQLITE_ONLY
def test_the_wait_is_capped_and_old_failures_are_forgotten(services, admin, clock):
    for _ in range(12):  # 5 s doubling passes 15 minutes by the 12th failure
        _refused(services, "ann", "wrong")
        clock.advance(signin.ACCOUNT.cap)
    last = _refused(services, "ann", "wrong")
    assert last.retry_after == signin.ACCOUNT.cap  # 15 minutes at the most, never for good
    clock.advance(signin.FORGET_AFTER.total_seconds() + 1)
    assert str(_refused(services, "ann", "wrong")) == "Username or password is incorrect."


@SQLITE_ONLY
def test_one_address_guessing_many_accounts_is_slowed_down(services, admin, clock):
    for n in range(signin.CLIENT.free):
        _refused(services, f"user{n}", "guess", client="203.0.113.9")
    refused = _refused(services, "ann", PASSWORD, client="203.0.113.9")
    assert refused.retry_after and "from this address" in str(refused)
    # the account itself is not locked: from elsewhere its owner signs in
    assert services.accounts.sign_in("ann", PASSWORD, client="198.51.100.7").username == "ann"


def test_the_operator_lets_a_locked_admin_in_from_the_command_line(sandbox, tmp_path, clock):
    env = core_env(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "data")
    services = services_for(env, moved_by=clock)
    try:
        services.accounts.create_organization(
            "Acme",
            admin_username="ann",
            admin_name="Ann",
            admin_email="ann@acme.example",
            admin_password=PASSWORD,
        )
        for _ in range(8):  # someone guessed for a while: the only admin now waits minutes
            _refused(services, "ann", "guess")
            clock.advance(signin.ACCOUNT.cap)
        _refused(services, "ann", "guess")
        assert _refused(services, "ann", PASSWORD).retry_after > 60

        unlocked = run_core(env, "unlock", "--org", "acme", "--user", "ann")
        assert unlocked.returncode == 0, unlocked.stderr
        assert (
            unlocked.stdout.strip() == "'ann' can sign in now (their failed sign-ins were cleared)."
        )
        assert services.accounts.sign_in("ann", PASSWORD).username == "ann"

        for _ in range(signin.ACCOUNT.free):
            _refused(services, "ann", "guess")
        changed = _reset_password(env, "a brand new password\n")
        assert changed.returncode == 0, changed.stderr
        assert services.accounts.sign_in("ann", "a brand new password").username == "ann"
    finally:
        services.close()


def _reset_password(env: dict[str, str], typed: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core", "reset-password", "--org", "acme", "--user", "ann",
         "--password-stdin"],
        input=typed, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
