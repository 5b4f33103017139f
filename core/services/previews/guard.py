"""The change guard: a preview that would change or delete too large a share of the records
already in the organization's database is said to be suspicious.

When a sync would rewrite most existing records, the usual cause is not the business but the
set-up: a mapping that reads the wrong field, or a connector pointing at the wrong store, or
at one that was emptied. New records do not count: a first sync into an empty database is
all new, and that is expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_PERCENT = 30.0


@dataclass(frozen=True)
class ChangeWarning:
    """Too many of an entity's existing records would change: how many, out of how many."""

    entity_type: str
    updated: int
    deleted: int
    existing: int  # the local records the preview matched or missed: updated+deleted+unchanged
    threshold_percent: float

    @property
    def share(self) -> float:
        """The share (0..1) of existing records that would be updated or deleted."""
        return (self.updated + self.deleted) / self.existing

    def sentence(self) -> str:
        """The warning in plain words, with what to check."""
        share = self.share * 100
        shown = f"{share:.0f}" if round(share) > self.threshold_percent else f"{share:.1f}"
        return (
            f"This sync would change or delete {shown}% of the {self.existing:,} "
            f"{self.entity_type} already in your database ({self.updated:,} updated, "
            f"{self.deleted:,} deleted), more than the {self.threshold_percent:g}% this check "
            "allows. That is the typical sign of a wrong field mapping, or of a connector that "
            "points at the wrong store or at one that was emptied: check the connector and the "
            "mapping before you sync."
        )


def change_warning(
    entity_type: str, counts: Mapping[str, int], threshold_percent: float = DEFAULT_PERCENT
) -> ChangeWarning | None:
    """A warning when more than ``threshold_percent`` of the existing records would be
    updated or deleted; None otherwise (and when there are no existing records)."""
    updated, deleted = int(counts.get("updated", 0)), int(counts.get("deleted", 0))
    existing = updated + deleted + int(counts.get("unchanged", 0))
    if existing == 0 or (updated + deleted) * 100 <= threshold_percent * existing:
        return None
    return ChangeWarning(entity_type, updated, deleted, existing, threshold_percent)
