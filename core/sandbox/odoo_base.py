"""The base of the emulated Odoo models: field descriptions, the environment, the model API.

A model has fields (what ``fields_get`` lists), record ids (ascending, archived ones
included) and records with every field, empty values as ``False`` and a many2one as
``[id, display name]``, as Odoo sends them. Fields of the Inventory app (``app="stock"``)
exist only when the profile says it is installed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from core.sandbox import data
from core.sandbox.profile import Profile
from core.sandbox.store import Store

UID = 2


@dataclass(frozen=True)
class Field:
    """One field as fields_get describes it."""

    type: str
    string: str
    store: bool = True
    relation: str | None = None
    selection: tuple[tuple[str, str], ...] | None = None
    app: str | None = None
    readonly: bool = False
    required: bool = False
    help: str = ""

    def describe(self) -> dict[str, Any]:
        """Odoo's fields_get attributes of this field."""
        out: dict[str, Any] = {
            "type": self.type,
            "string": self.string,
            "help": self.help,
            "required": self.required,
            "readonly": self.readonly,
            "store": self.store,
            "sortable": self.store,
            "searchable": True,
            "groupable": self.store,
            "manual": False,
            "depends": [],
            "company_dependent": False,
        }
        if self.relation:
            out["relation"] = self.relation
        if self.selection is not None:
            out["selection"] = [list(pair) for pair in self.selection]
        return out


def field(kind: str, string: str, **extra: Any) -> Field:
    """A field of type `kind` labelled `string`."""
    return Field(kind, string, **extra)


# Fields every model has.
COMMON = {
    "create_date": field("datetime", "Created on", readonly=True),
    "write_date": field("datetime", "Last Updated on", readonly=True),
    "display_name": field("char", "Display Name", store=False, readonly=True),
}


class Env:
    """What the models read: the store, the installation profile, the API user's login and
    the models this Odoo has (name -> class)."""

    def __init__(
        self, store: Store, profile: Profile, login: str, registry: Mapping[str, type[Model]]
    ) -> None:
        self.store, self.profile, self.login = store, profile, login
        self.registry = registry
        self._models: dict[str, Model] = {}

    def model(self, name: str) -> Model | None:
        """The model named `name`, or None when this Odoo has no such model."""
        found = self._models.get(name)
        if found is None:
            cls = self.registry.get(name)
            if cls is None:
                return None
            found = self._models[name] = cls(self)
        return found

    def company(self, cid: int) -> list[Any] | bool:
        """A res.company many2one value (False for 0)."""
        return [cid, data.ODOO_COMPANIES[cid][0]] if cid in data.ODOO_COMPANIES else False

    def partner_name(self, ident: int) -> str:
        """The display name of a partner."""
        record = self.store.get("customers", ident) or data.customer(self.store.seed, ident)
        return f"{record['first_name']} {record['last_name']}".strip()


class Model:
    """A model: fields, record ids (ascending, archived ones included) and records."""

    name: ClassVar[str]
    description: ClassVar[str]
    order: ClassVar[str] = "id"
    entity: ClassVar[str | None] = None  # the store entity (drift, malformed pages)
    deps: ClassVar[tuple[str, ...]] = ()  # store entities its records derive from
    company_rule: ClassVar[str] = "none"  # "shared": company_id False or allowed; "strict"
    FIELDS: ClassVar[dict[str, Field]]

    def __init__(self, env: Env) -> None:
        self.env = env
        self.store = env.store

    def fields(self) -> dict[str, Field]:
        """The fields this installation has."""
        if self.env.profile.odoo_inventory:
            return {"id": ID, **self.FIELDS}
        return {"id": ID, **{k: f for k, f in self.FIELDS.items() if f.app != "stock"}}

    def field_type(self, name: str, sub: str | None) -> str | None:
        """The type of `name` (or of `name.sub` through a many2one), None when invalid."""
        field = self.fields().get(name)
        if field is None:
            return None
        if sub is None:
            return field.type
        related = self.env.model(field.relation) if field.relation else None
        if related is None or field.type != "many2one":
            return None
        return related.field_type(sub, None)

    def ids(self) -> Sequence[int]:
        """Every record id, ascending."""
        raise NotImplementedError

    def record(self, ident: int) -> dict[str, Any] | None:
        """Every field of one record, or None when it does not exist."""
        raise NotImplementedError

    def records(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Several records by id (missing ones left out)."""
        out = {}
        for ident in ids:
            record = self.record(ident)
            if record is not None:
                out[ident] = record
        return out

    def value(self, ident: int, field: str) -> Any:
        """One field of a record (models override it for fields they can read cheaply)."""
        record = self.record(ident)
        return record.get(field, False) if record is not None else False

    def getter(self, path: tuple[str, ...]) -> Callable[[int], Any]:
        """A function id -> value of a field path (one many2one hop at most)."""
        head = path[0]
        if len(path) == 1:
            return lambda i: self.value(i, head)
        relation = self.fields()[head].relation or ""
        related = self.env.model(relation)
        sub = path[1]

        def hop(i: int) -> Any:
            link = self.value(i, head)
            if not link or related is None:
                return False
            return related.value(int(link[0]), sub)

        return hop

    def company_of(self, ident: int) -> int:
        """The id of the record's company (0 for none)."""
        value = self.value(ident, "company_id")
        return int(value[0]) if value else 0


ID = field("integer", "ID", readonly=True)
