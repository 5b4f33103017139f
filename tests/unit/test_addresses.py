"""Connector addresses: what is accepted, and how a user name and password in one are masked
in anything shown or logged."""

from __future__ import annotations

import logging

import pytest

from core.connectors.redact import RedactingFilter
from core.errors import InvalidRequest
from core.sources.address import check_address, mask_address, mask_addresses_in


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("https://shop.example.com/", "https://shop.example.com"),
        ("  http://127.0.0.1:8123  ", "http://127.0.0.1:8123"),
        ("https://erp.example.com/odoo", "https://erp.example.com/odoo"),
        ("http://[::1]:8069", "http://[::1]:8069"),
    ],
)
def test_web_addresses_are_accepted(typed: str, kept: str) -> None:
    assert check_address(typed) == kept


@pytest.mark.parametrize(
    "typed",
    ["shop.example.com", "file:///etc/passwd", "javascript:alert(1)", "http:///path", ""],
)
def test_anything_else_is_refused(typed: str) -> None:
    with pytest.raises(InvalidRequest):
        check_address(typed)


def test_credentials_are_refused_unless_already_stored() -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_address("https://bob:hunter22@shop.example.com")
    assert "hunter22" not in str(caught.value)
    assert check_address("https://bob:hunter22@shop.example.com", allow_credentials=True)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("http://bob:hunter22@host/x", "http://bob:•••@host/x"),
        ("http://bob:p@ss@host/a@b", "http://bob:•••@host/a@b"),  # '@' in the password
        ("https://token123@host", "https://•••@host"),  # a user name alone may be a token
        ("https://host/path?q=a@b", "https://host/path?q=a@b"),
        ("write to bob@example.com", "write to bob@example.com"),
    ],
)
def test_user_info_is_masked(text: str, shown: str) -> None:
    assert mask_address(text) == shown


def test_log_lines_are_masked() -> None:
    record = logging.LogRecord(
        "core.connectors",
        logging.INFO,
        __file__,
        1,
        "GET %s failed",
        ("http://u:hunter22@h/",),
        None,
    )
    RedactingFilter().filter(record)
    assert record.getMessage() == "GET http://u:•••@h/ failed"
    assert mask_addresses_in("a http://u:hunter22@h and b") == "a http://u:•••@h and b"
