"""The engine's result types: ``DeltaResult``, ``UpdatedRecord``, ``FieldChange``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

#: The kinds of change a preview counts and lists, in the order they are shown.
CHANGE_KINDS: Final = ("new", "updated", "deleted")


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One comparable field whose canonical value differs between local and external."""

    field: str
    old: Any
    new: Any

    def to_dict(self) -> dict[str, Any]:
        """``{"field", "old", "new"}`` as in the API's JSON (docs/api.md)."""
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass(frozen=True, slots=True)
class UpdatedRecord:
    """A record present on both sides with at least one changed comparable field."""

    external_id: str
    before: dict[str, Any]
    after: dict[str, Any]
    changes: tuple[FieldChange, ...]

    def to_dict(self) -> dict[str, Any]:
        """``{"external_id", "before", "after", "changes": [...]}`` (docs/api.md)."""
        return {
            "external_id": self.external_id,
            "before": self.before,
            "after": self.after,
            "changes": [change.to_dict() for change in self.changes],
        }


@dataclass(frozen=True)
class DeltaResult:
    """What a sync would change for one entity type; lists are sorted by external id."""

    entity_type: str
    new: list[dict[str, Any]] = field(default_factory=list)
    updated: list[UpdatedRecord] = field(default_factory=list)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    duplicates_collapsed: int = 0
    #: comparable fields this diff left out (null on both sides): see ``core.delta.subset``
    not_compared: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """``{"new", "updated", "deleted", "unchanged"}`` record counts."""
        return {
            "new": len(self.new),
            "updated": len(self.updated),
            "deleted": len(self.deleted),
            "unchanged": self.unchanged,
        }

    def to_dict(self, limit: int | None = None) -> dict[str, Any]:
        """The API's ``delta`` block; ``limit`` caps the records listed per kind, not counts."""
        end = limit if limit is None else max(limit, 0)
        return {
            "new": {"count": len(self.new), "records": self.new[:end]},
            "updated": {
                "count": len(self.updated),
                "records": [item.to_dict() for item in self.updated[:end]],
            },
            "deleted": {"count": len(self.deleted), "records": self.deleted[:end]},
        }
