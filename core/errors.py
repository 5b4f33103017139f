"""The errors Sync Preview raises, one tree under one root.

    SyncPreviewError
     ├── ConfigError            a setting is missing or wrong
     ├── InvalidRequest         a parameter or input the caller can fix
     │    ├── WriteRefused      a query for the organization's database tried to change it
     │    └── BadQuery          a mapping's table, column or SELECT the database rejects
     ├── PermissionDenied       the user's role does not allow the operation
     ├── NotFoundError          an organization, connector or snapshot that does not exist
     ├── RefreshRateLimited     too many fresh computations for one organization
     ├── RefreshInProgress      another computation of the same preview is running
     ├── ConnectorError         talking to an external system failed
     │    ├── AuthError         wrong keys, password or API key
     │    ├── RemoteNotFound    wrong URL, not a WooCommerce/Odoo endpoint, unknown database
     │    ├── RateLimited       the external system said "too many requests"
     │    ├── ExternalTimeout   no complete answer within the time limit
     │    ├── BadResponse       an answer we cannot read (malformed JSON, wrong shape)
     │    │    └── UnreadableValue   a value of the organization's database that is not its field
     │    └── Unreachable       connection refused, DNS failure, TLS failure
     ├── StoreError             our own database failed
     └── InternalError          a bug: the message carries a reference that is in the log

Every message is a sentence a business user can act on and never contains a secret:
the UI shows ``str(err)`` as it is.
"""

from __future__ import annotations


class SyncPreviewError(Exception):
    """Root of every error Sync Preview raises on purpose."""


class ConfigError(SyncPreviewError):
    """A setting is missing or has a value we cannot use."""


class InvalidRequest(SyncPreviewError):
    """A parameter or input that the caller can correct."""


class WriteRefused(InvalidRequest):
    """A query for the organization's own database tried to change it (it is only read)."""


class BadQuery(InvalidRequest):
    """The organization's database rejected a mapping's table, column or SELECT."""


class PermissionDenied(SyncPreviewError):
    """The user's role does not allow this operation."""


class NotFoundError(SyncPreviewError):
    """An organization, connector or snapshot that does not exist (in this organization)."""


class RefreshRateLimited(SyncPreviewError):
    """Too many fresh computations for one organization; retry after ``retry_after`` s."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RefreshInProgress(SyncPreviewError):
    """Another computation of the same preview is running and did not finish in time."""


class ConnectorError(SyncPreviewError):
    """Talking to an external system failed."""


class AuthError(ConnectorError):
    """The external system refused our credentials."""


class RemoteNotFound(ConnectorError):
    """The URL does not lead to the expected API (wrong address or not that product)."""


class RateLimited(ConnectorError):
    """The external system kept answering "too many requests"."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ExternalTimeout(ConnectorError):
    """The external system did not give a complete answer within the time limit."""


class BadResponse(ConnectorError):
    """The external system answered something we cannot read."""


class UnreadableValue(BadResponse):
    """A value in the organization's database that cannot be read as its canonical field.

    ``row`` is the row's position in the read (1-based), ``key`` the value of its key column
    (or None), ``column`` the database column and ``field`` the canonical field.
    """

    def __init__(self, message: str, *, row: int, key: str | None, column: str, field: str) -> None:
        super().__init__(message)
        self.row = row
        self.key = key
        self.column = column
        self.field = field


class Unreachable(ConnectorError):
    """The external system could not be reached at all."""


class StoreError(SyncPreviewError):
    """Our own database failed."""


class InternalError(SyncPreviewError):
    """An unexpected failure (a bug); ``reference`` finds its traceback in the log."""

    def __init__(self, what: str, reference: str) -> None:
        super().__init__(
            f"{what} failed because of an internal error (reference {reference}); "
            "quote the reference when you report it."
        )
        self.reference = reference
