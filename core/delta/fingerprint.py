"""``fingerprint``: a stable MD5 digest of a canonical record's comparable fields.

Serialization (version ``HASH_VERSION``): ``json.dumps([HASH_VERSION, [values of
COMPARABLE_FIELDS[entity] in order]], ensure_ascii=False, sort_keys=True,
separators=(",", ":"))`` encoded as UTF-8. MD5 only tells records apart; it is no security.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from core.delta.fields import COMPARABLE_FIELDS, HASH_VERSION, check_entity


def serialize(entity_type: str, canonical: Mapping[str, Any]) -> bytes:
    """The exact bytes the fingerprint digests."""
    values = [canonical.get(field) for field in COMPARABLE_FIELDS[entity_type]]
    text = json.dumps(
        [HASH_VERSION, values], ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return text.encode("utf-8")


def fingerprint(entity_type: str, canonical: Mapping[str, Any]) -> str:
    """MD5 hex digest of the record's comparable fields (see the module docstring)."""
    check_entity(entity_type)
    return hashlib.md5(serialize(entity_type, canonical), usedforsecurity=False).hexdigest()
