"""The pure delta engine: canonical records, fingerprints, diff and its result types.

No I/O, no clock: records in, a ``DeltaResult`` out. ``to_canonical`` and ``diff`` work on
plain dicts; ``canonical_frame`` gives the same values in columnar form for speed.
"""

from core.delta.canonical import to_canonical
from core.delta.engine import diff
from core.delta.fields import COMPARABLE_FIELDS, ENTITY_TYPES, EXTERNAL_SYNC_TYPES, HASH_VERSION
from core.delta.fingerprint import fingerprint
from core.delta.frame import CanonicalFrame, canonical_frame
from core.delta.result import DeltaResult, FieldChange, UpdatedRecord

__all__ = [
    "COMPARABLE_FIELDS",
    "ENTITY_TYPES",
    "EXTERNAL_SYNC_TYPES",
    "HASH_VERSION",
    "CanonicalFrame",
    "DeltaResult",
    "FieldChange",
    "UpdatedRecord",
    "canonical_frame",
    "diff",
    "fingerprint",
    "to_canonical",
]
