"""How values read on the dashboard: in the reader's locale and zone, words for codes, order
lines as text, typed text kept as typed in Markdown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from markdown_it import MarkdownIt

from ui import format as fmt
from ui.records import RecordReader, line_change, lines_summary, pair_lines

BERLIN = fmt.Locality(fmt.zone("Europe/Berlin"), fmt.locale("de-DE"))
US = fmt.Locality(fmt.zone("America/New_York"), fmt.locale("en-US"))


def test_numbers_money_and_times_follow_the_locale() -> None:
    assert fmt.number(1234567, BERLIN) == "1.234.567"
    assert fmt.number(1234567, US) == "1,234,567"
    assert fmt.signed(1234, US) == "+1,234" and fmt.signed(-17, US) == "-17"
    assert fmt.signed(0, US) == "0"
    assert fmt.money("1234.50", "EUR", BERLIN) == "1.234,50\xa0€"
    assert fmt.money("1234.50", "EUR", US) == "€1,234.50"
    assert fmt.money("12.5", None, US) == "12.50"
    moment = datetime(2026, 12, 2, 7, 36, tzinfo=UTC)
    assert fmt.date_time(moment, BERLIN) == "02.12.2026, 08:36"
    assert fmt.date_time(moment, US) == "Dec 2, 2026, 2:36\u202fAM"
    assert fmt.timestamp("2026-12-02T07:36:00Z", BERLIN) == "02.12.2026, 08:36"
    assert fmt.country("DE", BERLIN) == "Deutschland" and fmt.country("DE", US) == "Germany"
    assert fmt.locale("xx-YY") == fmt.locale(None)  # unknown: US English


@pytest.mark.parametrize(
    ("sync_type", "code", "word"),
    [("odoo", "sale", "Sales order"), ("woocommerce", "on-hold", "On hold"), ("odoo", "x", "x")],
)
def test_order_states_read_as_the_source_names_them(sync_type: str, code: str, word: str) -> None:
    assert fmt.code_word(sync_type, "orders", "status", code) == word


def test_order_lines_pair_by_sku() -> None:
    before = [
        {"sku": "A", "quantity": 1, "total": "5.00"},
        {"sku": "B", "quantity": 2, "total": "8"},
    ]
    after = [
        {"sku": "A", "quantity": 3, "total": "15.00"},
        {"sku": "C", "quantity": 1, "total": "2"},
    ]
    pairs = pair_lines(before, after)
    assert [line_change(old, new) for old, new in pairs] == ["changed", "removed", "added"]
    assert lines_summary(after, "EUR", US) == "2 lines: A × 3, C × 1"
    reader = RecordReader("woocommerce", "orders", US)
    record = {
        "external_id": "7",
        "before": {"currency": "USD", "lines": before},
        "after": {"currency": "USD", "lines": after},
        "changes": [{"field": "lines", "old": before, "new": after}],
    }
    lines = reader.lines_diff(record)
    assert lines is not None
    assert list(lines["Total after"]) == ["$15.00", "", "$2.00"]


TYPED = "**bold** [link](https://evil.example) _it_ `code` <b>x</b> :red[y] $m$ a@b.example"


def test_typed_text_renders_as_typed() -> None:
    html = MarkdownIt("commonmark").render(fmt.md(TYPED))
    assert "<strong>" not in html and "<a " not in html and "<em>" not in html
    assert "<code>" not in html and "<b>" not in html
    text = html.replace(fmt.WORD_JOINER, "").replace("&lt;", "<").replace("&gt;", ">")
    assert TYPED in text
