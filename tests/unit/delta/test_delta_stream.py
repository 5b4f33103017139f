"""The streaming diff gives exactly the result of the whole-source diff, however it is fed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.delta import COMPARABLE_FIELDS, DeltaStream, diff, iter_canonical_frames
from core.delta.frame import CanonicalFrame, frame_from_canonical
from tests.unit.delta.test_delta_properties import (
    SETTINGS,
    customer,
    order,
    reference,
    summary,
    unique_by_id,
)


def chunks(entity: str, records: list[dict[str, Any]], size: int) -> list[CanonicalFrame]:
    return [
        frame_from_canonical(entity, records[i : i + size]) for i in range(0, len(records), size)
    ]


def streamed(
    entity: str, external: list, local: list, chunk: int, local_after: int
) -> tuple[Any, list[str]]:
    """Feed `local_after` external chunks before the local index arrives (as when the local
    read finishes during the fetch); the local rows are then read again by key."""
    stream = DeltaStream(entity)
    index = stream.index_local(chunks(entity, local, chunk))
    for position, frame in enumerate(chunks(entity, external, chunk)):
        if position == local_after:
            stream.use_local(index)
        stream.add_external(frame)
    if not stream.has_local:
        stream.use_local(index)
    needed = stream.local_ids_needed()
    rows = [row for row in local if row["external_id"] in set(needed)]
    return stream.finish(frame_from_canonical(entity, rows)), needed


def full(result: Any) -> dict:
    """Everything a user sees: the records themselves, in order, and every count."""
    return {
        "counts": result.counts,
        "duplicates": result.duplicates_collapsed,
        "new": result.new,
        "deleted": result.deleted,
        "updated": [(u.external_id, u.before, u.after, u.changes) for u in result.updated],
    }


@SETTINGS
@given(
    st.lists(customer, max_size=30),
    st.lists(customer, max_size=30).map(unique_by_id),
    st.integers(1, 7),
    st.integers(0, 5),
)
def test_streamed_customers_equal_the_whole_diff(
    external: list, local: list, chunk: int, local_after: int
) -> None:
    result, needed = streamed("customers", external, local, chunk, local_after)
    assert summary(result) == reference("customers", external, local)
    assert full(result) == full(diff("customers", external, local))
    # only updated and deleted records are read again
    changed = {u.external_id for u in result.updated} | {r["external_id"] for r in result.deleted}
    assert set(needed) == changed


@SETTINGS
@given(
    st.lists(order, max_size=20),
    st.lists(order, max_size=20).map(unique_by_id),
    st.integers(1, 5),
    st.integers(0, 4),
)
def test_streamed_orders_equal_the_whole_diff(
    external: list, local: list, chunk: int, local_after: int
) -> None:
    result, _ = streamed("orders", external, local, chunk, local_after)
    assert full(result) == full(diff("orders", external, local))


def test_unchanged_records_keep_no_values() -> None:
    """A large unchanged store leaves nothing to read again and nothing to store."""
    records = [
        {"external_id": str(i), "email": f"c{i}@shop.example", "city": "Lyon"}
        for i in range(20_000)
    ]
    external = [dict(r) for r in records]
    external[7]["city"] = "Paris"
    stream = DeltaStream("customers")
    stream.use_local(stream.index_local(chunks("customers", records, 5_000)))
    for frame in chunks("customers", external, 5_000):
        stream.add_external(frame)
    assert sum(part.height for part in stream._changed) == 1
    assert stream.local_ids_needed() == ["7"]
    result = stream.finish(frame_from_canonical("customers", [records[7]]))
    assert result.counts == {"new": 0, "updated": 1, "deleted": 0, "unchanged": 19_999}
    assert [(c.field, c.old, c.new) for c in result.updated[0].changes] == [
        ("city", "Lyon", "Paris")
    ]


def test_a_local_row_read_again_but_changed_meanwhile_is_compared_as_it_is_now() -> None:
    local = [{"external_id": "1", "city": "Lyon"}, {"external_id": "2", "city": "Nice"}]
    external = [{"external_id": "1", "city": "Paris"}]
    stream = DeltaStream("customers")
    stream.use_local(stream.index_local(chunks("customers", local, 10)))
    stream.add_external(frame_from_canonical("customers", external))
    assert sorted(stream.local_ids_needed()) == ["1", "2"]
    # meanwhile a sync wrote Paris locally and removed record 2
    result = stream.finish(
        frame_from_canonical("customers", [{"external_id": "1", "city": "Paris"}])
    )
    assert result.counts == {"new": 0, "updated": 0, "deleted": 0, "unchanged": 1}


def test_pages_are_normalized_a_group_at_a_time() -> None:
    pages = [
        [
            {"id": n, "email": f" C{n}@Shop.Example ", "billing": {"city": "Lyon"}}
            for n in range(k, k + 100)
        ]
        for k in range(0, 1_000, 100)
    ]
    frames = list(
        iter_canonical_frames("woocommerce", "customers", iter(pages), records_per_frame=300)
    )
    assert [len(f) for f in frames] == [300, 300, 300, 100]
    assert frames[0].to_dicts()[1]["email"] == "c1@shop.example"


def test_results_are_asked_for_after_the_local_index() -> None:
    stream = DeltaStream("customers")
    with pytest.raises(RuntimeError):
        stream.local_ids_needed()


def _stock_only_changed() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    base = {
        "sku": "A-1",
        "name": "Lamp",
        "price": "9.00",
        "regular_price": "9.00",
        "sale_price": None,
        "status": "publish",
        "type": "simple",
        "parent_id": None,
    }
    external = [
        {"external_id": "1", **base, "stock_quantity": None},  # the source has no stock
        {"external_id": "2", **base, "stock_quantity": None, "price": "8.00"},
    ]
    local = [
        {"external_id": "1", **base, "stock_quantity": 7},
        {"external_id": "2", **base, "stock_quantity": 3},
        {"external_id": "3", **base, "stock_quantity": 1},
    ]
    return external, local


def test_fields_not_compared_never_show_as_changes() -> None:
    external, local = _stock_only_changed()
    compared = [f for f in COMPARABLE_FIELDS["products"] if f != "stock_quantity"]
    everything = diff("products", external, local)
    assert everything.counts == {"new": 0, "updated": 2, "deleted": 1, "unchanged": 0}
    for result in (
        diff("products", external, local, compared=compared),
        diff("products", frame_from_canonical("products", external), local, compared=compared),
    ):
        assert result.counts == {"new": 0, "updated": 1, "deleted": 1, "unchanged": 1}
        assert [c.field for c in result.updated[0].changes] == ["price"]
        assert result.not_compared == ("stock_quantity",)
    stream = DeltaStream("products", compared=compared)
    stream.use_local(stream.index_local(chunks("products", local, 2)))
    for frame in chunks("products", external, 1):
        stream.add_external(frame)
    rows = frame_from_canonical(
        "products", [r for r in local if r["external_id"] in stream.local_ids_needed()]
    )
    streamed_result = stream.finish(rows)
    assert summary(streamed_result) == summary(diff("products", external, local, compared=compared))
    assert streamed_result.not_compared == ("stock_quantity",)
    with pytest.raises(ValueError, match="not fields of products: stock"):
        DeltaStream("products", compared=["stock"])
