"""``HttpConnector``: what every connector over HTTP sets up the same way."""

from __future__ import annotations

from typing import ClassVar

import requests

from core.connectors.http import HttpClient
from core.connectors.redact import display_url
from core.sources.address import check_address
from core.sources.connector import ConnectorConfig


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

    def close(self) -> None:
        """Close the HTTP session."""
        self.http.close()
