"""Labels, times and tables as the business user reads them (no Streamlit calls here)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from core.services import catalog
from core.services.catalog import CHANGE_KINDS
from core.services.catalog import ENTITY_TYPES as ENTITY_TYPES  # for the pages

ENTITY_LABEL = {"customers": "Customers", "products": "Products", "orders": "Orders"}
KINDS = CHANGE_KINDS
KIND_LABEL = {"new": "New", "updated": "Updated", "deleted": "Deleted", "unchanged": "Unchanged"}
KIND_ICON = {"new": "🆕", "updated": "✏️", "deleted": "🗑️", "unchanged": "✔️"}
#: The field that names a record for a person, per entity (searchable too).
TITLE_FIELDS = {
    "customers": ("email", "name"),
    "products": ("sku", "name"),
    "orders": ("number", "customer_email"),
}


def source_keys() -> tuple[str, ...]:
    """Every source's key (``sync_type``), in the order they are shown."""
    return catalog.keys()


def source_label(sync_type: str) -> str:
    """The label people read ("WooCommerce"); a source no longer registered: its key."""
    spec = catalog.find(sync_type)
    return spec.label if spec is not None else sync_type


def source_title(sync_type: str) -> str:
    """Icon and label ("🛒 WooCommerce"); a source no longer registered: its key."""
    spec = catalog.find(sync_type)
    return spec.title if spec is not None else sync_type


def source_rank(sync_type: str) -> int:
    """Sources in the registry's order (WooCommerce before Odoo), unknown types last."""
    order = source_keys()
    return order.index(sync_type) if sync_type in order else len(order)


def csv_name(connector: str, entity_type: str, kind: str) -> str:
    """A download's file name naming its connector: 'acme-live-shop-customers-new.csv'."""
    plain = unicodedata.normalize("NFKD", connector).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "connector"
    return f"{slug}-{entity_type}-{kind}.csv"


def zone(name: str | None) -> tzinfo:
    """The browser's time zone when known, else UTC."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def clock_time(moment: datetime, tz: tzinfo) -> str:
    """'11:02' in the user's zone ('11:02 UTC' when the zone is unknown)."""
    local = moment.astimezone(tz)
    suffix = " UTC" if tz is UTC else ""
    return local.strftime("%H:%M") + suffix


def date_time(moment: datetime, tz: tzinfo) -> str:
    """'2026-11-28 11:02' in the user's zone."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def ago(moment: datetime, now: datetime) -> str:
    """'just now', '12 min ago', '3 h ago', '2 days ago'."""
    seconds = max(0.0, (now - moment).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return f"{days} day{'s' if days != 1 else ''} ago"


def in_(seconds: float) -> str:
    """'in 45 s', 'in 2 min'."""
    seconds = max(1, int(round(seconds)))
    return f"in {seconds} s" if seconds < 90 else f"in {round(seconds / 60)} min"


def duration(ms: int | None) -> str:
    """'850 ms', '1.2 s', '—'."""
    if ms is None:
        return "—"
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def cell(value: Any) -> Any:
    """A value a table cell can show: lists and dicts as compact JSON."""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return value


def record_title(entity_type: str, record: Mapping[str, Any]) -> str:
    """A short name for one record: e-mail, sku or number, and its id."""
    parts = [str(record[f]) for f in TITLE_FIELDS[entity_type] if record.get(f)]
    label = " · ".join(parts[:2]) or "(no name)"
    return f"{label}  (#{record.get('external_id')})"


def records_frame(kind: str, records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """New/deleted records as they are; updated ones as id, names and the changed fields."""
    rows: list[dict[str, Any]] = []
    for rec in records:
        if kind == "updated":
            after = rec.get("after") or {}
            changes = rec.get("changes") or []
            row = {"external_id": rec.get("external_id")}
            row.update({k: cell(v) for k, v in after.items() if k != "external_id"})
            row = {
                "external_id": row["external_id"],
                "changed fields": ", ".join(str(c["field"]) for c in changes),
                **{k: v for k, v in row.items() if k != "external_id"},
            }
            rows.append(row)
        else:
            rows.append({k: cell(v) for k, v in rec.items()})
    frame = pd.DataFrame(rows)
    # an empty text field shows as an empty cell, not as "None"
    for name in frame.columns:
        column = frame[name]
        if not pd.api.types.is_numeric_dtype(column):
            frame[name] = column.fillna("")
        elif pd.api.types.is_float_dtype(column) and (column.dropna() % 1 == 0).all():
            frame[name] = column.astype("Int64")  # a stock of 3, not 3.0, beside missing ones
    return frame


def column_label(name: str) -> str:
    """A table header for a record field: "ID", "Address 1", "Customer email"."""
    return "ID" if name == "external_id" else name.replace("_", " ").capitalize()


def column_labels(frame: pd.DataFrame) -> dict[str, str]:
    """``st.dataframe`` column_config giving every field its readable header."""
    return {name: column_label(name) for name in frame.columns}


def csv_rows(kind: str, records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows for a CSV export; an updated record gives one row per changed field."""
    out: list[dict[str, Any]] = []
    for rec in records:
        if kind == "updated":
            for change in rec.get("changes") or []:
                out.append(
                    {
                        "external_id": rec.get("external_id"),
                        "field": change["field"],
                        "before": cell(change.get("old")),
                        "after": cell(change.get("new")),
                    }
                )
        else:
            out.append({k: cell(v) for k, v in rec.items()})
    return out


def diff_frame(record: Mapping[str, Any], *, only_changed: bool = True) -> pd.DataFrame:
    """Field / before / after of an updated record (changed fields first)."""
    before = record.get("before") or {}
    after = record.get("after") or {}
    changed = [str(c["field"]) for c in record.get("changes") or []]
    fields = list(changed)
    if not only_changed:
        fields += [f for f in after if f not in changed and f != "external_id"]
    rows = [
        {
            "field": f,
            "before": "∅" if before.get(f) is None else cell(before.get(f)),
            "after": "∅" if after.get(f) is None else cell(after.get(f)),
            "changed": f in changed,
        }
        for f in fields
    ]
    return pd.DataFrame(rows, columns=["field", "before", "after", "changed"])


def percent(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.0%}"


def by_source(counts: Mapping[str, int]) -> str:
    """'WooCommerce 2, Odoo 1' (or 'none')."""
    return ", ".join(f"{source_label(s) if s else '?'} {n}" for s, n in counts.items()) or "none"


def highlight_changes(diff: pd.DataFrame) -> Any:
    """A styled field / before / after table: changed rows red before, green and bold after."""
    changed = list(diff["changed"])

    def colours(row: pd.Series) -> list[str]:
        if not changed[int(row.name)]:
            return ["", "", ""]
        return ["", "background-color: #fde2e1", "background-color: #dcfce7; font-weight: 600"]

    return diff.drop(columns="changed").style.apply(colours, axis=1).hide(axis="index")
