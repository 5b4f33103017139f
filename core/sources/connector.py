"""The one interface every source's connector offers, and the configuration it is built from."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class ConnectorConfig:
    """Where an external system lives and how to sign in to it (secrets never shown)."""

    sync_type: str
    base_url: str
    credentials: Mapping[str, str]
    options: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        keys = ", ".join(sorted(self.credentials))
        return (
            f"ConnectorConfig(sync_type={self.sync_type!r}, base_url={self.base_url!r}, "
            f"credentials=<{keys}: hidden>, options={dict(self.options)!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True)
class FetchProgress:
    """How far the iteration of one entity has come (totals when the system tells them)."""

    entity_type: str
    pages_done: int
    pages_total: int | None
    records_done: int
    records_total: int | None


ProgressCallback = Callable[[FetchProgress], None]


@dataclass(frozen=True)
class ReadScope:
    """What a connector's read of one entity covers, beside its records.

    ``not_available``: canonical fields the external system does not have (an Odoo without
    the Inventory app has no stock quantity); they are not compared, and the preview says so.
    ``notes``: sentences the preview shows beside its counts ("Odoo companies read: …").
    """

    not_available: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


class Connector(Protocol):
    """A client of one external system: test the connection, iterate one entity's pages.

    A connector may also say what it reads (``read_scope(entity_type) -> ReadScope``; see
    ``read_scope`` below): a connector without that method reads every field.
    """

    sync_type: str

    def test_connection(self) -> str:
        """Make a cheap authenticated call; return a sentence saying what was found."""
        ...

    def iter_pages(
        self,
        entity_type: str,
        *,
        since: datetime | None = None,
        progress: ProgressCallback | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the raw wire records of one entity, page by page, each record once.

        Records come in id order, except those a source reads beside their parent (a
        WooCommerce product's variations follow the page of their product).
        """
        ...

    def close(self) -> None:
        """Release the HTTP connections."""
        ...


class ConnectorFactory(Protocol):
    """Builds a source's connector; ``deadline`` is a ``time.monotonic()`` value or None."""

    def __call__(
        self, config: ConnectorConfig, *, timeout: float, deadline: float | None, concurrency: int
    ) -> Connector: ...


def read_scope(connector: Connector, entity_type: str) -> ReadScope:
    """What ``connector`` reads of ``entity_type``: the fields it cannot read are known before
    its first page, the notes once its last page is read. A connector without a
    ``read_scope`` method reads every field and has nothing to add."""
    method = getattr(connector, "read_scope", None)
    if method is None:
        return ReadScope()
    scope = method(entity_type)
    if not isinstance(scope, ReadScope):
        raise TypeError(f"{type(connector).__name__}.read_scope must return a ReadScope")
    return scope
