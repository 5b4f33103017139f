"""Labels, times, numbers and text as the business user reads them (no Streamlit calls here).

Times are shown in the browser's time zone and numbers, dates and money in its locale (a
``Locality``, read from the browser by ``ui.browser``). Text that people or external systems
typed goes through :func:`md` before it reaches anything that renders Markdown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError, dates, numbers

from core.services import catalog
from core.services.catalog import CHANGE_KINDS
from core.services.catalog import ENTITY_TYPES as ENTITY_TYPES  # for the pages

ENTITY_LABEL = {"customers": "Customers", "products": "Products", "orders": "Orders"}
KINDS = CHANGE_KINDS
KIND_LABEL = {"new": "New", "updated": "Updated", "deleted": "Deleted", "unchanged": "Unchanged"}
KIND_ICON = {"new": "🆕", "updated": "✏️", "deleted": "🗑️", "unchanged": "✔️"}
#: What people read for a record's fields (the canonical names are for code and the API).
FIELD_LABEL = {
    "external_id": "ID",
    "email": "E-mail",
    "name": "Name",
    "phone": "Phone",
    "company": "Company",
    "address_1": "Address line 1",
    "address_2": "Address line 2",
    "city": "City",
    "state": "State / region",
    "postcode": "Postcode",
    "country": "Country",
    "sku": "SKU",
    "price": "Price",
    "regular_price": "Regular price",
    "sale_price": "Sale price",
    "stock_quantity": "Stock",
    "status": "Status",
    "type": "Type",
    "number": "Order number",
    "currency": "Currency",
    "total": "Total",
    "customer_email": "Customer e-mail",
    "created_at": "Created",
    "lines": "Order lines",
}
DEFAULT_LOCALE = "en_US"


def kind_title(kind: str) -> str:
    """ "🆕 New": a kind of change as its tab and card name it."""
    return f"{KIND_ICON[kind]} {KIND_LABEL[kind]}"


def field_label(name: str) -> str:
    """ "Address line 1" for ``address_1``; an unknown field: its name in words."""
    return FIELD_LABEL.get(name) or name.replace("_", " ").capitalize()


# --- Markdown -----------------------------------------------------------------------------

#: Every ASCII punctuation character Markdown or Streamlit gives a meaning (emphasis, links,
#: code, headings, lists, tables, HTML, ``:emoji:`` and ``:color[...]``, ``$math$``, and
#: the addresses and e-mails it turns into links by themselves).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&^=@/])")


#: Streamlit's Markdown turns web addresses and e-mails in plain text into links by itself
#: (GitHub's "autolink literals", applied after escapes are read): an invisible word joiner
#: after "scheme:", after "www" and before "@" keeps them text.
WORD_JOINER = "\u2060"
_AUTOLINKS = re.compile(r"(?i)(\\:)(?=\\/\\/)|(\bwww)(?=\\\.)|(?=\\@)")


def md(text: object) -> str:
    """``text`` as itself inside Markdown: ``**bold** [click](…)`` shows those characters,
    not bold text and a link, and an address or e-mail in it is not made a link. Use it for
    anything a person or an external system typed (names, addresses, messages that quote
    them) in st.markdown, captions, alerts, toasts, spinners and progress texts."""
    flat = " ".join(str(text).split("\n"))
    escaped = _MD_SPECIAL.sub(r"\\\1", flat)
    return _AUTOLINKS.sub(lambda m: (m.group(1) or m.group(2) or "") + WORD_JOINER, escaped)


# --- sources ------------------------------------------------------------------------------


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


# --- where the reader is: time zone and locale ---------------------------------------------


@dataclass(frozen=True)
class Locality:
    """The reader's time zone and locale (the browser's; UTC and US English when unknown)."""

    tz: tzinfo = UTC
    locale: Locale = field(default_factory=lambda: Locale.parse(DEFAULT_LOCALE))

    @property
    def tz_name(self) -> str:
        """The zone's IANA name ("Europe/Berlin"), for the browser's date columns."""
        return str(getattr(self.tz, "key", "UTC"))


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


def locale(name: str | None) -> Locale:
    """The browser's locale ("de-DE") when babel knows it, else US English."""
    if name:
        try:
            return Locale.parse(name.replace("_", "-"), sep="-")
        except (UnknownLocaleError, ValueError, TypeError):
            pass
    return Locale.parse(DEFAULT_LOCALE)


def clock_time(moment: datetime, loc: Locality) -> str:
    """'11:02' or '11:02 AM' in the reader's zone and locale ('… UTC' when the zone is
    unknown)."""
    text = dates.format_time(moment, "short", tzinfo=loc.tz, locale=loc.locale)
    return f"{text} UTC" if loc.tz is UTC else text


def date_time(moment: datetime, loc: Locality) -> str:
    """'Nov 28, 2026, 11:02 AM' (or '28.11.2026, 11:02') in the reader's zone and locale."""
    local = moment.astimezone(loc.tz)
    day = dates.format_date(local, "medium", locale=loc.locale)
    time = dates.format_time(local, "short", locale=loc.locale)
    pattern = str(dates.get_datetime_format("medium", locale=loc.locale))
    text = pattern.replace("{1}", day).replace("{0}", time)
    return f"{text} UTC" if loc.tz is UTC else text


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


# --- numbers, money, codes -------------------------------------------------------------------


def number(value: int | float, loc: Locality | None = None) -> str:
    """1,234 (or 1.234) in the reader's locale."""
    return str(numbers.format_decimal(value, locale=(loc or Locality()).locale))


def signed(value: int, loc: Locality | None = None) -> str:
    """A change: '+1,234', '-17', '0'."""
    if value == 0:
        return "0"
    return str(numbers.format_decimal(value, "+#,##0;-#,##0", locale=(loc or Locality()).locale))


def percent(ratio: float | None, loc: Locality | None = None) -> str:
    if ratio is None:
        return "—"
    return str(numbers.format_percent(ratio, locale=(loc or Locality()).locale))


def money(amount: Any, currency: str | None, loc: Locality) -> str:
    """'€1,234.50' with a currency, '1,234.50' without; text that is no amount as it is."""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    if currency:
        try:
            return str(numbers.format_currency(value, currency, locale=loc.locale))
        except (numbers.UnknownCurrencyError, ValueError):
            return f"{numbers.format_decimal(value, '#,##0.00', locale=loc.locale)} {currency}"
    return str(numbers.format_decimal(value, "#,##0.00", locale=loc.locale))


def timestamp(value: Any, loc: Locality) -> str:
    """An ISO-8601 time of a record in the reader's zone and locale."""
    moment = parse_time(value)
    return date_time(moment, loc) if moment is not None else str(value)


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 text ("2024-05-01T10:00:00Z") as an aware datetime; None otherwise."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def country(code: str, loc: Locality) -> str:
    """'Germany' for 'DE' in the reader's language; an unknown code as it is."""
    return str(loc.locale.territories.get(code.upper()) or code)


def code_word(sync_type: str, entity_type: str, field_name: str, code: Any) -> str:
    """The word of a stored code ("Sales order" for Odoo's ``sale``), else the code."""
    if not isinstance(code, str):
        return "" if code is None else str(code)
    return catalog.word_for(sync_type, entity_type, field_name, code) or code


def by_source(counts: Mapping[str, int]) -> str:
    """'WooCommerce 2, Odoo 1' (or 'none')."""
    return ", ".join(f"{source_label(s) if s else '?'} {n}" for s, n in counts.items()) or "none"
