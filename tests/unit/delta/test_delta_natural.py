"""Matching by natural key: ambiguous keys apart, the rest as a simple reference says."""

from __future__ import annotations

from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.delta import COMPARABLE_FIELDS, DeltaStream, diff
from core.delta.frame import CanonicalFrame, frame_from_canonical
from core.delta.natural import NaturalKeyStream
from core.delta.subset import only_fields

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIELDS = COMPARABLE_FIELDS["customers"]


def customer(key: str, email: str | None, city: str | None = None, name: str | None = None):
    return {"external_id": key, "email": email, "city": city, "name": name} | {
        f: None for f in FIELDS if f not in ("email", "city", "name")
    }


def frames(records: list[dict[str, Any]], size: int) -> list[CanonicalFrame]:
    chunks = [records[i : i + size] for i in range(0, len(records), size)] or [[]]
    return [frame_from_canonical("customers", chunk) for chunk in chunks]


def run_natural(external, local, size=3, local_first=False, without_key=0):
    stream = NaturalKeyStream("customers")
    index = stream.index_local(frames(local, size))
    if local_first:
        stream.use_local(index)
    for chunk in frames(external, size):
        stream.add_external(chunk)
    if not local_first:
        stream.use_local(index)
    needed = set(stream.local_ids_needed())
    rows = [row for row in local if row["external_id"] in needed]
    return stream.finish(frame_from_canonical("customers", rows), local_without_key=without_key)


def reference(external, local):
    """Deliberately simple: last record per store id, keys counted, the rest by key."""
    final: dict[str, dict[str, Any]] = {}
    keys_seen: dict[str, set[str]] = {}
    for record in external:
        final.pop(record["external_id"], None)
        final[record["external_id"]] = record
        if record["email"] is not None:
            keys_seen.setdefault(record["email"], set()).add(record["external_id"])
    by_key: dict[str, list[str]] = {}
    for sid, record in final.items():
        if record["email"] is not None:
            by_key.setdefault(record["email"], []).append(sid)
    stale = {key for key, ids in keys_seen.items() for sid in ids if final[sid]["email"] != key}
    local_by_key: dict[str, list[dict[str, Any]]] = {}
    for row in local:
        local_by_key.setdefault(row["external_id"], []).append(row)
    ambiguous = (
        {k for k, ids in by_key.items() if len(ids) > 1}
        | stale
        | {k for k, rows in local_by_key.items() if len(rows) > 1}
    )
    new, deleted, updated, unchanged = [], [], {}, 0
    for key, ids in by_key.items():
        if key in ambiguous:
            continue
        record = final[ids[0]]
        if key not in local_by_key:
            new.append(ids[0])
            continue
        before = local_by_key[key][0]
        changes = [(f, before[f], record[f]) for f in FIELDS if before[f] != record[f]]
        if changes:
            updated[ids[0]] = changes
        else:
            unchanged += 1
    for key in local_by_key:
        if key not in by_key and key not in ambiguous:
            deleted.append(key)
    no_key = sorted(sid for sid, record in final.items() if record["email"] is None)
    return {
        "new": sorted(new),
        "deleted": sorted(deleted),
        "updated": updated,
        "unchanged": unchanged,
        "ambiguous": {k: sorted(by_key.get(k, [])) for k in ambiguous},
        "no_key": no_key,
        "duplicates": len(external) - len(final),
    }


def summary(matched) -> dict[str, Any]:
    delta = matched.delta
    return {
        "new": sorted(r["external_id"] for r in delta.new),
        "deleted": sorted(r["external_id"] for r in delta.deleted),
        "updated": {
            u.external_id: [(c.field, c.old, c.new) for c in u.changes] for u in delta.updated
        },
        "unchanged": delta.unchanged,
        "ambiguous": {
            a.key: sorted(a.external_ids) for a in matched.ambiguous if a.key is not None
        },
        "no_key": sorted(i for a in matched.ambiguous if a.key is None for i in a.external_ids),
        "duplicates": delta.duplicates_collapsed,
    }


IDS = st.sampled_from([str(i) for i in range(8)])
EMAILS = st.sampled_from([None, "a@x.org", "b@x.org", "c@x.org", "d@x.org", "é@x.org"])
CITIES = st.sampled_from([None, "Paris", "Lyon"])
external_records = st.lists(st.builds(customer, IDS, EMAILS, CITIES), max_size=14)
local_rows = st.lists(
    st.builds(
        lambda e, c: customer(e, e, c),
        st.sampled_from(["a@x.org", "b@x.org", "c@x.org", "d@x.org", "é@x.org", "f@x.org"]),
        CITIES,
    ),
    max_size=8,
)


