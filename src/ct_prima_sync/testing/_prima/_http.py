"""Turn the emulator's transport-fault marks into real transport failures, in process or served.

In process, :class:`FaultRaisingTransport` raises what httpx raises on a real network:
``ReadTimeout`` for a timeout, ``RemoteProtocolError`` for a reply lost after the request was
applied, ``ConnectError`` for a reset before it was sent. Served on loopback (the fakes' server,
``testing/_wsgi_server.py``), the connection is held (timeout) or dropped with a TCP reset (reset,
lost) instead of answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx

from .._wsgi_server import serve_wsgi as _serve

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

__all__ = ["FAULT_HEADER", "FaultRaisingTransport", "serve_wsgi"]

FAULT_HEADER = "X-Prima-Emulator-Fault"
"""Marks a response that stands for a transport failure (``timeout``, ``reset``, ``lost``)."""


class FaultRaisingTransport(httpx.BaseTransport):
    """Wraps the emulator's WSGI transport and raises for responses marked as transport faults."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the emulator; a marked response becomes the httpx error it stands for."""
        response = self._inner.handle_request(request)
        mark = response.headers.get(FAULT_HEADER)
        if mark is None:
            return response
        response.close()
        if mark == "timeout":
            raise httpx.ReadTimeout("simulated read timeout", request=request)
        if mark == "lost":
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        raise httpx.ConnectError("simulated connection reset", request=request)

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()


@contextmanager
def serve_wsgi(
    app: WSGIApplication, host: str, timeout_hold: float, port: int = 0
) -> Iterator[str]:
    """Serve ``app`` on ``port`` (0: a free one) of ``host`` in a thread; yields the base URL.

    Connections are kept alive between requests; a response marked with :data:`FAULT_HEADER`
    is not sent: the connection is held (``timeout``, for ``timeout_hold`` seconds or until the
    server stops) and reset."""
    with _serve(
        app,
        host,
        port,
        name="prima-emulator",
        fault_header=FAULT_HEADER,
        timeout_hold=timeout_hold,
        wait_for_requests=False,  # a latency fault may be sleeping: stop at once, as before
    ) as url:
        yield url
