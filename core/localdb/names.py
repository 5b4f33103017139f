"""Checks of the names and SQL a mapping holds, before anything is sent to the database.

``split_name`` reads ``[schema.]table`` (a part may be quoted); ``check_select`` makes sure a
mapping's query is one SELECT. The database's read-only transaction is what guarantees that
nothing is written; these checks give the clear message first.
"""

from __future__ import annotations

import re
from typing import Final

from core.errors import BadQuery, WriteRefused

_PART = re.compile(r'\s*(?:"((?:[^"]|"")+)"|`((?:[^`]|``)+)`|([^."`]+))\s*(?:\.|$)')

#: String literals, quoted identifiers and comments: what a ";" or a keyword may hide in.
_HIDING = re.compile(
    r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|--[^\n]*|#[^\n]*|/\*.*?\*/"
    r"|\$(?P<tag>[A-Za-z_]*)\$.*?\$(?P=tag)\$",
    re.DOTALL,
)
_READS: Final = frozenset({"SELECT", "WITH", "VALUES", "TABLE"})
_WRITES: Final = frozenset(
    {
        "INSERT",
        "UPDATE",
        "DELETE",
        "MERGE",
        "UPSERT",
        "REPLACE",
        "CREATE",
        "DROP",
        "ALTER",
        "TRUNCATE",
        "GRANT",
        "REVOKE",
        "COPY",
        "CALL",
        "DO",
        "LOCK",
        "VACUUM",
        "ATTACH",
        "DETACH",
        "PRAGMA",
        "SET",
        "RENAME",
        "LOAD",
        "HANDLER",
    }
)


def split_name(name: str) -> tuple[str, ...]:
    """``crm.clients`` -> ("crm", "clients"); a part may be quoted (``"my.schema".t``)."""
    parts: list[str] = []
    position = 0
    text = name.strip()
    while position < len(text):
        match = _PART.match(text, position)
        if match is None or match.end() == position:
            raise BadQuery(f"{name!r} is not a table name; write TABLE or SCHEMA.TABLE.")
        quoted_double, quoted_back, plain = match.groups()
        if quoted_double is not None:
            part = quoted_double.replace('""', '"')
        elif quoted_back is not None:
            part = quoted_back.replace("``", "`")
        else:
            part = plain.strip()
        parts.append(part)
        position = match.end()
    if not 1 <= len(parts) <= 2 or not all(parts):
        raise BadQuery(f"{name!r} is not a table name; write TABLE or SCHEMA.TABLE.")
    return tuple(parts)


def check_select(sql: str) -> str:
    """The query without a trailing ``;``; ``WriteRefused``/``BadQuery`` unless it is one SELECT."""
    query = sql.strip()
    while query.endswith(";"):
        query = query[:-1].rstrip()
    if not query:
        raise BadQuery("The mapping's query is empty; write one SELECT.")
    bare = _HIDING.sub(" ", query)
    words = re.findall(r"[A-Za-z_]+", bare.lstrip(" (\n\t\r"))
    first = words[0].upper() if words else ""
    if first not in _READS:
        if first in _WRITES:
            raise WriteRefused(
                f"A mapping query must be a single SELECT; this one starts with {first}, which "
                "would change your database. Nothing was run."
            )
        raise BadQuery(f"A mapping query must be a single SELECT; this one starts with {first!r}.")
    if ";" in bare:
        raise BadQuery(
            "The mapping's query holds more than one statement; write a single SELECT "
            "(nothing was run)."
        )
    return query
