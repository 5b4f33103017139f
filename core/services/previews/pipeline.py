"""The refresh pipeline: fetch the external records, diff them with the local ones, store.

While the external pages arrive, a thread indexes the local records of that source (key and
fingerprint only); each chunk of pages is diffed as it comes, keeping only what changed; at
the end the local rows of the changed records are read again and diffed field by field
(see "How a refresh diffs" in docs/architecture.md). The pipeline reports where it is as a
phase and a fraction of the whole (``PreviewProgress``); the UI words it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from core.connectors import FetchProgress, read_scope
from core.db.connector_store import ConnectorStore
from core.db.local_records import LocalRecords
from core.db.tenancy import tenant_session
from core.db.vault import Vault
from core.delta import (
    COMPARABLE_FIELDS,
    CanonicalFrame,
    DeltaResult,
    DeltaStream,
    RecordError,
    canonical_frame,
    iter_canonical_frames,
)
from core.delta.natural import KEY_LABELS, NATURAL_KEYS, MatchedResult, NaturalKeyStream
from core.delta.subset import only_fields
from core.errors import (
    BadResponse,
    InternalError,
    InvalidRequest,
    NotFoundError,
    SyncPreviewError,
)
from core.jobs import JobCancelled
from core.localdb import LocalReader
from core.services.actors import Actor
from core.services.connectors import ConnectorFactory
from core.services.local_data import LocalSide, local_side
from core.services.previews.snapshots import PreviewKey, PreviewSnapshot, SnapshotStore

log = logging.getLogger(__name__)

Phase = Literal["waiting", "fetching", "reading_local", "comparing", "storing", "done"]
#: Ambiguous keys kept on a snapshot to be listed (all are counted).
AMBIGUOUS_SHOWN = 200
#: The share of the whole that fetching stands for, and where each later phase starts.
FETCH_SHARE = 0.8
PHASE_START: dict[Phase, float] = {
    "waiting": 0.0,
    "fetching": 0.0,
    "reading_local": 0.82,
    "comparing": 0.88,
    "storing": 0.92,
    "done": 1.0,
}


@dataclass(frozen=True)
class PreviewProgress:
    """Where a refresh is: its phase, a 0..1 fraction of the whole, and the figures of the
    phase (the connector and pages being fetched, the changes being stored)."""

    phase: Phase
    fraction: float
    connector: str | None = None
    pages_done: int = 0
    pages_total: int | None = None
    records_done: int = 0
    changes: int | None = None


ProgressFn = Callable[[PreviewProgress], None]


class RefreshPipeline:
    """Computes a preview afresh and stores it (or why it failed) in the snapshot store."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        vault: Vault,
        build_connector: ConnectorFactory,
        snapshots: SnapshotStore,
        *,
        deadline_seconds: float,
    ) -> None:
        self.sessions = sessions
        self.vault = vault
        self.build_connector = build_connector
        self.snapshots = snapshots
        self.deadline_seconds = deadline_seconds

    def run(
        self,
        actor: Actor,
        key: PreviewKey,
        report: ProgressFn,
        keep_going: Callable[[], None] = lambda: None,
    ) -> PreviewSnapshot:
        """Fetch, diff and store; a failure (storing included) is stored beside the last good
        snapshot, which is returned (or the error raised when there is none).

        ``keep_going()`` is called between pages and before storing; it raises to stop the
        work (the lease's heartbeat: ``RefreshInterrupted`` once the lease is lost).
        """
        t0 = time.monotonic()
        failure: SyncPreviewError
        try:
            result, notes, local = self._diff(
                key, report, keep_going, deadline=t0 + self.deadline_seconds
            )
            keep_going()
            changes = sum(result.counts.values()) - result.counts["unchanged"]
            report(PreviewProgress("storing", PHASE_START["storing"], changes=changes))
            snapshot = self.snapshots.store_ready(actor, key, result, _ms_since(t0), notes, local)
        except RecordError as err:  # a record the engine cannot read: the source's or ours
            failure = (InvalidRequest if err.local else BadResponse)(str(err))
        except (NotFoundError, JobCancelled):  # deleted meanwhile, or cancelled: nothing to store
            raise
        except SyncPreviewError as err:
            failure = err
        except Exception:  # a bug or an unexpected library error: keep the good data
            reference = uuid.uuid4().hex[:12]
            log.exception(
                "preview refresh failed unexpectedly (connector %s, %s/%s, org %s), reference %s",
                key.connector_id,
                key.sync_type,
                key.entity_type,
                key.org_id,
                reference,
            )
            failure = InternalError("The refresh", reference)
        else:
            report(PreviewProgress("done", PHASE_START["done"]))
            return snapshot
        good = self.snapshots.store_failed(actor, key, failure, _ms_since(t0))
        return replace(good, refresh_failure=failure)

    def _diff(
        self,
        key: PreviewKey,
        report: ProgressFn,
        keep_going: Callable[[], None],
        *,
        deadline: float,
    ) -> tuple[DeltaResult, tuple[str, ...], dict[str, Any] | None]:
        """Fetch the external pages and diff them against the local records as they come;
        the result, what the connector said of its read, and what the local side was.

        The fields the source does not have (``read_scope``) are not compared, nor those a
        mapping of the local side leaves out."""
        side = local_side(
            self.sessions,
            self.vault,
            key.org_id,
            key.sync_type,
            key.entity_type,
            key.connector_id,
        )
        with tenant_session(self.sessions, key.org_id) as s:
            config = ConnectorStore(s, self.vault).secret_config(key.connector_id)
        connector = self.build_connector(config, deadline)
        try:
            missing = set(read_scope(connector, key.entity_type).not_available)
        except BaseException:
            connector.close()
            raise
        compared = [
            f
            for f in COMPARABLE_FIELDS[key.entity_type]
            if f not in missing and (side.compared is None or f in side.compared)
        ]
        local = _Local(self, key, side, compared)
        stream: DeltaStream | NaturalKeyStream
        if side.match == "natural":
            stream = NaturalKeyStream(key.entity_type)
        else:
            stream = DeltaStream(key.entity_type, compared=compared)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="local-read") as pool:
            local_job = pool.submit(local.index, stream)
            try:
                report(PreviewProgress("fetching", 0.0, connector=config.name))

                def on_page(p: FetchProgress) -> None:
                    keep_going()
                    total = p.pages_total or 0
                    share = FETCH_SHARE * p.pages_done / total if total else 0.0
                    report(
                        PreviewProgress(
                            "fetching",
                            min(share, FETCH_SHARE),
                            connector=config.name,
                            pages_done=p.pages_done,
                            pages_total=p.pages_total,
                            records_done=p.records_done,
                        )
                    )

                pages = connector.iter_pages(key.entity_type, progress=on_page)
                for chunk in iter_canonical_frames(key.sync_type, key.entity_type, pages):
                    keep_going()
                    stream.add_external(only_fields(chunk, compared))
                    if not stream.has_local and local_job.done():
                        stream.use_local(local_job.result())
                notes = read_scope(connector, key.entity_type).notes
            finally:
                connector.close()
            if not stream.has_local:
                if not local_job.done():
                    report(PreviewProgress("reading_local", PHASE_START["reading_local"]))
                stream.use_local(local_job.result())
        report(PreviewProgress("comparing", PHASE_START["comparing"]))
        rows = local.rows(stream.local_ids_needed())
        if isinstance(stream, NaturalKeyStream):
            matched = stream.finish(rows, local_without_key=local.without_key)
            not_compared = tuple(f for f in COMPARABLE_FIELDS[key.entity_type] if f not in compared)
            result = replace(matched.delta, not_compared=not_compared)
            return result, notes + local.notes(matched), local.facts(matched)
        result = stream.finish(rows)
        return result, notes + local.notes(None), local.facts(None)


