"""Matching by natural key (e-mail, SKU, order number) for two systems never linked by id.

``NaturalKeyStream`` has ``DeltaStream``'s shape and runs one inside, keyed by the natural
key instead of the store's id. The keys are the canonical values, so they are normalized as
the engine normalizes them (e-mail trimmed and lower-cased, SKU and order number trimmed,
NFC). A key is **ambiguous** when two store records have it, when two local rows have it, or
when a store record's key changed while the store was read (the same id came again with
another key): its records are listed apart with the reason, never matched, never counted as
new, updated, deleted or unchanged. Store records without a key are listed apart too.

Local frames come keyed by the natural key (their ``external_id`` column holds it, as the
local reader writes it); external frames keep the store's id in ``external_id``. New and
updated records carry the store's id; a deleted record (a local row no store record has)
carries its key.

    stream = NaturalKeyStream("customers")
    index = stream.index_local(local_chunks)
    for chunk in external_chunks:
        stream.add_external(chunk)
    stream.use_local(index)
    matched = stream.finish(read_local_rows(stream.local_ids_needed()))
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import polars as pl

from core.delta.engine import id_sort_key
from core.delta.fields import check_entity
from core.delta.frame import CanonicalFrame
from core.delta.result import DeltaResult, UpdatedRecord
from core.delta.stream import DeltaStream, LocalIndex

#: The natural key of each entity: a canonical field.
NATURAL_KEYS: Final = {"customers": "email", "products": "sku", "orders": "number"}
KEY_LABELS: Final = {"email": "e-mail", "sku": "SKU", "number": "order number"}

_KEY = "external_id"


@dataclass(frozen=True)
class AmbiguousKey:
    """A natural key that cannot match: why, which store records and how many local rows."""

    key: str | None
    reason: str
    external_ids: tuple[str, ...] = ()
    local_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "reason": self.reason,
            "external_ids": list(self.external_ids),
            "local_rows": self.local_rows,
        }


@dataclass(frozen=True)
class MatchedResult:
    """A ``DeltaResult`` of the keys that matched, and the ambiguous keys listed apart."""

    delta: DeltaResult
    match: str  # "id" or "natural"
    key_field: str | None = None
    ambiguous: tuple[AmbiguousKey, ...] = ()
    local_without_key: int = 0

    @property
    def counts(self) -> dict[str, int]:
        """new/updated/deleted/unchanged, ambiguous keys, and local rows without a key."""
        return self.delta.counts | {
            "ambiguous": len(self.ambiguous),
            "local_without_key": self.local_without_key,
        }

    def to_dict(self, limit: int | None = None) -> dict[str, Any]:
        end = limit if limit is None else max(limit, 0)
        return self.delta.to_dict(limit) | {
            "match": self.match,
            "matchKey": self.key_field,
            "ambiguous": {
                "count": len(self.ambiguous),
                "records": [item.to_dict() for item in self.ambiguous[:end]],
            },
            "localWithoutKey": self.local_without_key,
        }


@dataclass(frozen=True)
class NaturalLocalIndex:
    """The inner stream's local index, and the natural keys more than one local row has."""

    index: LocalIndex
    duplicates: dict[str, int] = field(default_factory=dict)  # key -> local rows

    def __len__(self) -> int:
        return len(self.index)