@SETTINGS
@given(external_records, local_rows, st.integers(1, 5), st.booleans())
def test_equals_the_reference(external, local, size, local_first) -> None:
    assert summary(run_natural(external, local, size, local_first)) == reference(external, local)


@SETTINGS
@given(external_records, local_rows, st.integers(1, 5))
def test_ambiguous_keys_are_never_new_updated_or_deleted(external, local, size) -> None:
    matched = run_natural(external, local, size)
    ambiguous = {a.key for a in matched.ambiguous if a.key is not None}
    delta = matched.delta
    listed = (
        {r["email"] for r in delta.new}
        | {u.after["email"] for u in delta.updated}
        | {r["email"] for r in delta.deleted}
    )
    assert not listed & ambiguous
    no_key_ids = {i for a in matched.ambiguous if a.key is None for i in a.external_ids}
    assert not no_key_ids & {r["external_id"] for r in delta.new}


@SETTINGS
@given(
    st.lists(st.tuples(st.sampled_from([str(i) for i in range(10)]), CITIES), max_size=12),
    st.lists(st.tuples(st.sampled_from([str(i) for i in range(10)]), CITIES), max_size=10),
)
def test_a_one_to_one_key_matches_as_ids_do(external_pairs, local_pairs) -> None:
    """When every record has its own key (here the e-mail spells the id), matching by that
    key gives the by-id result, record for record."""
    external = [customer(i, f"u{i}@x.org", c) for i, c in external_pairs]
    local_by_id = {i: customer(i, f"u{i}@x.org", c) for i, c in local_pairs}
    local = list(local_by_id.values())
    by_id = diff("customers", external, local)
    natural = run_natural(external, [r | {"external_id": r["email"]} for r in local])
    assert natural.ambiguous == ()
    assert natural.delta.counts == by_id.counts
    assert natural.delta.new == by_id.new
    assert [(u.external_id, u.changes) for u in natural.delta.updated] == [
        (u.external_id, u.changes) for u in by_id.updated
    ]
    assert sorted(r["email"] for r in natural.delta.deleted) == sorted(
        r["email"] for r in by_id.deleted
    )


def test_id_matching_is_unchanged_by_masking_nothing() -> None:
    external = [customer("1", "a@x.org", "Paris"), customer("2", "b@x.org", "Lyon")]
    local = [customer("1", "a@x.org", "Lyon"), customer("3", "c@x.org")]
    stream = DeltaStream("customers")
    index = stream.index_local(frames(local, 1))
    frame = frame_from_canonical("customers", external)
    stream.add_external(only_fields(frame, FIELDS))
    stream.use_local(index)
    result = stream.finish(frame_from_canonical("customers", local))
    assert summary_like(result) == summary_like(diff("customers", external, local))


def summary_like(result) -> tuple:
    return (
        result.counts,
        [r["external_id"] for r in result.new],
        [(u.external_id, u.changes) for u in result.updated],
        [r["external_id"] for r in result.deleted],
    )


def test_a_field_left_out_is_never_a_change() -> None:
    external = frame_from_canonical("customers", [customer("1", "a@x.org", "Paris", "Ann")])
    local = frame_from_canonical("customers", [customer("1", "a@x.org", None, "Ann")])
    stream = DeltaStream("customers")
    index = stream.index_local([only_fields(local, ["email", "name"])])
    stream.add_external(only_fields(external, ["email", "name"]))
    stream.use_local(index)
    result = stream.finish(local)
    assert result.counts == {"new": 0, "updated": 0, "deleted": 0, "unchanged": 1}


def test_the_reasons_read_as_sentences() -> None:
    external = [
        customer("1", "a@x.org"),
        customer("2", "a@x.org"),
        customer("3", None),
        customer("4", "b@x.org", "Paris"),
    ]
    local = [customer("b@x.org", "b@x.org"), customer("b@x.org", "b@x.org", "Lyon")]
    matched = run_natural(external, local, local_first=True, without_key=2)
    reasons = {a.key: a.reason for a in matched.ambiguous}
    assert reasons == {
        "a@x.org": "2 store records have this e-mail",
        "b@x.org": "2 local rows have this e-mail",
        None: "1 store record has no e-mail",
    }
    assert matched.counts == {
        "new": 0,
        "updated": 0,
        "deleted": 0,
        "unchanged": 0,
        "ambiguous": 3,
        "local_without_key": 2,
    }
    assert pl.DataFrame([a.to_dict() for a in matched.ambiguous]).height == 3
