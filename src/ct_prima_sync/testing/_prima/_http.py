"""Turn the emulator's transport-fault marks into real transport failures, in process or served.

In process, :class:`FaultRaisingTransport` raises what httpx raises on a real network:
``ReadTimeout`` for a timeout, ``RemoteProtocolError`` for a reply lost after the request was
applied, ``ConnectError`` for a reset before it was sent. Served on loopback, the request handler
holds the connection (timeout) or drops it with a TCP reset (reset, lost) instead of answering.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import IO, TYPE_CHECKING, cast
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

import httpx

if TYPE_CHECKING:
    from wsgiref.headers import Headers
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


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    block_on_close = False
    stopping: threading.Event
    timeout_hold: float
    wsgi_app: WSGIApplication


class _Handler(ServerHandler):
    fault: str | None = None

    def finish_response(self) -> None:
        headers = cast("Headers | None", getattr(self, "headers", None))
        self.fault = headers.get(FAULT_HEADER) if headers is not None else None
        if self.fault is None:
            super().finish_response()
        else:
            self.close()


class _RequestHandler(WSGIRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: tests read the world's request log instead."""

    def handle(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536 or not self.parse_request():
            return
        handler = _Handler(
            self.rfile,
            cast("IO[bytes]", self.wfile),
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.wsgi_app)
        if handler.fault == "timeout":
            self.server.stopping.wait(self.server.timeout_hold)
        if handler.fault is not None:
            # SO_LINGER with a zero timeout makes close() send a TCP reset, not a clean FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True


@contextmanager
def serve_wsgi(
    app: WSGIApplication, host: str, timeout_hold: float, port: int = 0
) -> Iterator[str]:
    """Serve ``app`` on ``port`` (0: a free one) of ``host`` in a thread; yields the base URL."""
    server = _Server((host, port), _RequestHandler)
    server.stopping = threading.Event()
    server.timeout_hold = timeout_hold
    server.wsgi_app = app
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
