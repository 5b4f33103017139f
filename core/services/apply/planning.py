"""Planning an apply: which snapshot, which of its records, checked before anything is written.

A snapshot may be applied while it is the newest good preview of its (connector, entity) and
not expired; the kinds its selective settings include become record operations (new ->
create, updated -> update, deleted -> delete), minus the records left out by hand. Starting a
run stores the run and its journal (one row per operation) in one transaction; the writes
happen in ``runner.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.db.apply_runs import ApplyRunRows
from core.db.models import ApplyRun, PreviewCache
from core.db.previews import SnapshotRows
from core.db.scope import current_org, org_scope
from core.db.selective import SelectiveStore
from core.delta import COMPARABLE_FIELDS, HASH_VERSION
from core.errors import InvalidRequest, NotFoundError
from core.services.apply.views import OPERATION, ApplyPlan
from core.services.connectors import ConnectorIdentity

#: The most records one apply may leave out by hand.
MAX_EXCLUDED = 10_000
#: How the selective settings name each kind.
SETTING = {"new": "include_new", "updated": "include_updated", "deleted": "include_deleted"}
DEFAULT_INCLUDED = {"new": True, "updated": True, "deleted": False}


@dataclass(frozen=True)
class Chosen:
    """What a plan is of: the connector's snapshot of one entity, the kinds included, the
    records left out by hand."""

    connector: ConnectorIdentity
    snapshot: PreviewCache
    kinds: tuple[str, ...]
    exclude: frozenset[str]


def checked_exclude(exclude: Sequence[Any] | None) -> frozenset[str]:
    """The external ids to leave out, as text; refuses what is not a list of ids."""
    if exclude is None:
        return frozenset()
    if isinstance(exclude, str | bytes) or not isinstance(exclude, Sequence):
        raise InvalidRequest("exclude must be a list of external ids.")
    if len(exclude) > MAX_EXCLUDED:
        raise InvalidRequest(f"exclude may name at most {MAX_EXCLUDED:,} records.")
    ids: set[str] = set()
    for value in exclude:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidRequest("exclude must be a list of external ids (text or numbers).")
        text = str(value).strip()
        if not text or len(text) > 64:
            raise InvalidRequest("An external id in exclude is empty or longer than 64 characters.")
        ids.add(text)
    return frozenset(ids)


def choose(
    s: Session,
    connector: ConnectorIdentity,
    entity_type: str,
    snapshot_id: int | None,
    exclude: frozenset[str],
    now: datetime,
) -> Chosen:
    """The snapshot to apply (the newest good one; refused when stale) and what of it."""
    what = f"{entity_type} preview of {connector.name}"
    latest = SnapshotRows(s).latest(connector.id, entity_type)
    if latest is None:
        raise NotFoundError(f"There is no {what} to apply yet; refresh it first.")
    if snapshot_id is not None and snapshot_id != latest.id:
        raise InvalidRequest(
            f"That {what} is no longer the newest one (a newer preview was computed since); "
            "look at the newest preview and apply it."
        )
    if latest.expires_at is None or latest.expires_at <= now or latest.hash_version != HASH_VERSION:
        raise InvalidRequest(
            f"The {what} is out of date (computed {latest.computed_at:%Y-%m-%d %H:%M} UTC); "
            "refresh it and apply the fresh preview."
        )
    setting = SelectiveStore(s).get(connector.id, entity_type)
    kinds = tuple(
        kind
        for kind in OPERATION
        if (getattr(setting, SETTING[kind]) if setting is not None else DEFAULT_INCLUDED[kind])
    )
    return Chosen(connector, latest, kinds, exclude)


def plan_of(s: Session, chosen: Chosen) -> ApplyPlan:
    """The operations applying ``chosen`` would make (counted, nothing written)."""
    snap = chosen.snapshot
    present = ApplyRunRows(s).count_present(snap.id, sorted(chosen.exclude))
    counts = {
        OPERATION[kind]: (
            int(snap.counts.get(kind, 0)) - present.get(kind, 0) if kind in chosen.kinds else 0
        )
        for kind in OPERATION
    }
    assert snap.expires_at is not None
    return ApplyPlan(
        connector_id=chosen.connector.id,
        connector_name=chosen.connector.name,
        sync_type=snap.sync_type,
        entity_type=snap.entity_type,
        snapshot_id=snap.id,
        computed_at=snap.computed_at,
        expires_at=snap.expires_at,
        counts=counts,
        left_out_kinds=tuple(k for k in OPERATION if k not in chosen.kinds),
        excluded=sum(present.get(k, 0) for k in chosen.kinds),
    )


def compared_fields(snapshot: PreviewCache) -> list[str]:
    """The fields the snapshot compared: a conflict is a change of one of these."""
    not_compared = set((snapshot.scope or {}).get("not_compared") or ())
    return [f for f in COMPARABLE_FIELDS[snapshot.entity_type] if f not in not_compared]


def create_run(
    s: Session, chosen: Chosen, plan: ApplyPlan, by: str | None, now: datetime
) -> ApplyRun:
    """The run (queued) and its journal, in the session's transaction."""
    run = ApplyRun(
        org_id=current_org(s),
        connector_id=chosen.connector.id,
        connector_name=chosen.connector.name,
        sync_type=plan.sync_type,
        entity_type=plan.entity_type,
        snapshot_id=plan.snapshot_id,
        target=plan.target,
        state="queued",
        planned={
            **plan.counts,
            "compared": compared_fields(chosen.snapshot),
            **({"where": plan.where} if plan.where else {}),
        },
        excluded=plan.excluded,
        total=0,
        processed=0,
        created=0,
        updated=0,
        deleted=0,
        conflicts=0,
        skipped=0,
        created_by=by,
        created_at=now,
    )
    s.add(run)
    s.flush()
    run.total = ApplyRunRows(s).copy_journal(
        org_scope(s), run.id, chosen.snapshot.id, chosen.kinds, sorted(chosen.exclude)
    )
    return run


Clock = Callable[[], datetime]
