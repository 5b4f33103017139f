"""One preview's records as people read them: tables, an updated record's changes, its order
lines, and the CSV exports (no Streamlit calls here; ``column_config`` is built by the page).

Values are words and local formats, never raw JSON: money with its currency, times in the
reader's zone and locale, a source's state codes as its own screens name them ("Sales
order"), countries by name, order lines as a short list (and, for a changed order, a small
table of its lines).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.services import catalog
from ui import format as fmt
from ui.format import Locality, field_label

#: The fields that name a record for a person, per entity (searchable too).
TITLE_FIELDS = {
    "customers": ("name", "email"),
    "products": ("sku", "name"),
    "orders": ("number", "customer_email"),
}
#: Order lines listed in a table cell before "+ N more".
LINES_IN_A_CELL = 3
LINE_CHANGE = {"added": "➕ added", "removed": "➖ removed", "changed": "✏️ changed", "": ""}


@dataclass(frozen=True)
class RecordReader:
    """How the records of one source and entity read for one reader."""

    sync_type: str
    entity_type: str
    loc: Locality = Locality()

    @property
    def fields(self) -> Mapping[str, str]:
        """The entity's fields and their types, in the order records list them."""
        return catalog.field_types(self.entity_type)

    # --- one value ----------------------------------------------------------------------

    def value(self, name: str, value: Any, record: Mapping[str, Any]) -> str:
        """One field's value as text (empty when there is none)."""
        if value is None or value == "":
            return ""
        kind = self.fields.get(name)
        currency = record.get("currency") if isinstance(record.get("currency"), str) else None
        if kind == "money":
            return fmt.money(value, currency, self.loc)
        if kind == "timestamp":
            return fmt.timestamp(value, self.loc)
        if kind == "int" and isinstance(value, int | float):
            return fmt.number(value, self.loc)
        if kind == "lines":
            return lines_summary(value, currency, self.loc)
        if name == "country" and isinstance(value, str):
            return fmt.country(value, self.loc)
        return fmt.code_word(self.sync_type, self.entity_type, name, value)

    def csv_value(self, name: str, value: Any, record: Mapping[str, Any]) -> Any:
        """One field's value for a spreadsheet: amounts and times as stored (plain decimals,
        ISO-8601 UTC), codes as words, order lines as text."""
        if value is None:
            return ""
        kind = self.fields.get(name)
        if kind == "lines":
            return lines_text(value)
        if kind in ("money", "timestamp", "int", "email") or name in ("currency", "country"):
            return value
        return fmt.code_word(self.sync_type, self.entity_type, name, value)

    # --- naming a record ----------------------------------------------------------------

    def titles(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """ID and the fields that name the record ({"ID": …, "Name": …, "E-mail": …})."""
        shown = record.get("after") or record
        out: dict[str, Any] = {field_label("external_id"): record.get("external_id")}
        for name in TITLE_FIELDS[self.entity_type]:
            out[field_label(name)] = shown.get(name) or ""
        return out

    def title(self, record: Mapping[str, Any]) -> str:
        """'Mia López · mia@example.com (#574)'."""
        named = list(self.titles(record).values())
        label = " · ".join(str(v) for v in named[1:] if v) or "(no name)"
        return f"{label} (#{named[0]})"

    # --- tables -------------------------------------------------------------------------

    def table(self, kind: str, records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
        """A page of records: an updated one shows its values after the sync and the labels
        of the fields that change. Numbers stay numbers and times stay times (the browser
        shows them in its locale); every other value is text."""
        rows: list[dict[str, Any]] = []
        for rec in records:
            shown = (rec.get("after") or {}) if kind == "updated" else rec
            row: dict[str, Any] = {"ID": rec.get("external_id")}
            if kind == "updated":
                changed = [str(c["field"]) for c in rec.get("changes") or []]
                row["Changes"] = ", ".join(field_label(f) for f in changed)
            for name, ftype in self.fields.items():
                value = shown.get(name)
                if ftype == "int":
                    row[field_label(name)] = value if isinstance(value, int) else None
                elif ftype == "timestamp":
                    row[field_label(name)] = fmt.parse_time(value)
                else:
                    row[field_label(name)] = self.value(name, value, shown)
            rows.append(row)
        frame = pd.DataFrame(rows)
        for name, ftype in self.fields.items():
            label = field_label(name)
            if label in frame and ftype == "int":
                frame[label] = frame[label].astype("Int64")
        return frame

    def column_kinds(self) -> dict[str, str]:
        """Table column label -> "number" or "time", for the page's ``column_config``."""
        kinds = {"int": "number", "timestamp": "time"}
        return {field_label(n): kinds[t] for n, t in self.fields.items() if t in kinds}

    def diff(self, record: Mapping[str, Any], *, only_changed: bool = True) -> pd.DataFrame:
        """Field / Before / After of an updated record, changed fields first; ``changed``
        marks the rows that differ."""
        before = record.get("before") or {}
        after = record.get("after") or {}
        changed = [str(c["field"]) for c in record.get("changes") or []]
        names = list(changed)
        if not only_changed:
            names += [f for f in self.fields if f not in changed]
        rows = [
            {
                "Field": field_label(name),
                "Before": self.value(name, before.get(name), before) or "∅",
                "After": self.value(name, after.get(name), after) or "∅",
                "changed": name in changed,
            }
            for name in names
        ]
        return pd.DataFrame(rows, columns=["Field", "Before", "After", "changed"])

    def lines_diff(self, record: Mapping[str, Any]) -> pd.DataFrame | None:
        """The order lines before and after, one row per line, when they changed (else
        None): SKU, quantity and total before and after, and what changed."""
        if "lines" not in [c["field"] for c in record.get("changes") or []]:
            return None
        before = record.get("before") or {}
        after = record.get("after") or {}
        rows = []
        for old, new in pair_lines(before.get("lines") or [], after.get("lines") or []):
            line = new or old or {}
            rows.append(
                {
                    "SKU": line.get("sku") or "",
                    "Quantity before": self._qty(old),
                    "Quantity after": self._qty(new),
                    "Total before": self._total(old, before),
                    "Total after": self._total(new, after),
                    "Change": LINE_CHANGE[line_change(old, new)],
                }
            )
        return pd.DataFrame(rows)

    def _qty(self, line: Mapping[str, Any] | None) -> str:
        q = (line or {}).get("quantity")
        return fmt.number(q, self.loc) if isinstance(q, int | float) else ""

    def _total(self, line: Mapping[str, Any] | None, order: Mapping[str, Any]) -> str:
        total = (line or {}).get("total")
        currency = order.get("currency") if isinstance(order.get("currency"), str) else None
        return "" if total is None else fmt.money(total, currency, self.loc)

    # --- CSV ----------------------------------------------------------------------------

    def csv_by_record(self, kind: str, records: Iterable[Mapping[str, Any]]) -> list[dict]:
        """One row per record: its ID and names, then every field (an updated record: the
        labels of what changes, and each field before and after)."""
        out: list[dict[str, Any]] = []
        for rec in records:
            row = self.titles(rec)
            if kind == "updated":
                before = rec.get("before") or {}
                after = rec.get("after") or {}
                changed = [str(c["field"]) for c in rec.get("changes") or []]
                row["Changes"] = ", ".join(field_label(f) for f in changed)
                for name in self.fields:
                    row[f"{field_label(name)} (before)"] = self.csv_value(
                        name, before.get(name), before
                    )
                    row[f"{field_label(name)} (after)"] = self.csv_value(
                        name, after.get(name), after
                    )
            else:
                for name in self.fields:
                    row.setdefault(field_label(name), self.csv_value(name, rec.get(name), rec))
            out.append(row)
        return out

    def csv_by_change(self, records: Iterable[Mapping[str, Any]]) -> list[dict]:
        """One row per changed field of each updated record: its ID and names, the field,
        before and after."""
        out: list[dict[str, Any]] = []
        for rec in records:
            names = self.titles(rec)
            before = rec.get("before") or {}
            after = rec.get("after") or {}
            for change in rec.get("changes") or []:
                name = str(change["field"])
                out.append(
                    {
                        **names,
                        "Field": field_label(name),
                        "Before": self.csv_value(name, change.get("old"), before),
                        "After": self.csv_value(name, change.get("new"), after),
                    }
                )
        return out


# --- order lines ------------------------------------------------------------------------------


def lines_summary(lines: Any, currency: str | None, loc: Locality) -> str:
    """'3 lines: HOODIE-M × 2, CAP × 1, MUG × 4' (the first few, then '+ N more')."""
    if not isinstance(lines, list):
        return str(lines)
    items = [_line_text(line) for line in lines if isinstance(line, Mapping)]
    shown = ", ".join(items[:LINES_IN_A_CELL])
    more = f" + {len(items) - LINES_IN_A_CELL} more" if len(items) > LINES_IN_A_CELL else ""
    count = f"{len(items)} line{'s' if len(items) != 1 else ''}"
    return f"{count}: {shown}{more}" if items else "no lines"


def lines_text(lines: Any) -> str:
    """Every line for a spreadsheet: 'HOODIE-M × 2 = 40.00; CAP × 1 = 12.00'."""
    if not isinstance(lines, list):
        return str(lines)
    return "; ".join(
        f"{_line_text(line)} = {line.get('total')}" for line in lines if isinstance(line, Mapping)
    )


def _line_text(line: Mapping[str, Any]) -> str:
    return f"{line.get('sku') or '(no SKU)'} × {line.get('quantity')}"


def pair_lines(
    before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]
) -> list[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]]:
    """Lines of the same SKU side by side (in their order within the SKU), sorted by SKU;
    a line only on one side is added or removed."""
    skus = sorted({str(line.get("sku") or "") for line in [*before, *after]})
    pairs: list[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]] = []
    for sku in skus:
        old = [line for line in before if str(line.get("sku") or "") == sku]
        new = [line for line in after if str(line.get("sku") or "") == sku]
        for i in range(max(len(old), len(new))):
            pairs.append((old[i] if i < len(old) else None, new[i] if i < len(new) else None))
    return pairs


def line_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> str:
    """'added', 'removed', 'changed' (quantity or total) or '' for a pair of lines."""
    if old is None:
        return "added"
    if new is None:
        return "removed"
    same = (old.get("quantity"), old.get("total")) == (new.get("quantity"), new.get("total"))
    return "" if same else "changed"


def highlight(frame: pd.DataFrame, changed: Sequence[bool]) -> Any:
    """``frame`` styled for ``st.table``: the rows that change red before, green after."""
    columns = list(frame.columns)

    def colours(row: pd.Series) -> list[str]:
        if not changed[int(row.name)]:
            return [""] * len(columns)
        return [
            "background-color: #fde2e1"
            if "before" in str(c).lower()
            else "background-color: #dcfce7; font-weight: 600"
            if "after" in str(c).lower() or c == "Change"
            else ""
            for c in columns
        ]

    return frame.reset_index(drop=True).style.apply(colours, axis=1).hide(axis="index")
