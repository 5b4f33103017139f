"""Where an apply writes: one interface, two local targets.

- ``BuiltinTarget``: our own customers, products and orders tables (``core.db.local_records``),
  written in the apply's own session: the batch's writes and its results commit
  together.
- ``DatabaseTarget``: the organization's own database, through the mapping the preview used
  and only when an admin switched its write-back on (``core.localdb.writer``). A batch is one
  transaction there, committed *before* the results are written in our database (see
  ``runner.py`` for why that order is safe).

A batch (``with target.batch(session) as b``) reads the rows of its journal rows by key
(``b.read``: ``Current`` per journal external id) and writes what the runner decided:
``insert`` (canonical records), ``update`` (changed fields), ``remove`` (delete the rows, or
mark them inactive), ``delete`` (an undo of a create), ``restore`` (an undo of a removal).
Values go in as the journal keeps them (canonical JSON); each target converts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import polars as pl
from sqlalchemy.orm import Session

from core.db.apply_runs import JournalWork
from core.db.local_data import LocalDataStore
from core.db.local_records import MONEY, LocalRecords, to_db, to_json
from core.db.vault import Vault
from core.delta import COMPARABLE_FIELDS, canonical_frame
from core.delta.natural import NATURAL_KEYS
from core.errors import InvalidRequest
from core.localdb.mapping import LocalMapping
from core.localdb.writer import FoundRow, LocalWriter, WriteBatch, WriteOptions
from core.services.write_back import WHERE_TO_SWITCH, write_settings


@dataclass(frozen=True, slots=True)
class Current:
    """A local record as a batch meets it: how the target names it (``ref``), its canonical
    values, its before-image as the journal keeps it, and whether it is active (a row marked
    inactive counts as removed)."""

    ref: Any
    canonical: dict[str, Any]
    image: dict[str, Any]
    active: bool = True


class TargetBatch(Protocol):
    """One batch's reads and writes on a local target (one transaction)."""

    def read(self, jobs: Sequence[JournalWork]) -> dict[str, Current]: ...

    def insert(self, records: Sequence[Mapping[str, Any]]) -> None: ...

    def update(self, changes: Sequence[tuple[Current, Mapping[str, Any]]]) -> None: ...

    def remove(self, rows: Sequence[Current]) -> None: ...

    def delete(self, rows: Sequence[Current]) -> None: ...

    def restore(self, images: Sequence[tuple[Mapping[str, Any], Current | None]]) -> None: ...


class LocalTarget(Protocol):
    """Where a run writes (see the module docstring)."""

    kind: str  # "builtin" or "database"
    #: the fields a write may set (an undo of an update restores these)
    fields: tuple[str, ...]

    def batch(self, s: Session) -> Any: ...  # a context manager yielding a TargetBatch


#: Local columns whose stored values ``to_json`` changes (amounts, times)
_TYPED = frozenset({*MONEY, "created_at"})


