"""Query parameters of the WooCommerce collections, validated as WordPress validates them.

WordPress checks every registered parameter against its JSON schema before the endpoint
runs (core/sandbox/README.md names the WordPress code) and answers one 400
``rest_invalid_param`` error naming every invalid parameter. The schemas
below are those of WooCommerce's v3 controllers (customers, products, orders, variations);
parameters a collection does not register are ignored, as WordPress ignores them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.sandbox.wire import Response, json_response

ORDER_STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
)
POST_STATUSES = ("any", "future", "trash", "draft", "pending", "private", "publish")
ROLES = (
    "all",
    "administrator",
    "editor",
    "author",
    "contributor",
    "subscriber",
    "customer",
    "shop_manager",
)
# rest_parse_date's pattern: a date AND a time, optional fraction and zone.
DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}(?::\d{2})?)?$"
)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Param:
    """One registered parameter: its schema type and constraints."""

    kind: str  # integer | string | enum | enum_list | date | boolean | email | id_list
    default: Any = None
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


def _collection(order: str, orderby: tuple[str, ...], orderby_default: str) -> dict[str, Param]:
    return {
        "context": Param("enum", "view", ("view", "edit")),
        "page": Param("integer", 1, minimum=1),
        "per_page": Param("integer", 10, minimum=1, maximum=100),
        "search": Param("string"),
        "offset": Param("integer"),
        "include": Param("id_list", ()),
        "exclude": Param("id_list", ()),
        "order": Param("enum", order, ("asc", "desc")),
        "orderby": Param("enum", orderby_default, orderby),
    }


_DATES = {
    "after": Param("date"),
    "before": Param("date"),
    "modified_after": Param("date"),
    "modified_before": Param("date"),
    "dates_are_gmt": Param("boolean", False),
}
_POSTS_ORDERBY = ("date", "id", "include", "title", "slug", "modified")

SCHEMAS: dict[str, dict[str, Param]] = {
    "customers": {
        **_collection("asc", ("id", "include", "name", "registered_date"), "name"),
        "email": Param("email"),
        "role": Param("enum", "customer", ROLES),
    },
    "products": {
        **_collection(
            "desc", (*_POSTS_ORDERBY, "menu_order", "price", "popularity", "rating"), "date"
        ),
        **_DATES,
        "parent": Param("id_list", ()),
        "status": Param("enum", "any", POST_STATUSES),
        "type": Param("enum", None, ("simple", "grouped", "external", "variable")),
        "sku": Param("string"),
    },
    "orders": {
        **_collection("desc", _POSTS_ORDERBY, "date"),
        **_DATES,
        "parent": Param("id_list", ()),
        "status": Param("enum_list", "any", ("any", "trash", *ORDER_STATUSES)),
        "customer": Param("integer"),
        "product": Param("integer"),
        "dp": Param("integer", 2),
    },
    "variations": {
        **_collection("desc", (*_POSTS_ORDERBY, "menu_order"), "date"),
        **_DATES,
        "status": Param("enum", "any", POST_STATUSES),
        "sku": Param("string"),
    },
}


def validate(collection: str, query: Mapping[str, str]) -> tuple[dict[str, Any], Response | None]:
    """(the parameters with defaults, None) or (partial values, the 400 error to answer)."""
    values: dict[str, Any] = {}
    invalid: dict[str, tuple[str, str]] = {}
    for name, param in SCHEMAS[collection].items():
        if name not in query:
            values[name] = param.default
            continue
        value, problem = _check(name, param, query[name])
        if problem is not None:
            invalid[name] = problem
        else:
            values[name] = value
    if not invalid:
        return values, None
    return values, invalid_params(invalid)


def invalid_params(invalid: Mapping[str, tuple[str, str]]) -> Response:
    """WordPress's 400 body for invalid parameters ({name: (code, message)})."""
    return json_response(
        400,
        {
            "code": "rest_invalid_param",
            "message": f"Invalid parameter(s): {', '.join(invalid)}",
            "data": {
                "status": 400,
                "params": {name: message for name, (_, message) in invalid.items()},
                "details": {
                    name: {"code": code, "message": message, "data": None}
                    for name, (code, message) in invalid.items()
                },
            },
        },
    )


def _check(name: str, param: Param, raw: str) -> tuple[Any, tuple[str, str] | None]:
    kind = param.kind
    if kind == "string":
        return raw, None
    if kind == "id_list":
        return tuple(_absint(part) for part in re.split(r"[\s,]+", raw) if part), None
    if kind == "integer":
        number = _integer(raw)
        if number is None:
            return None, ("rest_invalid_type", f"{name} is not of type integer.")
        low, high = param.minimum, param.maximum
        if low is not None and high is not None and not low <= number <= high:
            message = f"{name} must be between {low} (inclusive) and {high} (inclusive)"
            return None, ("rest_out_of_bounds", message)
        if low is not None and high is None and number < low:
            return None, ("rest_out_of_bounds", f"{name} must be greater than or equal to {low}")
        return number, None
    if kind == "enum":
        if raw not in param.enum:
            return None, ("rest_not_in_enum", f"{name} is not one of {_wp_list(param.enum)}.")
        return raw, None
    if kind == "enum_list":
        items = [part for part in re.split(r"[\s,]+", raw) if part]
        for index, item in enumerate(items):
            if item not in param.enum:
                message = f"{name}[{index}] is not one of {_wp_list(param.enum)}."
                return None, ("rest_not_in_enum", message)
        return tuple(items), None
    if kind == "date":
        if not DATE_TIME.match(raw):
            return None, ("rest_invalid_date", "Invalid date.")
        return raw, None
    if kind == "boolean":
        lowered = raw.lower()
        if lowered not in ("true", "false", "1", "0", ""):
            return None, ("rest_invalid_type", f"{name} is not of type boolean.")
        return lowered in ("true", "1"), None
    if kind == "email":
        if not EMAIL.match(raw):
            return None, ("rest_invalid_email", "Invalid email address.")
        return raw, None
    raise ValueError(f"unknown parameter kind {kind!r}")


def _integer(raw: str) -> int | None:
    """WordPress's rest_is_integer: numeric and without a fraction."""
    try:
        number = float(raw.strip()) if raw.strip() == raw and raw else None
    except ValueError:
        return None
    if number is None or number != number or not number.is_integer():
        return None
    return int(number)


def _absint(raw: str) -> int:
    number = _integer(raw)
    return abs(number) if number is not None else 0


def _wp_list(items: tuple[str, ...]) -> str:
    """wp_sprintf's %l: "a and b"; "a, b, and c"."""
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + ", and " + items[-1]
