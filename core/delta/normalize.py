"""Scalar normalizers: one function per field kind, shared by the record and columnar paths.

Each returns the canonical JSON-serializable value or raises ``Unreadable``.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from core.delta.fields import FieldType

_CENT = Decimal("0.01")
_ONE = Decimal(1)
_TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class Unreadable(ValueError):
    """A raw value that cannot be mapped to its field kind."""


#: JSON has one number type: a float with no fraction below this is read as that integer.
EXACT_FLOAT_INTS = 2**53


def whole_number(value: float) -> int | None:
    """A JSON number with no fraction (``2.0``) as its integer; None for any other float."""
    if value.is_integer() and abs(value) < EXACT_FLOAT_INTS:
        return int(value)
    return None


#: An HTML character reference with its semicolon: named (``&amp;``), decimal (``&#8211;``)
#: or hexadecimal (``&#x2013;``). WordPress stores post titles with them; a bare ``&`` (``AT&T``)
#: or a name without a semicolon (``&copy``) is text, not a reference.
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")


def _unescape(match: re.Match[str]) -> str:
    return html.unescape(match.group(0))


def decode_entities(value: str) -> str:
    """``value`` with its HTML character references decoded until none is left (so that
    normalizing a normalized value changes nothing: ``&amp;amp;`` -> ``&``); unknown names
    (``&nosuch;``) stay as they are."""
    while "&" in value:
        decoded = _ENTITY.sub(_unescape, value)
        if decoded == value:
            break
        value = decoded
    return value


def text(value: Any) -> str | None:
    """HTML references decoded, NFC, trimmed (``str.strip``), without NUL characters; ``None``,
    ``False`` and blank strings are ``None``.

    Numbers are text too (a phone or postcode sent as a number), whole numbers only.
    """
    if type(value) is not str:
        if value is None or value is False:
            return None
        if isinstance(value, float):
            whole = whole_number(value)
            if whole is None:
                raise Unreadable(value)
            value = whole
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise Unreadable(value)
        value = str(value)
    # NUL is no text (PostgreSQL cannot store it): dropped on every backend alike
    result = unicodedata.normalize("NFC", decode_entities(value.replace("\x00", ""))).strip()
    return result or None


def email(value: Any) -> str | None:
    """Text, lower-cased."""
    result = text(value)
    return None if result is None else result.lower()


def code(value: Any) -> str | None:
    """Text, upper-cased (country, state and currency codes)."""
    result = text(value)
    return None if result is None else result.upper()


def reference(value: Any) -> str | None:
    """The id of another record of the same system, as text; ``0`` (WooCommerce's "no
    parent") and blanks are ``None``."""
    result = text(value)
    return None if result is None or result == "0" else result


def _decimal(value: Any) -> Decimal | None:
    if value is None or value is False:
        return None
    if isinstance(value, bool):
        raise Unreadable(value)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return None
        try:
            number = Decimal(stripped)
        except InvalidOperation as exc:
            raise Unreadable(value) from exc
    else:
        raise Unreadable(value)
    if not number.is_finite():
        raise Unreadable(value)
    return number


def money(value: Any) -> str | None:
    """A string with exactly two decimals, rounded half up; "-0.00" becomes "0.00"."""
    number = _decimal(value)
    if number is None:
        return None
    try:
        cents = number.quantize(_CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise Unreadable(value) from exc
    if cents.is_zero():
        return "0.00"
    return f"{cents:f}"


def integer(value: Any) -> int | None:
    """An int; numbers with a fraction are rounded half up."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = _decimal(value)
    if number is None:
        return None
    try:
        return int(number.quantize(_ONE, rounding=ROUND_HALF_UP))
    except InvalidOperation as exc:
        raise Unreadable(value) from exc


def quantity(value: Any) -> int | str | None:
    """An int when integral, otherwise the shortest decimal string ("1.5")."""
    number = _decimal(value)
    if number is None:
        return None
    if number == number.to_integral_value():
        return int(number)
    return f"{number.normalize():f}"


def timestamp(value: Any) -> str | None:
    """ISO-8601 UTC to the second ("2024-05-01T10:00:00Z"); naive values are UTC."""
    if value is None or value is False:
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return None
        try:
            moment = datetime.fromisoformat(stripped)
        except ValueError as exc:
            raise Unreadable(value) from exc
    else:
        raise Unreadable(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(_TS_FORMAT)


def _line_key(line: dict[str, Any]) -> tuple[Any, ...]:
    sku, qty, total = line["sku"], line["quantity"], line["total"]
    return (
        sku is not None,
        sku or "",
        qty is not None,
        Decimal(qty) if qty is not None else _ONE,
        total is not None,
        Decimal(total) if total is not None else _ONE,
    )


def lines(value: Any) -> list[dict[str, Any]]:
    """Order lines ``{"sku", "quantity", "total"}`` sorted by sku (``None`` first), quantity."""
    if value is None or value is False or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise Unreadable(value) from exc
    if not isinstance(value, list | tuple):
        raise Unreadable(value)
    result = []
    for line in value:
        if not isinstance(line, dict):
            raise Unreadable(line)
        result.append(
            {
                "sku": text(line.get("sku")),
                "quantity": quantity(line.get("quantity")),
                "total": money(line.get("total")),
            }
        )
    result.sort(key=_line_key)
    return result


def lines_json(value: list[dict[str, Any]]) -> str:
    """The canonical serialization of normalized lines (the columnar form stores this)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


NORMALIZERS: dict[FieldType, Callable[[Any], Any]] = {
    "text": text,
    "email": email,
    "code": code,
    "ref": reference,
    "money": money,
    "int": integer,
    "timestamp": timestamp,
    "lines": lines,
}
