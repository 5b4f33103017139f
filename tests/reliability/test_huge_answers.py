"""A store that answers with gigabytes: the connector stops reading at its cap (64 MB) as the
body arrives, or at once when the answer announces its size, instead of buffering 512 MB."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from core.connectors.http import MAX_BODY_BYTES, HttpClient
from core.errors import BadResponse

CHUNK = b"\0" * 65536


class FloodServer:
    """Answers every request with zeros: ``announce`` bytes in Content-Length (or no length,
    until it is cut off); counts what the client actually took."""

    def __init__(self, announce: int | None) -> None:
        self.announce = announce
        self.sent = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        try:
            conn.recv(65536)
            length = f"Content-Length: {self.announce}\r\n" if self.announce else ""
            conn.sendall(
                f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}\r\n".encode()
            )
            while self.sent < 2 * 1024**3:
                conn.sendall(CHUNK)
                self.sent += len(CHUNK)
        except OSError:  # the client hung up: what it took is counted
            pass
        finally:
            conn.close()
            self.done.set()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(params=[600 * 1024**2, None], ids=["announced", "unannounced"])
def flood(request) -> Iterator[FloodServer]:
    server = FloodServer(request.param)
    try:
        yield server
    finally:
        server.close()


def test_a_huge_answer_is_refused_while_it_arrives(flood):
    client = HttpClient(system="WooCommerce", shown_url="http://shop.example", timeout=30)
    try:
        with pytest.raises(BadResponse) as refused:
            client.call("GET", f"http://127.0.0.1:{flood.port}/wp-json/wc/v3/orders")
    finally:
        client.close()
    assert str(refused.value) == (
        "WooCommerce at http://shop.example sent an answer larger than 64 MB; it is not an API "
        "answer we can read."
    )
    assert flood.done.wait(30)
    # what reached us before we hung up: the cap and what the sockets' buffers held, no more
    limit = 16 * 1024**2 if flood.announce else MAX_BODY_BYTES + 16 * 1024**2
    assert flood.sent < limit, flood.sent