class NaturalKeyStream:
    """A streaming diff matched by natural key (see the module docstring)."""

    def __init__(self, entity_type: str, key_field: str | None = None) -> None:
        check_entity(entity_type)
        self.entity_type = entity_type
        self.key_field = key_field or NATURAL_KEYS[entity_type]
        self.inner = DeltaStream(entity_type)
        self._seed = secrets.randbits(63)
        self._external: list[pl.DataFrame] = []  # store id and key of every record, in order
        self._local: NaturalLocalIndex | None = None

    # --- input -------------------------------------------------------------------------

    def index_local(self, chunks: Iterable[CanonicalFrame]) -> NaturalLocalIndex:
        """Index local frames keyed by natural key; finds keys more than one row has."""
        hashes: list[pl.Series] = []

        def counted() -> Iterator[CanonicalFrame]:
            for chunk in chunks:
                hashes.append(chunk.data[_KEY].hash(self._seed))
                yield chunk

        index = self.inner.index_local(counted())
        all_hashes = pl.concat(hashes) if hashes else pl.Series(_KEY, [], dtype=pl.UInt64)
        repeated = all_hashes.filter(all_hashes.is_duplicated())
        duplicates: dict[str, int] = {}
        if repeated.len():
            counts = repeated.value_counts(name="n").rename({repeated.name: "h"})
            keys = index.data.select(_KEY).with_columns(h=pl.col(_KEY).hash(self._seed))
            candidates = keys.join(counts, on="h", how="inner")
            # A count per hash: two different keys with one 64-bit hash (about 1 in 10^8 at
            # a million keys) would make both look repeated: ambiguous, never a wrong match.
            duplicates = dict(
                zip(candidates[_KEY].to_list(), candidates["n"].to_list(), strict=True)
            )
        return NaturalLocalIndex(index, duplicates)

    def add_external(self, chunk: CanonicalFrame) -> None:
        """Take the next external records (``external_id`` = the store's id)."""
        data = chunk.data
        keys = data[self.key_field]
        self._external.append(pl.DataFrame([data[_KEY].alias("id"), keys.alias("key")]))
        keyed = data.filter(keys.is_not_null()).with_columns(pl.col(self.key_field).alias(_KEY))
        self.inner.add_external(CanonicalFrame(self.entity_type, keyed))

    def use_local(self, index: NaturalLocalIndex) -> None:
        self._local = index
        self.inner.use_local(index.index)

    @property
    def has_local(self) -> bool:
        return self._local is not None

    # --- output ------------------------------------------------------------------------

    def local_ids_needed(self) -> list[str]:
        """Natural keys whose local rows ``finish`` needs."""
        return self.inner.local_ids_needed()

    def finish(self, local_rows: CanonicalFrame, *, local_without_key: int = 0) -> MatchedResult:
        """The result, given the local rows (keyed by natural key) of ``local_ids_needed()``."""
        if self._local is None:
            raise RuntimeError("NaturalKeyStream: call use_local() before asking for the result")
        result = self.inner.finish(local_rows)
        seen = (
            pl.concat(self._external)
            if self._external
            else pl.DataFrame(schema={"id": pl.String, "key": pl.String})
        )
        repeated_ids = bool(seen["id"].is_duplicated().any())
        final = seen.unique(subset="id", keep="last", maintain_order=True) if repeated_ids else seen
        keyed = final.filter(pl.col("key").is_not_null())
        # Keys held by two records: counted by a 64-bit hash first (cheap on a million
        # strings), then checked exactly on the few records whose hash repeats.
        hashes = keyed["key"].hash(self._seed)
        candidates = keyed.filter(hashes.is_duplicated())
        shared = candidates.group_by("key").len().filter(pl.col("len") > 1).select("key")
        stale = self._stale(seen) if repeated_ids else set()
        ambiguous = self._ambiguous(keyed, candidates.join(shared, on="key", how="semi"), stale)
        keys = {item.key for item in ambiguous}
        wanted = [item.external_id for item in result.updated] + [r[_KEY] for r in result.new]
        store_id = dict(
            keyed.filter(pl.col("key").is_in(wanted) & ~pl.col("key").is_in(list(keys)))
            .select("key", "id")
            .iter_rows()
        )
        new = [
            record | {_KEY: store_id[record[_KEY]]}
            for record in result.new
            if record[_KEY] not in keys
        ]
        updated = [
            UpdatedRecord(
                store_id[item.external_id],
                item.before | {_KEY: store_id[item.external_id]},
                item.after | {_KEY: store_id[item.external_id]},
                item.changes,
            )
            for item in result.updated
            if item.external_id not in keys
        ]
        deleted = [record for record in result.deleted if record[_KEY] not in keys]
        # An ambiguous key found on both sides and not updated was counted unchanged.
        found = set(seen.filter(pl.col("key").is_in(list(keys)))["key"].to_list())
        local_keys = self._local.index.data.filter(pl.col(_KEY).is_in(list(keys)))[_KEY]
        updated_keys = {item.external_id for item in result.updated}
        counted_unchanged = sum(
            1 for key in local_keys.to_list() if key in found and key not in updated_keys
        )
        new.sort(key=lambda record: id_sort_key(record[_KEY]))
        updated.sort(key=lambda item: id_sort_key(item.external_id))
        return MatchedResult(
            delta=DeltaResult(
                entity_type=self.entity_type,
                new=new,
                updated=updated,
                deleted=deleted,
                unchanged=result.unchanged - counted_unchanged,
                duplicates_collapsed=seen.height - final.height,
            ),
            match="natural",
            key_field=self.key_field,
            ambiguous=tuple(ambiguous) + self._without_key(final),
            local_without_key=local_without_key,
        )

    @staticmethod
    def _stale(seen: pl.DataFrame) -> set[str]:
        """Keys a store record had before it came again with another key."""
        again = seen.filter(pl.col("id").is_duplicated())
        if again.is_empty():
            return set()
        last = again.unique(subset="id", keep="last", maintain_order=True).rename({"key": "last"})
        stale = again.join(last, on="id").filter(
            pl.col("key").is_not_null() & pl.col("key").ne_missing(pl.col("last"))
        )
        return set(stale["key"].to_list())

    def _ambiguous(
        self, keyed: pl.DataFrame, shared: pl.DataFrame, stale: set[str]
    ) -> list[AmbiguousKey]:
        """``keyed``: (id, final key) of the store records with a key; ``shared``: those whose
        key another record has too; ``stale``: keys a record had before another one."""
        assert self._local is not None
        label = KEY_LABELS.get(self.key_field, self.key_field)
        local_dups = self._local.duplicates
        keys = set(shared["key"].to_list()) | stale | set(local_dups)
        ids_of: dict[str, list[str]] = {}
        holders = keyed.filter(pl.col("key").is_in(list(keys))) if keys else keyed.clear()
        for ident, key in holders.select("id", "key").iter_rows():
            ids_of.setdefault(key, []).append(ident)
        local_present = set(
            self._local.index.data.filter(pl.col(_KEY).is_in(list(keys)))[_KEY].to_list()
        )
        out: list[AmbiguousKey] = []
        for key in sorted(keys):
            ids = tuple(sorted(ids_of.get(key, []), key=id_sort_key))
            rows = local_dups.get(key, 1 if key in local_present else 0)
            reasons = []
            if len(ids) > 1:
                reasons.append(f"{len(ids)} store records have this {label}")
            if rows > 1:
                reasons.append(f"{rows} local rows have this {label}")
            if key in stale:
                reasons.append(f"a store record's {label} changed while the store was read")
            out.append(AmbiguousKey(key, "; ".join(reasons), ids, rows))
        return out

    def _without_key(self, final: pl.DataFrame) -> tuple[AmbiguousKey, ...]:
        ids = final.filter(pl.col("key").is_null())["id"].to_list()
        if not ids:
            return ()
        label = KEY_LABELS.get(self.key_field, self.key_field)
        count = "1 store record has" if len(ids) == 1 else f"{len(ids)} store records have"
        return (AmbiguousKey(None, f"{count} no {label}", tuple(sorted(ids, key=id_sort_key)), 0),)


def id_matched(result: DeltaResult, *, local_without_key: int = 0) -> MatchedResult:
    """A by-id ``DeltaResult`` in the same shape as a natural-key one (nothing ambiguous)."""
    return MatchedResult(result, "id", None, (), local_without_key)
