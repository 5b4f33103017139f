"""What people type: names, usernames, e-mail addresses, checked the same way for the dashboard,
the API and the command line (the services call these before anything is stored).

Each check returns the cleaned value or raises ``InvalidRequest`` with a sentence saying what
to change; :func:`all_or_nothing` runs several and reports every problem at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import TypeVar

from email_validator import EmailNotValidError, validate_email

from core.errors import InvalidRequest

#: The longest values people may give (characters); the database columns are wider.
MAX_ORG_NAME = 100
MAX_USERNAME = 32
MAX_PERSON_NAME = 100
MAX_CONNECTOR_NAME = 100
MAX_EMAIL = 254  # RFC 5321's limit of a forward path, as email-validator applies it
MIN_PASSWORD = 8

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
T = TypeVar("T")


def check_name(value: str, *, what: str, limit: int) -> str:
    """A one-line name of at most ``limit`` characters (``what``: "the organization's name")."""
    name = unicodedata.normalize("NFC", value).strip()
    if not name:
        raise InvalidRequest(f"Give {what}.")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise InvalidRequest(
            f"{_capital(what)} cannot contain line breaks, tabs or other control characters."
        )
    if len(name) > limit:
        raise InvalidRequest(
            f"{_capital(what)} is {len(name):,} characters long; at most {limit:,} are allowed."
        )
    return name


def check_org_name(value: str) -> str:
    return check_name(value, what="the organization's name", limit=MAX_ORG_NAME)


def check_person_name(value: str) -> str:
    return check_name(value, what="the person's full name", limit=MAX_PERSON_NAME)


def check_connector_name(value: str) -> str:
    return check_name(value, what="the connector's name", limit=MAX_CONNECTOR_NAME)


def check_username(value: str) -> str:
    """Lower-case letters, digits, '.', '_' and '-', starting with a letter or digit."""
    username = value.strip().lower()
    if not username:
        raise InvalidRequest("Choose a username.")
    if len(username) > MAX_USERNAME:
        raise InvalidRequest(
            f"The username is {len(username):,} characters long; at most {MAX_USERNAME} "
            "are allowed."
        )
    if not _USERNAME.fullmatch(username):
        raise InvalidRequest(
            "A username uses letters, digits, '.', '_' or '-' only, and starts with a letter "
            "or a digit."
        )
    return username


def check_email(value: str) -> str:
    """A syntactically valid address (no DNS look-up), its domain lower-cased."""
    text = value.strip()
    if not text:
        raise InvalidRequest("Enter an e-mail address.")
    if len(text) > MAX_EMAIL:
        raise InvalidRequest(
            f"The e-mail address is {len(text):,} characters long; at most {MAX_EMAIL} are allowed."
        )
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as err:
        raise InvalidRequest(f"'{text}' is not a valid e-mail address: {err}") from err
    return str(checked.normalized).lower()


def check_password(value: str) -> str:
    """A password of at least ``MIN_PASSWORD`` characters."""
    if len(value) < MIN_PASSWORD:
        raise InvalidRequest(f"A password needs at least {MIN_PASSWORD} characters.")
    return value


def all_or_nothing(*checks: Callable[[], T]) -> list[T]:
    """Run every check; their results, or one ``InvalidRequest`` naming every problem."""
    results: list[T] = []
    problems: list[str] = []
    for check in checks:
        try:
            results.append(check())
        except InvalidRequest as err:
            problems.append(str(err))
    if problems:
        raise InvalidRequest(" ".join(problems))
    return results


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
