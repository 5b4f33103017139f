"""Opening previews for the Preview screen (workers compute them: ``ui.jobs``), the sentences
of a refresh's progress, friendly errors, CSV exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime

import streamlit as st

from core.errors import RefreshInProgress, RefreshRateLimited, SyncPreviewError
from core.services.actors import UserContext
from core.services.connectors import ConnectorView
from core.services.previews import PreviewProgress, PreviewSnapshot
from ui import format as fmt
from ui import state
from ui.browser import locality
from ui.records import RecordReader
from ui.services import get_services

CSV_PAGE = 1000


def progress_text(p: PreviewProgress, entity_type: str) -> str:
    """What the progress bar says about a refresh's phase."""
    if p.phase == "waiting":
        return "Another refresh of this preview is running…"
    if p.phase == "fetching":
        if not p.pages_done and p.connector:
            return f"Fetching {entity_type} from {fmt.md(p.connector)}…"
        of = f" of {p.pages_total}" if p.pages_total else ""
        return f"Fetching {entity_type}: page {p.pages_done}{of} ({p.records_done:,} records)"
    if p.phase == "reading_local":
        return f"Reading local {entity_type}…"
    if p.phase == "comparing":
        return "Comparing records…"
    if p.phase == "storing":
        return f"Saving {p.changes or 0:,} changes…"
    return "Preview is up to date."


def open_snapshot(
    ctx: UserContext, connector: ConnectorView, entity_type: str
) -> PreviewSnapshot | None:
    """The connector's preview to show: the newest good one, even expired; None when there is
    none yet. Never computed here: the page queued a missing or expired one for a worker
    (``ui.jobs.compute_if_missing``) and shows the last one meanwhile.

    A view is logged once per opening, not on every rerun that paging or searching causes;
    a newer snapshot (someone refreshed) is opened again.
    """
    previews = get_services().previews
    latest = previews.latest(ctx, connector.sync_type, entity_type, connector=connector.id)
    if latest is None or latest.expires_at <= datetime.now(UTC):
        return latest
    seen = state.viewed(connector.id, entity_type)
    if seen is not None and seen.snapshot_id == latest.snapshot_id:
        return _with_cache_hit(latest, seen.cache_hit)
    opened = previews.cached(ctx, connector.sync_type, entity_type, connector=connector.id)
    if opened is None:  # it expired this instant: a worker computes the next one
        return latest
    state.set_viewed(connector.id, entity_type, opened.snapshot_id, opened.cache_hit)
    return opened


def show_counts(snapshot: PreviewSnapshot, loc: fmt.Locality) -> None:
    """The four counts, each with its change since the previous preview."""
    previous = snapshot.previous_counts
    for column, kind in zip(st.columns(4), ("new", "updated", "deleted", "unchanged"), strict=True):
        count = snapshot.counts.get(kind, 0)
        column.metric(
            f"{fmt.KIND_ICON[kind]} {fmt.KIND_LABEL[kind]}",
            fmt.number(count, loc),
            delta=None if previous is None else fmt.signed(count - previous.get(kind, 0), loc),
            delta_color="off",
            help="The small number: the change since the previous preview."
            if previous is not None
            else None,
            border=True,
        )


def show_refusal(err: SyncPreviewError, *, refreshing: bool) -> None:
    """Why there is no new preview: when to try again after a refused refresh, else the error."""
    if refreshing and isinstance(err, RefreshRateLimited):
        at = datetime.now(UTC).timestamp() + err.retry_after
        when = fmt.clock_time(datetime.fromtimestamp(at, UTC), locality())
        limit = f" (limit {err.limit})" if err.limit else ""
        st.warning(
            f"⏳ Too many fresh previews for this organization{limit}. You can refresh again "
            f"{fmt.in_(err.retry_after)} (at {when}); the preview below is the last one computed."
        )
    elif refreshing and isinstance(err, RefreshInProgress):
        st.info(f"⏳ {fmt.md(err)}")
    else:
        st.error(fmt.md(err))


def _with_cache_hit(snap: PreviewSnapshot, cache_hit: bool) -> PreviewSnapshot:
    from dataclasses import replace

    return replace(snap, cache_hit=cache_hit)


def csv_export(
    actor: UserContext,
    snapshot: PreviewSnapshot,
    kind: str,
    search: str,
    *,
    by_change: bool = False,
) -> Callable[[], str]:
    """A callable that pages through every matching record of one kind and returns CSV: one
    row per record, or (updated records, ``by_change``) one row per changed field."""
    reader = RecordReader(snapshot.sync_type, snapshot.entity_type, locality())

    def build() -> str:
        previews = get_services().previews
        rows: list[dict[str, object]] = []
        offset = 0
        while True:
            page = previews.page_records(
                actor, snapshot.snapshot_id, kind, search=search, limit=CSV_PAGE, offset=offset
            )
            if by_change:
                rows.extend(reader.csv_by_change(page.records))
            else:
                rows.extend(reader.csv_by_record(kind, page.records))
            offset += len(page.records)
            if not page.records or offset >= page.total:
                break
        out = io.StringIO()
        fields: list[str] = []
        for row in rows:
            fields.extend(k for k in row if k not in fields)
        writer = csv.DictWriter(out, fieldnames=fields or list(reader.titles({})))
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()

    return build


def local_side(snapshot: PreviewSnapshot) -> None:
    """Where the local records came from (your database or an imported file) and, when they
    matched by natural key, the keys that could not match, listed apart with the reason."""
    local = snapshot.local
    if not local:
        return
    where = "your database" if local.get("kind") == "database" else "your imported file"
    how = (
        f"matched by {fmt.field_label(str(local.get('key') or 'email'))}"
        if local.get("match") == "natural"
        else "matched by the store's id"
    )
    compared = ", ".join(fmt.field_label(f) for f in local.get("compared") or ())
    st.caption(
        f"🗄️ Compared with {where} (mapping version {local.get('version')}), {how}; "
        f"fields compared: {compared}."
    )
    ambiguous = int(local.get("ambiguous", 0))
    without = int(local.get("without_key", 0))
    if not ambiguous and not without:
        return
    left, right, _ = st.columns([1, 1, 2])
    left.metric(
        "❓ Ambiguous",
        fmt.number(ambiguous),
        help="Keys two records (or two of your rows) share: never matched by guess, not "
        "counted as new, updated or deleted.",
        border=True,
    )
    right.metric(
        "🚫 Your rows without a key",
        fmt.number(without),
        help="Rows of yours with no key to match on (left out).",
        border=True,
    )
    records = local.get("ambiguous_records") or []
    if records:
        with st.expander(f"❓ Ambiguous keys ({fmt.number(ambiguous)})"):
            st.dataframe(
                [
                    {
                        "Key": r.get("key") or "(none)",
                        "Why": r.get("reason"),
                        "Store records": ", ".join(r.get("external_ids") or ()),
                        "Your rows": r.get("local_rows"),
                    }
                    for r in records
                ],
                hide_index=True,
                key=f"ambiguous_{snapshot.snapshot_id}",
            )
