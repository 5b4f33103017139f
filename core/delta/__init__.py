"""The pure delta engine: canonical records, fingerprints, diff and its result types.

No I/O, no clock: records in, a ``DeltaResult`` out. ``to_canonical`` and ``diff`` work on
plain dicts; ``canonical_frame`` gives the same values in columnar form for speed, and
``DeltaStream`` diffs a fetch chunk by chunk in memory that grows with the changes only.
Functions that read a source's records take its sync type (a source of the registry,
``core.sources``, or ``"local"``) or its ``RecordFormat``. Input the engine cannot use
raises a ``DeltaError``.
"""

from core.delta.canonical import to_canonical
from core.delta.engine import diff
from core.delta.errors import DeltaError, RecordError, UnknownType
from core.delta.fields import COMPARABLE_FIELDS, ENTITY_TYPES, FIELD_TYPES, HASH_VERSION
from core.delta.fingerprint import fingerprint
from core.delta.frame import CanonicalFrame
from core.delta.frame_read import canonical_frame, iter_canonical_frames
from core.delta.mapping import LOCAL, RecordFormat, record_format
from core.delta.result import CHANGE_KINDS, DeltaResult, FieldChange, UpdatedRecord
from core.delta.stream import DeltaStream, LocalIndex

__all__ = [
    "CHANGE_KINDS",
    "COMPARABLE_FIELDS",
    "ENTITY_TYPES",
    "FIELD_TYPES",
    "HASH_VERSION",
    "LOCAL",
    "CanonicalFrame",
    "DeltaError",
    "DeltaResult",
    "DeltaStream",
    "FieldChange",
    "LocalIndex",
    "RecordError",
    "RecordFormat",
    "UnknownType",
    "UpdatedRecord",
    "canonical_frame",
    "diff",
    "fingerprint",
    "iter_canonical_frames",
    "record_format",
    "to_canonical",
]
