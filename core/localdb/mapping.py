"""``LocalMapping``: where one entity's records are in the organization's database.

One mapping per (source, entity): a table or view, or one SELECT; how its rows match the
store's records (``id:COLUMN``, a column holding the store's id, or ``natural``: e-mail for
customers, SKU for products, order number for orders); which column feeds which canonical
field; for orders, where the lines are (a second table, or a JSON column). Fields a mapping
leaves out are not compared. A mapping is a frozen value with a JSON form (``to_json`` /
``from_json``) that is validated whenever it is built.

    LocalMapping.create(
        "woocommerce", "customers", table="crm.clients", match="id:woo_id",
        columns={"email": "mail", "name": "full_name", "city": "town"},
    )
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from core.delta.fields import COMPARABLE_FIELDS, ENTITY_TYPES
from core.delta.natural import NATURAL_KEYS
from core.errors import InvalidRequest
from core.localdb.names import check_select, split_name
from core.sources import keys as source_keys

#: Version of the JSON form; ``from_dict`` refuses a newer one.
FORMAT: Final = 1
FIELD_LABELS: Final = {"email": "e-mail", "sku": "SKU", "number": "order number"}
LINE_FIELDS: Final = ("sku", "quantity", "total")


@dataclass(frozen=True)
class MatchMode:
    """``id:COLUMN`` (the column holds the store's id) or ``natural`` (the entity's natural key)."""

    kind: Literal["id", "natural"]
    column: str | None = None

    @classmethod
    def parse(cls, text: str) -> MatchMode:
        """``"id:woo_customer_id"`` or ``"natural"``."""
        value = text.strip()
        if value.lower() == "natural":
            return cls("natural")
        prefix, _, column = value.partition(":")
        if prefix.strip().lower() != "id" or not column.strip():
            raise InvalidRequest(
                f"Unknown match {text!r}: write id:COLUMN (the column holding the store's id) "
                "or natural (e-mail, SKU or order number)."
            )
        return cls("id", column.strip())

    def __str__(self) -> str:
        return f"id:{self.column}" if self.kind == "id" else "natural"


@dataclass(frozen=True)
class LinesMapping:
    """Where an order's lines are: a second ``table`` or a ``json_column`` of the orders.

    ``table``: ``order_key`` is its column naming the order, ``parent_key`` the orders' column
    it refers to (default: the id column when matching by id, else the order-number column);
    ``sku``/``quantity``/``total`` are its columns. ``json_column``: a column holding a JSON
    list of line objects, ``sku``/``quantity``/``total`` the keys inside them.
    """

    table: str | None = None
    json_column: str | None = None
    order_key: str | None = None
    parent_key: str | None = None
    sku: str = "sku"
    quantity: str = "quantity"
    total: str = "total"

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "json_column": self.json_column,
            "order_key": self.order_key,
            "parent_key": self.parent_key,
            "sku": self.sku,
            "quantity": self.quantity,
            "total": self.total,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinesMapping:
        unknown = sorted(set(data) - set(cls().to_dict()))
        if unknown:
            raise InvalidRequest(f"Unknown order-lines setting(s): {', '.join(unknown)}.")
        return cls(**{key: value for key, value in data.items() if value is not None})

    @classmethod
    def from_columns(
        cls,
        columns: Mapping[str, str],
        *,
        table: str | None = None,
        json_column: str | None = None,
    ) -> LinesMapping:
        """From ``FIELD=COLUMN`` pairs (order_key, parent_key, sku, quantity, total)."""
        allowed = {"order_key", "parent_key", *LINE_FIELDS}
        unknown = sorted(set(columns) - allowed)
        if unknown:
            raise InvalidRequest(
                f"Unknown order-line field(s) {', '.join(unknown)}; use "
                f"{', '.join(sorted(allowed))}."
            )
        return cls(table=table, json_column=json_column, **dict(columns))


@dataclass(frozen=True)
class LocalMapping:
    """One entity's records in the organization's database (see the module docstring)."""

    sync_type: str
    entity_type: str
    match: MatchMode
    columns: tuple[tuple[str, str], ...]  # (canonical field, column), in comparable order
    table: str | None = None
    query: str | None = None
    lines: LinesMapping | None = None

    def __post_init__(self) -> None:
        self.validate()

    # --- building ---------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        sync_type: str,
        entity_type: str,
        *,
        match: str | MatchMode,
        columns: Mapping[str, str],
        table: str | None = None,
        query: str | None = None,
        lines: LinesMapping | None = None,
    ) -> LocalMapping:
        """A validated mapping; ``columns`` maps canonical fields to the database's columns."""
        if entity_type in ENTITY_TYPES:
            order = COMPARABLE_FIELDS[entity_type]
            ordered = sorted(
                columns.items(), key=lambda item: order.index(item[0]) if item[0] in order else 99
            )
        else:
            ordered = list(columns.items())
        return cls(
            sync_type=sync_type,
            entity_type=entity_type,
            match=match if isinstance(match, MatchMode) else MatchMode.parse(match),
            columns=tuple((str(f), str(c).strip()) for f, c in ordered),
            table=table.strip() if table and table.strip() else None,
            query=check_select(query) if query is not None and query.strip() else None,
            lines=lines,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (what the integration step stores per organization)."""
        return {
            "format": FORMAT,
            "sync_type": self.sync_type,
            "entity_type": self.entity_type,
            "table": self.table,
            "query": self.query,
            "match": str(self.match),
            "columns": dict(self.columns),
            "lines": self.lines.to_dict() if self.lines else None,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LocalMapping:
        """A mapping from ``to_dict()``'s shape, validated."""
        known = {"format", "sync_type", "entity_type", "table", "query", "match", "columns"}
        unknown = sorted(set(data) - known - {"lines"})
        if unknown:
            raise InvalidRequest(f"Unknown mapping setting(s): {', '.join(unknown)}.")
        version = data.get("format", FORMAT)
        if not isinstance(version, int) or version > FORMAT:
            raise InvalidRequest(
                f"This mapping was saved by a newer Sync Preview (format {version!r})."
            )
        columns = data.get("columns")
        if not isinstance(columns, Mapping):
            raise InvalidRequest("A mapping needs its columns as {field: column}.")
        lines = data.get("lines")
        return cls.create(
            str(data.get("sync_type", "")),
            str(data.get("entity_type", "")),
            match=str(data.get("match", "")),
            columns=columns,
            table=data.get("table"),
            query=data.get("query"),
            lines=LinesMapping.from_dict(lines) if isinstance(lines, Mapping) else None,
        )

    @classmethod
    def from_json(cls, text: str) -> LocalMapping:
        try:
            data = json.loads(text)
        except ValueError:
            raise InvalidRequest("The saved mapping is not valid JSON.") from None
        if not isinstance(data, Mapping):
            raise InvalidRequest("The saved mapping is not a JSON object.")
        return cls.from_dict(data)

    # --- reading ----------------------------------------------------------------------

    @property
    def column_of(self) -> dict[str, str]:
        """Canonical field -> column."""
        return dict(self.columns)

    @property
    def key_field(self) -> str | None:
        """The natural key field when matching by natural key."""
        return NATURAL_KEYS[self.entity_type] if self.match.kind == "natural" else None

    @property
    def key_column(self) -> str:
        """The column whose value identifies a row: the id column, or the natural key's."""
        if self.match.kind == "id":
            assert self.match.column is not None
            return self.match.column
        return self.column_of[NATURAL_KEYS[self.entity_type]]

    @property
    def compared_fields(self) -> tuple[str, ...]:
        """The canonical fields this mapping feeds, in comparable-field order."""
        mapped = set(self.column_of) | ({"lines"} if self.lines else set())
        return tuple(f for f in COMPARABLE_FIELDS[self.entity_type] if f in mapped)

    @property
    def not_compared(self) -> tuple[str, ...]:
        return tuple(
            f for f in COMPARABLE_FIELDS[self.entity_type] if f not in self.compared_fields
        )

    @property
    def parent_key(self) -> str | None:
        """The orders' column the lines table's ``order_key`` refers to."""
        if self.lines is None or self.lines.table is None:
            return None
        if self.lines.parent_key:
            return self.lines.parent_key
        return self.match.column if self.match.kind == "id" else self.column_of.get("number")

    @property
    def source(self) -> str:
        """The table's name, or "your query"."""
        return self.table or "the mapping's query"

    def describe(self) -> str:
        """One sentence for people: where, how matched, what is compared."""
        how = (
            f"matched by the store's id in column {self.match.column}"
            if self.match.kind == "id"
            else f"matched by {FIELD_LABELS[NATURAL_KEYS[self.entity_type]]}"
        )
        left_out = f"; not compared: {', '.join(self.not_compared)}" if self.not_compared else ""
        return (
            f"{self.entity_type.capitalize()} from {self.source}, {how}; compared: "
            f"{', '.join(self.compared_fields)}{left_out}."
        )

    # --- checking ---------------------------------------------------------------------

    def validate(self) -> None:
        """``InvalidRequest`` (or ``WriteRefused``/``BadQuery``) for a mapping that cannot work."""
        if self.sync_type not in source_keys():
            raise InvalidRequest(
                f"Unknown source {self.sync_type!r}; use one of {', '.join(source_keys())}."
            )
        if self.entity_type not in ENTITY_TYPES:
            raise InvalidRequest(
                f"Unknown entity type {self.entity_type!r}; use one of {', '.join(ENTITY_TYPES)}."
            )
        if (self.table is None) == (self.query is None):
            raise InvalidRequest("Give either a table (or view) or one SELECT, not both.")
        if self.table is not None:
            split_name(self.table)
        if self.query is not None:
            check_select(self.query)
        fields = COMPARABLE_FIELDS[self.entity_type]
        seen: set[str] = set()
        for name, column in self.columns:
            if name == "lines":
                raise InvalidRequest(
                    "Map order lines with a lines table or a JSON column, not as a column."
                )
            if name not in fields:
                raise InvalidRequest(
                    f"{name!r} is not a field of {self.entity_type}; use "
                    f"{', '.join(f for f in fields if f != 'lines')}."
                )
            if name in seen:
                raise InvalidRequest(f"The field {name} is mapped twice.")
            if not column:
                raise InvalidRequest(f"Give the column that holds {name}.")
            seen.add(name)
        if not self.columns:
            raise InvalidRequest("Map at least one field to a column.")
        if self.match.kind == "id" and not self.match.column:
            raise InvalidRequest("Matching by id needs the column holding the store's id.")
        key = NATURAL_KEYS[self.entity_type]
        if self.match.kind == "natural" and key not in seen:
            raise InvalidRequest(
                f"Matching {self.entity_type} by {FIELD_LABELS[key]} needs the {key} field "
                "mapped to a column."
            )
        self._validate_lines()

    def _validate_lines(self) -> None:
        lines = self.lines
        if lines is None:
            return
        if self.entity_type != "orders":
            raise InvalidRequest("Only orders have lines.")
        if (lines.table is None) == (lines.json_column is None):
            raise InvalidRequest("Order lines come from either a lines table or a JSON column.")
        for name in LINE_FIELDS:
            if not getattr(lines, name):
                raise InvalidRequest(f"Give the lines' {name} column.")
        if lines.table is not None:
            split_name(lines.table)
            if not lines.order_key:
                raise InvalidRequest(
                    "Give the lines table's column that names the order (order_key)."
                )
            if not self.parent_key:
                raise InvalidRequest(
                    "Give the orders' column that the lines' order_key refers to (parent_key)."
                )
