"""The streaming diff: memory grows with the number of changes, not with the store's size.

``DeltaStream`` takes the external records chunk by chunk as they are fetched and the local
ones as an index of key and fingerprint (docs/architecture.md). An external record whose key
and fingerprint match a local one is unchanged: only its key is kept (to find deletions and
duplicates). The others (new or updated) keep their values. At the end, the caller reads
again just the local rows that are needed — those of updated and deleted records — and
``finish`` runs the exact field-by-field diff (``diff_frames``) on those few rows. The
result equals ``diff`` on the whole sources.

The fingerprint here is a 128-bit hash of the canonical columns (two 64-bit polars row
hashes), with seeds drawn at random per stream: it only has to agree within one diff, and
random seeds keep a store from crafting a record that hides a change.

    stream = DeltaStream("customers")
    index = stream.index_local(local_chunks)     # may run on another thread
    for chunk in iter_canonical_frames("woocommerce", "customers", pages):
        stream.add_external(chunk)
    stream.use_local(index)
    result = stream.finish(read_local_rows(stream.local_ids_needed()))
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from core.delta.fields import COMPARABLE_FIELDS, check_entity
from core.delta.frame import CanonicalFrame, frame_schema
from core.delta.frame_diff import diff_frames
from core.delta.result import DeltaResult
from core.delta.subset import not_compared, without_fields

_KEY = "external_id"
_H0, _H1, _SEQ = "__h0", "__h1", "__seq"
_INDEX_SCHEMA: dict[str, pl.DataType] = {_KEY: pl.String(), _H0: pl.UInt64(), _H1: pl.UInt64()}
_SEEN_SCHEMA: dict[str, pl.DataType] = {_KEY: pl.String(), _SEQ: pl.Int64()}


@dataclass(frozen=True)
class LocalIndex:
    """Key and fingerprint of every local record (one row per key, the last one)."""

    data: pl.DataFrame  # external_id, __h0, __h1

    def __len__(self) -> int:
        return self.data.height


class DeltaStream:
    """One streaming diff of an external source against the local records.

    ``compared`` names the fields to compare (None: all); the others are set to null on
    both sides (``core.delta.subset``) and named in the result's ``not_compared``.
    """

    def __init__(self, entity_type: str, compared: Iterable[str] | None = None) -> None:
        check_entity(entity_type)
        self.entity_type = entity_type
        self.fields = COMPARABLE_FIELDS[entity_type]
        self.not_compared = not_compared(entity_type, compared)
        self._seeds = [secrets.randbits(63) for _ in range(8)]
        self._local: LocalIndex | None = None
        self._seen: list[pl.DataFrame] = []  # external_id and __seq of every record
        self._changed: list[pl.DataFrame] = []  # full rows (+ __seq) not known to be unchanged
        self._pending: list[pl.DataFrame] = []  # full rows waiting for the local index
        self._count = 0
        self._result_keys: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame] | None = None

    # --- input -------------------------------------------------------------------------

    def _fingerprinted(self, frame: CanonicalFrame) -> pl.DataFrame:
        if frame.entity_type != self.entity_type:
            raise ValueError(f"expected {self.entity_type} records, got {frame.entity_type}")
        frame = without_fields(frame, self.not_compared)
        values = frame.data.select(self.fields)
        return frame.data.select(_KEY, *self.fields).with_columns(
            values.hash_rows(seed=self._seeds[0]).alias(_H0),
            values.hash_rows(seed=self._seeds[1]).alias(_H1),
        )

    def index_local(self, chunks: Iterable[CanonicalFrame]) -> LocalIndex:
        """Key and fingerprint of the local records (reads ``chunks`` once; thread-safe)."""
        parts = [self._fingerprinted(chunk).select(_KEY, _H0, _H1) for chunk in chunks]
        data = pl.concat(parts) if parts else pl.DataFrame(schema=_INDEX_SCHEMA)
        return LocalIndex(data.unique(subset=_KEY, keep="last", maintain_order=True))

    def add_external(self, chunk: CanonicalFrame) -> None:
        """Take the next external records (in the order they were fetched)."""
        rows = self._fingerprinted(chunk).with_columns(
            pl.int_range(self._count, self._count + chunk.data.height, dtype=pl.Int64).alias(_SEQ)
        )
        self._count += rows.height
        self._result_keys = None
        self._seen.append(rows.select(_KEY, _SEQ))
        if self._local is None:
            self._pending.append(rows)
        else:
            self._keep_changed(rows)

    def use_local(self, index: LocalIndex) -> None:
        """Set the local index; external records taken so far are sorted out now."""
        self._local = index
        self._result_keys = None
        pending, self._pending = self._pending, []
        for rows in pending:
            self._keep_changed(rows)

    @property
    def has_local(self) -> bool:
        return self._local is not None

    def _keep_changed(self, rows: pl.DataFrame) -> None:
        assert self._local is not None
        changed = rows.join(self._local.data, on=[_KEY, _H0, _H1], how="anti")
        if changed.height:
            self._changed.append(changed.drop(_H0, _H1))

    # --- output ------------------------------------------------------------------------

    def _settled(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """Final external keys, their changed rows, and the keys of the local rows needed."""
        if self._local is None:
            raise RuntimeError("DeltaStream: call use_local() before asking for the result")
        if self._result_keys is None:
            self._result_keys = self._settle(self._local)
        return self._result_keys

    def _settle(self, local_index: LocalIndex) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        seen = pl.concat(self._seen) if self._seen else pl.DataFrame(schema=_SEEN_SCHEMA)
        final = seen.unique(subset=_KEY, keep="last", maintain_order=True)
        changed = (
            pl.concat(self._changed)
            if self._changed
            else pl.DataFrame(schema={**frame_schema(self.entity_type), _SEQ: pl.Int64()})
        )
        # A record changed in one chunk may come again, unchanged, in a later one: last wins.
        changed = changed.join(final.select(_SEQ), on=_SEQ, how="semi").sort(_SEQ)
        local = local_index.data.select(_KEY)
        needed = pl.concat(
            [
                local.join(changed, on=_KEY, how="semi"),  # updated
                local.join(final, on=_KEY, how="anti"),  # deleted
            ]
        )
        return final, changed.drop(_SEQ), needed

    def local_ids_needed(self) -> list[str]:
        """Keys whose local rows ``finish`` needs: those of updated and of deleted records."""
        return self._settled()[2][_KEY].to_list()

    def finish(self, local_rows: CanonicalFrame) -> DeltaResult:
        """The result, given the local rows of ``local_ids_needed()`` as they are now."""
        final, changed, needed = self._settled()
        # Only the needed rows: any other local row would look deleted to diff_frames.
        rows = local_rows.data.join(needed, on=_KEY, how="semi")
        result = diff_frames(
            self.entity_type,
            CanonicalFrame(self.entity_type, changed),
            without_fields(CanonicalFrame(self.entity_type, rows), self.not_compared),
        )
        return DeltaResult(
            entity_type=self.entity_type,
            new=result.new,
            updated=result.updated,
            deleted=result.deleted,
            unchanged=final.height - changed.height + result.counts["unchanged"],
            duplicates_collapsed=self._count - final.height,
            not_compared=self.not_compared,
        )