class _Local:
    """The local side of one refresh: our own tables (as they are, or filled by a file
    import) or the organization's database through its mapping."""

    def __init__(
        self, pipeline: RefreshPipeline, key: PreviewKey, side: LocalSide, compared: list[str]
    ) -> None:
        self.sessions = pipeline.sessions
        self.key = key
        self.side = side
        self.compared = compared
        self.reader: LocalReader | None = side.reader() if side.kind == "database" else None

    @property
    def without_key(self) -> int:
        return self.reader.without_key if self.reader is not None else 0

    def _frames(self, raw_frames: Any) -> Any:
        entity = self.key.entity_type
        for frame in raw_frames:
            yield only_fields(canonical_frame("local", entity, frame), self.compared)

    def index(self, stream: DeltaStream | NaturalKeyStream) -> Any:
        """Key and fingerprint of the local records (on the worker thread)."""
        key = self.key
        if self.reader is not None:
            frames = (only_fields(f, self.compared) for f in self.reader.frames())
            return stream.index_local(frames)
        with tenant_session(self.sessions, key.org_id) as s:
            raw = LocalRecords(s).iter_frames(key.sync_type, key.entity_type)
            return stream.index_local(self._frames(raw))

    def rows(self, ids: list[str]) -> CanonicalFrame:
        """The local records with these keys, canonical and columnar."""
        key = self.key
        if self.reader is not None:
            return only_fields(self.reader.rows_for_keys(ids), self.compared)
        with tenant_session(self.sessions, key.org_id) as s:
            raw = LocalRecords(s).load_frame(key.sync_type, key.entity_type, ids=ids)
        return only_fields(canonical_frame("local", key.entity_type, raw), self.compared)

    def notes(self, matched: MatchedResult | None) -> tuple[str, ...]:
        """Sentences on the local side: where from, how matched, what was compared."""
        side = self.side
        if side.kind == "builtin":
            return ()
        where = (
            f"Your records: {side.description}"
            if side.kind == "file"
            else f"Your records from {side.settings.label if side.settings else 'your database'}"
            f" (mapping version {side.version}): {side.description}"
        )
        out = [where, f"Fields compared: {', '.join(self.compared)}."]
        label = KEY_LABELS.get(NATURAL_KEYS.get(self.key.entity_type, ""), "key")
        if matched is not None and matched.ambiguous:
            out.append(
                f"{len(matched.ambiguous):,} {label}(s) are ambiguous (two records or rows "
                "share one, or a store record has none): listed apart, never matched, not "
                "counted as new, updated or deleted."
            )
        if self.without_key:
            what = label if side.match == "natural" else "store id"
            out.append(
                f"{self.without_key:,} of your rows have no {what} and cannot be matched "
                "(left out)."
            )
        return tuple(out)

    def facts(self, matched: MatchedResult | None) -> dict[str, Any] | None:
        """What the snapshot keeps of the local side (``PreviewSnapshot.local``)."""
        side = self.side
        if side.kind == "builtin":
            return None
        ambiguous = list(matched.ambiguous) if matched is not None else []
        return {
            "kind": side.kind,
            "match": side.match,
            "key": matched.key_field if matched is not None else None,
            "version": side.version,
            "compared": list(self.compared),
            "ambiguous": len(ambiguous),
            "ambiguous_records": [a.to_dict() for a in ambiguous[:AMBIGUOUS_SHOWN]],
            "without_key": self.without_key,
        }


def _ms_since(t0: float) -> int:
    return int((time.monotonic() - t0) * 1000)
