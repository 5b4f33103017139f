"""diff: examples, duplicates, result shape, and the two input forms."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from core.delta import (
    COMPARABLE_FIELDS,
    DeltaResult,
    FieldChange,
    UnknownType,
    UpdatedRecord,
    canonical_frame,
    diff,
    to_canonical,
)


def customer(external_id: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = dict.fromkeys(COMPARABLE_FIELDS["customers"])
    record.update(external_id=external_id, email=f"c{external_id}@example.com")
    record.update(fields)
    return record


LOCAL = [customer("1"), customer("2", city="Paris"), customer("10"), customer("3")]
EXTERNAL = [customer("2", city="Lyon"), customer("1"), customer("11"), customer("10")]


def both_paths(external: list[dict[str, Any]], local: list[dict[str, Any]]) -> list[DeltaResult]:
    ext_frame = canonical_frame("local", "customers", pl.DataFrame(external))
    loc_frame = canonical_frame("local", "customers", pl.DataFrame(local))
    return [
        diff("customers", iter(external), local),
        diff("customers", ext_frame, loc_frame),
        diff("customers", ext_frame, local),
    ]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_categories_and_field_changes(index: int) -> None:
    result = both_paths(EXTERNAL, LOCAL)[index]
    assert result.counts == {"new": 1, "updated": 1, "deleted": 1, "unchanged": 2}
    assert result.new == [customer("11")]
    assert result.deleted == [customer("3")]
    assert result.updated == [
        UpdatedRecord(
            "2",
            customer("2", city="Paris"),
            customer("2", city="Lyon"),
            (FieldChange("city", "Paris", "Lyon"),),
        )
    ]
    assert result.duplicates_collapsed == 0


def test_outputs_sorted_numerically_then_as_text() -> None:
    local: list[dict[str, Any]] = []
    external = [customer(i) for i in ("b", "10", "9", "a", "010", "100")]
    for result in both_paths(external, local):
        assert [r["external_id"] for r in result.new] == ["9", "010", "10", "100", "a", "b"]


def test_duplicates_last_one_wins_and_are_counted() -> None:
    external = [customer("1", city="A"), customer("2"), customer("1", city="B"), customer("1")]
    local = [customer("1", city="B")]
    for result in both_paths(external, local):
        assert result.duplicates_collapsed == 2
        assert result.counts == {"new": 1, "updated": 1, "deleted": 0, "unchanged": 0}
        assert result.updated[0].changes == (FieldChange("city", "B", None),)


def test_to_dict_is_the_api_delta_block() -> None:
    result = diff("customers", EXTERNAL, LOCAL)
    block = result.to_dict()
    assert block["new"] == {"count": 1, "records": [customer("11")]}
    assert block["deleted"]["count"] == 1
    assert block["updated"]["records"][0]["changes"] == [
        {"field": "city", "old": "Paris", "new": "Lyon"}
    ]
    assert set(block["updated"]["records"][0]) == {"external_id", "before", "after", "changes"}
    limited = result.to_dict(limit=0)
    assert limited["new"] == {"count": 1, "records": []}


def test_orders_lines_compare_through_the_frame_path() -> None:
    raw = {
        "external_id": "7",
        "number": "7",
        "total": "10",
        "lines": [
            {"sku": "B", "quantity": 1, "total": "5"},
            {"sku": "A", "quantity": 2, "total": "5"},
        ],
    }
    local = to_canonical("local", "orders", raw)
    moved = to_canonical("local", "orders", dict(raw, lines=list(reversed(raw["lines"]))))
    changed = dict(moved, lines=[dict(moved["lines"][0], quantity=3), moved["lines"][1]])
    frame_local = canonical_frame("local", "orders", [local])
    assert (
        diff("orders", canonical_frame("local", "orders", [moved]), frame_local).counts["unchanged"]
        == 1
    )
    result = diff("orders", canonical_frame("local", "orders", [changed]), frame_local)
    (item,) = result.updated
    assert [c.field for c in item.changes] == ["lines"]
    assert item.changes[0].new[0]["quantity"] == 3
    assert item.after["lines"] == changed["lines"]
    assert result.updated == diff("orders", [changed], [local]).updated


def test_unknown_entity_type() -> None:
    with pytest.raises(UnknownType, match="Unknown entity type"):
        diff("invoices", [], [])


def test_empty_sides() -> None:
    for result in both_paths([], []):
        assert result.counts == {"new": 0, "updated": 0, "deleted": 0, "unchanged": 0}


def test_signed_or_zero_padded_ids_are_not_the_plain_number() -> None:
    # "012" and "+12" parse to 12, yet are other ids: only plain decimals are keyed as numbers.
    local = [customer("12", city="A"), customer("5"), customer("0")]
    for external in ([customer("012"), customer("+5"), customer("0")], [customer("+12")]):
        expected = diff("customers", iter(external), local)
        for result in both_paths(external, local):
            assert result == expected
            assert result.counts["updated"] == 0
