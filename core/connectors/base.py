"""``HttpConnector``: what every connector over HTTP sets up the same way."""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urljoin, urlsplit

import requests

from core.connectors.http import HttpClient, HttpResult
from core.connectors.redact import display_url
from core.errors import RemoteNotFound
from core.sources.address import check_address
from core.sources.connector import ConnectorConfig, ReadScope

REDIRECTS = frozenset({301, 302, 303, 307, 308})


class HttpConnector:
    """A connector's address, its form as shown to users, and its HTTP client.

    A subclass names its ``system`` and reads its credentials and options in ``configure``
    (raising ``ConfigError`` for missing ones); ``close`` closes the client.
    """

    sync_type: str
    system: ClassVar[str]  # as named in messages: "WooCommerce"

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        timeout: float = 30.0,
        deadline: float | None = None,
        concurrency: int = 6,
        session: requests.Session | None = None,
    ) -> None:
        # an address saved before addresses were checked may be anything: refuse it here
        self.root = check_address(config.base_url, allow_credentials=True)
        self.shown = display_url(self.root)
        self.concurrency = max(1, concurrency)
        self.configure(config)
        self.http = HttpClient(
            system=self.system,
            shown_url=self.shown,
            timeout=timeout,
            deadline=deadline,
            session=session,
            pool_size=self.concurrency + 2,
        )

    def configure(self, config: ConnectorConfig) -> None:
        """Read the credentials and options of ``config``."""

    def read_scope(self, entity_type: str) -> ReadScope:
        """What a read of ``entity_type`` covers (``core.sources.read_scope``): everything."""
        return ReadScope()

    def check_redirect(self, result: HttpResult) -> None:
        """Raise ``RemoteNotFound`` saying where a redirect leads.

        Redirects are never followed: the keys would go with the request to wherever the
        server points. A plain-HTTP address answered by a redirect to HTTPS on the same host
        is a server that wants HTTPS; the message gives the address to use instead.
        """
        if result.status not in REDIRECTS:
            return
        location = result.headers.get("Location") or ""
        here = urlsplit(self.root)
        there = urlsplit(urljoin(self.root + "/", location))
        if not location or not there.hostname:
            return
        if (here.scheme, there.scheme) == ("http", "https") and here.hostname == there.hostname:
            address = display_url(f"https://{there.netloc}{here.path}")
            raise RemoteNotFound(
                f"{self.system} at {self.shown} wants HTTPS: it redirects every request to "
                f"https. Change the connector's address to {address}."
            )
        raise RemoteNotFound(
            f"{self.shown} redirects to {display_url(there.geturl())}. If that is the "
            f"{self.system}, enter that address (redirects are not followed, so that the keys "
            "are never sent anywhere else)."
        )

    def close(self) -> None:
        """Close the HTTP session."""
        self.http.close()
