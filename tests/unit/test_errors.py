"""Every error says whether retrying may help, as the error tree in core/errors.py draws it."""

from __future__ import annotations

import inspect
import re

import pytest

import core.errors as errors
from core.errors import SyncPreviewError, retry_may_help

CLASSES = {
    name: cls
    for name, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, SyncPreviewError)
}
TRANSIENT = {
    "RefreshRateLimited",
    "RefreshInProgress",
    "RefreshInterrupted",
    "RateLimited",
    "ExternalTimeout",
    "Unreachable",
}
TERMINAL = {
    "SyncPreviewError",
    "ConfigError",
    "InvalidRequest",
    "PermissionDenied",
    "NotFoundError",
    "ConnectorError",
    "AuthError",
    "RemoteNotFound",
    "BadResponse",
    "StoreError",
    "SignInRefused",
    "InternalError",
    "WriteRefused",
    "BadQuery",
    "UnreadableValue",
}


def _make(cls: type[SyncPreviewError]) -> SyncPreviewError:
    if cls is errors.InternalError:
        return cls("The refresh", "abc123")
    if cls is errors.RefreshRateLimited:
        return cls("Too many.", retry_after=5)
    if cls is errors.UnreadableValue:
        return cls("Row 3: 'abc' is not a stock.", row=3, key="7", column="qty", field="stock")
    return cls("Something happened.")


def test_every_error_class_is_sorted_into_transient_or_terminal() -> None:
    assert set(CLASSES) == TRANSIENT | TERMINAL


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_transient_says_whether_retrying_may_help(name: str) -> None:
    err = _make(CLASSES[name])
    assert err.transient is (name in TRANSIENT)
    assert retry_may_help(err) is (name in TRANSIENT)


def test_a_store_error_is_transient_only_when_the_database_could_not_be_reached() -> None:
    assert not errors.StoreError("A row of another organization was written.").transient
    assert errors.StoreError("Our database did not answer.", transient=True).transient
    assert retry_may_help(errors.StoreError("busy", transient=True))


def test_a_sign_in_refusal_is_transient_only_while_sign_ins_wait() -> None:
    assert not errors.SignInRefused("Username or password is incorrect.").transient
    assert errors.SignInRefused("Too many failed sign-ins.", retry_after=5).transient


def test_other_exceptions_are_not_worth_retrying() -> None:
    assert not retry_may_help(KeyError("total"))
    assert not retry_may_help(TimeoutError())


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_the_module_docstring_draws_every_class_with_its_kind(name: str) -> None:
    doc = errors.__doc__ or ""
    row = next((line for line in doc.splitlines() if re.search(rf"\b{name}\b", line)), None)
    assert row is not None, f"{name} is missing from the tree in core/errors.py"
    if name in ("StoreError", "SignInRefused"):
        assert "terminal, transient" in row
    elif name != "SyncPreviewError":
        assert ("transient" if name in TRANSIENT else "terminal") in row, row
