"""The pure delta engine: canonical records, fingerprints, diff and its result types.

No I/O, no clock: records in, a ``DeltaResult`` out. ``to_canonical`` and ``diff`` work on
plain dicts; ``canonical_frame`` gives the same values in columnar form for speed, and
``DeltaStream`` diffs a fetch chunk by chunk in memory that grows with the changes only.
"""

from core.delta.canonical import to_canonical
from core.delta.engine import diff
from core.delta.fields import COMPARABLE_FIELDS, ENTITY_TYPES, EXTERNAL_SYNC_TYPES, HASH_VERSION
from core.delta.fingerprint import fingerprint
from core.delta.frame import CanonicalFrame, canonical_frame, iter_canonical_frames
from core.delta.result import DeltaResult, FieldChange, UpdatedRecord
from core.delta.stream import DeltaStream, LocalIndex

__all__ = [
    "COMPARABLE_FIELDS",
    "ENTITY_TYPES",
    "EXTERNAL_SYNC_TYPES",
    "HASH_VERSION",
    "CanonicalFrame",
    "DeltaResult",
    "DeltaStream",
    "FieldChange",
    "LocalIndex",
    "UpdatedRecord",
    "canonical_frame",
    "diff",
    "fingerprint",
    "iter_canonical_frames",
    "to_canonical",
]
