"""Where each canonical field comes from: the mapping vocabulary and a source's record format.

A mapping table gives, for each canonical field of an entity, a small *spec* that reads the
raw record (``Path("billing", "phone")``, ``FirstOf(...)``, ``Joined(...)``, ``Const(...)``,
``Computed(...)``, ``Lines(...)``); the field's type (``fields.FIELD_TYPES``) then normalizes
what the spec read.

A ``RecordFormat`` is what the engine needs to know of a source: its key and label, the key
of a record's id, one mapping table per entity and, optionally, the wire schema per entity
that lets the columnar JSON reader read pages of raw bytes. Every registered source
(``core.sources.SourceSpec``) is one; ``LOCAL`` is the format of the organization's own rows.
The engine's functions take a format or a sync type; ``record_format`` finds the format of
a sync type in the source registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import polars as pl

from core.delta import normalize
from core.delta.errors import LOCAL_SOURCE, UnknownType
from core.delta.fields import FIELD_TYPES, FieldType


@dataclass(frozen=True)
class Path:
    """A value at a key path (``Path("billing", "phone")``); missing or non-object -> None."""

    keys: tuple[str, ...]

    def __init__(self, *keys: str) -> None:
        object.__setattr__(self, "keys", keys)

    def raw(self, record: Mapping[str, Any]) -> Any:
        value: Any = record
        for key in self.keys:
            # dict first: isinstance against the Mapping ABC is several times slower
            if not (type(value) is dict or isinstance(value, Mapping)):
                return None
            value = value.get(key)
        return value

    def value(self, record: Mapping[str, Any], field_type: FieldType) -> Any:
        return normalize.NORMALIZERS[field_type](self.raw(record))


@dataclass(frozen=True)
class FirstOf:
    """The first of several specs whose normalized value is not None."""

    specs: tuple[Spec, ...]

    def __init__(self, *specs: Spec) -> None:
        object.__setattr__(self, "specs", specs)

    def value(self, record: Mapping[str, Any], field_type: FieldType) -> Any:
        for spec in self.specs:
            result = spec.value(record, field_type)
            if result is not None:
                return result
        return None


@dataclass(frozen=True)
class Joined:
    """Normalized text parts joined by one space, empty parts skipped (first + last name)."""

    parts: tuple[Path, ...]

    def __init__(self, *parts: Path) -> None:
        object.__setattr__(self, "parts", parts)

    def value(self, record: Mapping[str, Any], field_type: FieldType) -> Any:
        texts = [normalize.text(part.raw(record)) for part in self.parts]
        return normalize.NORMALIZERS[field_type](" ".join(t for t in texts if t is not None))


@dataclass(frozen=True)
class Const:
    """The same raw value for every record (normalized by the field's type)."""

    raw: Any

    def value(self, record: Mapping[str, Any], field_type: FieldType) -> Any:
        return normalize.NORMALIZERS[field_type](self.raw)


@dataclass(frozen=True)
class Computed:
    """A raw value computed from the whole record, then normalized by the field's type."""

    func: Callable[[Mapping[str, Any]], Any]

    def value(self, record: Mapping[str, Any], field_type: FieldType) -> Any:
        return normalize.NORMALIZERS[field_type](self.func(record))


@dataclass(frozen=True)
class Lines:
    """Order lines read from a list of line objects with their own key names."""

    key: str
    sku: str
    quantity: str
    total: str

    def value(self, record: Mapping[str, Any], field_type: FieldType) -> Any:
        raw_lines = record.get(self.key)
        if raw_lines is None or raw_lines is False:
            return []
        if not isinstance(raw_lines, list):
            raise normalize.Unreadable(raw_lines)
        return normalize.lines(
            [
                {
                    "sku": line.get(self.sku),
                    "quantity": line.get(self.quantity),
                    "total": line.get(self.total),
                }
                if isinstance(line, Mapping)
                else line
                for line in raw_lines
            ]
        )


Spec = Path | FirstOf | Joined | Const | Computed | Lines
#: Canonical field -> where its value comes from, for one entity of one source.
EntityMapping = Mapping[str, Spec]
#: Wire field -> polars dtype: the fields of one entity the columnar JSON reader reads.
WireSchema = Mapping[str, pl.DataType]


class RecordFormat(Protocol):
    """How one system's records read as canonical records (see the module docstring)."""

    @property
    def key(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def id_key(self) -> str: ...

    @property
    def mappings(self) -> Mapping[str, EntityMapping]: ...

    @property
    def wire_schemas(self) -> Mapping[str, WireSchema]: ...


def _local_mappings() -> dict[str, EntityMapping]:
    return {entity: {name: Path(name) for name in types} for entity, types in FIELD_TYPES.items()}


@dataclass(frozen=True)
class LocalRows:
    """The format of the organization's own rows: they already use the canonical names."""

    key: str = LOCAL_SOURCE
    label: str = "the local database"
    id_key: str = "external_id"
    mappings: Mapping[str, EntityMapping] = field(default_factory=_local_mappings)
    wire_schemas: Mapping[str, WireSchema] = field(default_factory=dict)


LOCAL: Final = LocalRows()


def record_format(source: str | RecordFormat) -> RecordFormat:
    """The format of a sync type (``"local"`` or a registered source); a format as it is."""
    if not isinstance(source, str):
        return source
    if source == LOCAL.key:
        return LOCAL
    # The registry sits above the engine and holds formats; it is asked at call time only.
    from core import sources

    spec = sources.find(source)
    if spec is None:
        known = ", ".join((*sources.keys(), LOCAL.key))
        raise UnknownType(f"Unknown sync type {source!r}; use one of {known}.")
    return spec
