"""The errors Sync Preview raises, one tree under one root.

    SyncPreviewError                              retry?
     ├── ConfigError            a setting is missing or wrong              terminal
     ├── InvalidRequest         a parameter or input the caller can fix    terminal
     │    ├── WriteRefused      a query for the organization's database    terminal
     │    │                     tried to change it
     │    └── BadQuery          a mapping's table, column or SELECT the    terminal
     │                          database rejects
     ├── PermissionDenied       the actor's role does not allow it         terminal
     ├── NotFoundError          an organization, connector or snapshot     terminal
     │                          that does not exist
     ├── RefreshRateLimited     too many fresh computations for one org    transient (retry_after)
     ├── RefreshInProgress      another computation of the same preview    transient
     │    │                     is running and did not finish in time
     │    └── RefreshInterrupted  the refresh lost its lease (its heartbeat  transient
     │                          could not renew it) and stopped
     ├── SignInRefused          a wrong sign-in, or too many of them       terminal, transient
     │                                                                     (retry_after) when
     │                                                                     slowed down
     ├── ConnectorError         talking to an external system failed       terminal
     │    ├── AuthError         wrong keys, password or API key            terminal
     │    ├── RemoteNotFound    wrong URL, or not a WooCommerce/Odoo       terminal
     │    │                     endpoint
     │    ├── RateLimited       the external system said "too many         transient (retry_after)
     │    │                     requests"
     │    ├── ExternalTimeout   no complete answer within the time limit   transient
     │    ├── BadResponse       an answer we cannot read (malformed JSON,  terminal
     │    │    │                wrong shape)
     │    │    └── UnreadableValue  a value of the organization's database  terminal
     │    │                     that is not its field
     │    └── Unreachable       connection refused, DNS failure, TLS       transient
     │                          failure
     ├── StoreError             our own database failed                    terminal, transient
     │                                                                     when it could not be
     │                                                                     reached (or was busy)
     └── InternalError          a bug: the message carries a reference     terminal
                                that is in the log

**Transient** errors may go away by themselves: a caller that retries later (a worker backs
off and tries again) may succeed. **Terminal** ones will not until someone changes something
(a setting, a password, the request, the code): a worker stops and reports them. Every error
says which it is in ``err.transient``; :func:`retry_may_help` answers it for any exception.

Every message is a sentence a business user can act on and never contains a secret:
the UI shows ``str(err)`` as it is.
"""

from __future__ import annotations


class SyncPreviewError(Exception):
    """Root of every error Sync Preview raises on purpose."""

    #: True when retrying later may succeed (see the module docstring).
    transient: bool = False


class ConfigError(SyncPreviewError):
    """A setting is missing or has a value we cannot use."""


class InvalidRequest(SyncPreviewError):
    """A parameter or input that the caller can correct."""


class WriteRefused(InvalidRequest):
    """A query for the organization's own database tried to change it (it is only read)."""


class BadQuery(InvalidRequest):
    """The organization's database rejected a mapping's table, column or SELECT."""


class PermissionDenied(SyncPreviewError):
    """The actor's role does not allow this operation."""


class NotFoundError(SyncPreviewError):
    """An organization, connector or snapshot that does not exist (in this organization)."""


class RefreshRateLimited(SyncPreviewError):
    """Too many fresh computations for one organization; retry after ``retry_after`` s.
    ``limit`` is the rate in force ("10/minute")."""

    transient = True

    def __init__(self, message: str, retry_after: float, limit: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.limit = limit


class RefreshInProgress(SyncPreviewError):
    """Another computation of the same preview is running and did not finish in time."""

    transient = True


class RefreshInterrupted(RefreshInProgress):
    """A refresh stopped because it lost its lease: the database did not answer its
    heartbeat, or another refresh took the preview over."""


class SignInRefused(SyncPreviewError):
    """A sign-in that did not succeed; ``retry_after`` (seconds) when sign-ins of that account
    or address are slowed down after too many failures."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.transient = retry_after is not None


class ConnectorError(SyncPreviewError):
    """Talking to an external system failed."""


class AuthError(ConnectorError):
    """The external system refused our credentials."""


class RemoteNotFound(ConnectorError):
    """The URL does not lead to the expected API (wrong address or not that product)."""


class RateLimited(ConnectorError):
    """The external system kept answering "too many requests"."""

    transient = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ExternalTimeout(ConnectorError):
    """The external system did not give a complete answer within the time limit."""

    transient = True


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

    transient = True


class StoreError(SyncPreviewError):
    """Our own database failed; ``transient`` when it could not be reached or was busy."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class InternalError(SyncPreviewError):
    """An unexpected failure (a bug); ``reference`` finds its traceback in the log."""

    def __init__(self, what: str, reference: str) -> None:
        super().__init__(
            f"{what} failed because of an internal error (reference {reference}); "
            "quote the reference when you report it."
        )
        self.reference = reference


def retry_may_help(err: BaseException) -> bool:
    """True for a transient error of the tree; False for a terminal one and for any other
    exception (a bug does not go away by retrying)."""
    return isinstance(err, SyncPreviewError) and err.transient
