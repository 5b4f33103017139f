"""The engine's own errors: input it cannot use.

    DeltaError            (a SyncPreviewError: its message is a sentence a user can read)
     ├── UnknownType      a sync type or entity type the engine does not know
     └── RecordError      a record (or a page of records) that cannot be read

The engine knows records, not where they came from: whoever fetched them decides what a
``RecordError`` means to the user. The preview service maps one from an external system to
``BadResponse`` (the system sent something we cannot read) and one from the local rows to
``InvalidRequest``, keeping the message.
"""

from __future__ import annotations

from core.errors import SyncPreviewError

#: The sync type of the organization's own rows (``RecordError.source`` for them).
LOCAL_SOURCE = "local"


class DeltaError(SyncPreviewError):
    """Input the pure engine cannot use."""


class UnknownType(DeltaError):
    """A sync type or entity type the engine does not know."""


class RecordError(DeltaError):
    """A record, or a page of records, that cannot be read; ``source`` is its sync type."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(message)
        self.source = source

    @property
    def local(self) -> bool:
        """True when the record is one of the organization's own rows."""
        return self.source == LOCAL_SOURCE
