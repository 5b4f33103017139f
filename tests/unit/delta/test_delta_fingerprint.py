"""The fingerprint is a stable digest of the comparable fields."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from core.delta import HASH_VERSION, fingerprint

RECORD = {
    "external_id": "25",
    "email": "john.doe@example.com",
    "name": "Jöhn Doe",
    "phone": "(555) 555-5555",
    "company": None,
    "address_1": "969 Market",
    "address_2": None,
    "city": "San Francisco",
    "state": "CA",
    "postcode": "94103",
    "country": "US",
    "status": "active",
}
# Computed once from the documented serialization; changing it needs a HASH_VERSION bump
# (version 2: customers gained "status").
DIGEST = "fa8d0b615d34671570468af7e43dc35a"


def test_digest_is_the_documented_serialization() -> None:
    fields = [
        "email",
        "name",
        "phone",
        "company",
        "address_1",
        "address_2",
        "city",
        "state",
        "postcode",
        "country",
        "status",
    ]
    text = json.dumps(
        [HASH_VERSION, [RECORD[f] for f in fields]],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    assert fingerprint("customers", RECORD) == hashlib.md5(text.encode()).hexdigest()


def test_digest_is_pinned() -> None:
    assert HASH_VERSION == 2
    assert fingerprint("customers", RECORD) == DIGEST


def test_digest_is_the_same_in_another_process() -> None:
    code = (
        "import json,sys; from core.delta import fingerprint; "
        "print(fingerprint('customers', json.loads(sys.stdin.read())))"
    )
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(RECORD),
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
    )
    assert out.stdout.strip() == DIGEST


def test_only_comparable_fields_count() -> None:
    assert fingerprint("customers", dict(RECORD, external_id="99", extra=1)) == DIGEST
    assert fingerprint("customers", dict(RECORD, city="Oakland")) != DIGEST


def test_order_lines_are_part_of_the_digest() -> None:
    order = {"number": "1", "lines": [{"sku": "A", "quantity": 1, "total": "1.00"}]}
    other = {"number": "1", "lines": [{"sku": "A", "quantity": 2, "total": "1.00"}]}
    assert fingerprint("orders", order) != fingerprint("orders", other)