def canonical(entity_type: str, rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Local rows as JSON keeps them (``stored_json``) in canonical form, by external id.

    Normalized as columns, as a refresh normalizes the local table (``LocalRecords``' CSV
    reads: text, amounts and times as text, stock as whole numbers, lines as JSON text): the
    same path as the preview's local side, and faster than a record at a time."""
    listed = list(rows)
    if not listed:
        return {}
    names = ("external_id", *COMPARABLE_FIELDS[entity_type])
    columns: dict[str, list[Any]] = {n: [r.get(n) for r in listed] for n in names}
    columns["external_id"] = [str(v) for v in columns["external_id"]]
    if "lines" in columns:
        columns["lines"] = [_json_text(v) for v in columns["lines"]]
    schema = {n: pl.Int64 if n == "stock_quantity" else pl.String for n in names}
    data = pl.DataFrame(columns, schema=schema, strict=False)
    return {r["external_id"]: r for r in canonical_frame("local", entity_type, data).to_dicts()}


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def stored_json(entity_type: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A local row (``id``, ``external_id``, fields) as JSON keeps it (the before-image)."""
    names = ("id", "external_id", *COMPARABLE_FIELDS[entity_type])
    image = {n: row[n] for n in names if n in row}
    for name in _TYPED.intersection(image):
        image[name] = to_json(image[name])
    return image


# ------------------------------------------------------------------------- the built-in store


class _BuiltinBatch:
    def __init__(self, s: Session, source: str, entity_type: str) -> None:
        self.local = LocalRecords(s)
        self.source = source
        self.entity_type = entity_type
        self.fields = COMPARABLE_FIELDS[entity_type]

    def read(self, jobs: Sequence[JournalWork]) -> dict[str, Current]:
        rows = self.local.rows_by_ids(self.source, self.entity_type, [j.external_id for j in jobs])
        images = {key: stored_json(self.entity_type, row) for key, row in rows.items()}
        canon = canonical(self.entity_type, images.values())
        return {key: Current(row["id"], canon[key], images[key]) for key, row in rows.items()}

    def _db(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {f: to_db(f, values.get(f)) for f in self.fields}

    def insert(self, records: Sequence[Mapping[str, Any]]) -> None:
        rows = [{"external_id": r["external_id"], **self._db(r)} for r in records]
        self.local.insert_rows(self.source, self.entity_type, rows)

    def update(self, changes: Sequence[tuple[Current, Mapping[str, Any]]]) -> None:
        # update_rows writes the rows that set the same columns with one statement
        rows = [
            {"id": cur.ref, **{f: to_db(f, v) for f, v in values.items()}}
            for cur, values in changes
        ]
        self.local.update_rows(self.entity_type, rows)

    def remove(self, rows: Sequence[Current]) -> None:
        self.local.delete_rows(self.entity_type, [int(r.ref) for r in rows])

    def delete(self, rows: Sequence[Current]) -> None:
        self.remove(rows)

    def restore(self, images: Sequence[tuple[Mapping[str, Any], Current | None]]) -> None:
        rows = [
            {"id": image.get("id"), "external_id": image["external_id"], **self._db(image)}
            for image, _ in images
        ]
        self.local.insert_rows(self.source, self.entity_type, rows)


class BuiltinTarget:
    """Our own tables, written in the apply's session (one transaction with the journal)."""

    kind = "builtin"

    def __init__(self, source: str, entity_type: str) -> None:
        self.source = source
        self.entity_type = entity_type
        self.fields = COMPARABLE_FIELDS[entity_type]
        self._checked = False

    @contextmanager
    def batch(self, s: Session) -> Iterator[_BuiltinBatch]:
        if not self._checked:  # once per run's execution (or undo): the batches look ids up
            LocalRecords(s).refresh_statistics(self.entity_type)
            self._checked = True
        yield _BuiltinBatch(s, self.source, self.entity_type)


# --------------------------------------------------------------- the organization's database


class _DatabaseBatch:
    def __init__(self, batch: WriteBatch, mapping: LocalMapping, options: WriteOptions) -> None:
        self.batch = batch
        self.mapping = mapping
        self.options = options
        self.fields = tuple(f for f, _ in mapping.columns)

    def _key(self, j: JournalWork) -> str | None:
        """The key a journal row's record has in the table: the store's id (matching by id),
        or its natural key (a deleted record's external id is its key already)."""
        if self.mapping.match.kind == "id" or j.op == "delete":
            return j.external_id
        field = NATURAL_KEYS[self.mapping.entity_type]
        for image in (j.planned.get("after"), j.planned.get("before")):
            if image and image.get(field):
                return str(image[field])
        return j.external_id

    def read(self, jobs: Sequence[JournalWork]) -> dict[str, Current]:
        keys = {j.external_id: self._key(j) for j in jobs}
        found = self.batch.read([k for k in keys.values() if k])
        out: dict[str, Current] = {}
        for external_id, key in keys.items():
            row: FoundRow | None = found.get(key) if key else None
            if row is None:
                continue
            canon = row.canonical  # matching by id, the engine's key is the external id
            if canon["external_id"] != external_id:
                canon = {**canon, "external_id": external_id}
            # canonical values are JSON already (text, whole numbers, None)
            image = {**canon, "key": to_json(row.key)}
            out[external_id] = Current(row.key, canon, image, row.active)
        return out

    def insert(self, records: Sequence[Mapping[str, Any]]) -> None:
        self.batch.insert(records)

    def update(self, changes: Sequence[tuple[Current, Mapping[str, Any]]]) -> None:
        self.batch.update(
            [
                (cur.ref, {f: v for f, v in values.items() if f in self.fields})
                for cur, values in changes
            ]
        )

    def remove(self, rows: Sequence[Current]) -> None:
        if self.options.active_column:
            self.batch.set_active([r.ref for r in rows], False)
        else:
            self.batch.delete([r.ref for r in rows])

    def delete(self, rows: Sequence[Current]) -> None:
        self.batch.delete([r.ref for r in rows])

    def restore(self, images: Sequence[tuple[Mapping[str, Any], Current | None]]) -> None:
        again = [cur for _, cur in images if cur is not None]  # marked inactive: reactivate
        if again:
            self.batch.set_active([c.ref for c in again], True)
        # deleted: inserted again with the mapped columns (other columns take their defaults)
        self.batch.insert([image for image, cur in images if cur is None])


class DatabaseTarget:
    """The organization's database table of ``mapping``, written with ``writer``."""

    kind = "database"

    def __init__(self, writer: LocalWriter, mapping: LocalMapping, options: WriteOptions) -> None:
        self.writer = writer
        self.mapping = mapping
        self.options = options
        self.fields = tuple(f for f, _ in mapping.columns)

    @contextmanager
    def batch(self, s: Session) -> Iterator[_DatabaseBatch]:
        with self.writer.batch(self.mapping, self.options) as batch:
            yield _DatabaseBatch(batch, self.mapping, self.options)


def build_target(
    s: Session, vault: Vault, run_target: str, sync_type: str, entity_type: str, connector_id: int
) -> LocalTarget:
    """The target a run writes to, with the write-back as it is now (a run of the
    organization's database stops when its write-back was switched off since)."""
    if run_target != "database":
        return BuiltinTarget(sync_type, entity_type)
    store = LocalDataStore(s, vault)
    mapping_row = store.in_force(sync_type, entity_type, connector_id)
    row = (
        store.write_back(sync_type, entity_type, mapping_row.connector_id)
        if mapping_row is not None and mapping_row.kind == "database"
        else None
    )
    if mapping_row is None or row is None or not row.enabled:
        raise InvalidRequest(
            "Write-back to your database was switched off (or its mapping removed) since this "
            "run started; nothing more was written. An admin can switch it on again: "
            f"{WHERE_TO_SWITCH.format(entity=entity_type)}."
        )
    mapping = LocalMapping.from_dict(mapping_row.mapping)
    settings = write_settings(store, row.write_user, store.write_password(row))
    return DatabaseTarget(LocalWriter(settings), mapping, WriteOptions(row.active_column))
