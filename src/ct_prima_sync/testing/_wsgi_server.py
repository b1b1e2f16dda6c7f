"""A small threaded HTTP/1.1 server for the fakes' WSGI applications, on loopback.

Connections are kept alive (HTTP/1.1, or HTTP/1.0 asking ``Connection: keep-alive``), so a client
with a connection pool pays for one TCP connection and one server thread per connection, not per
request, as ``wsgiref``'s server made it (one request per connection). What the applications see
is what ``wsgiref`` gave them: ``REQUEST_METHOD``, ``PATH_INFO`` (percent-decoded as ISO-8859-1),
``QUERY_STRING``, ``CONTENT_TYPE`` (``text/plain`` when the request has none), ``CONTENT_LENGTH``
(empty when absent), ``HTTP_*`` per header (repeated headers comma-joined), ``wsgi.input`` (the
body, ``CONTENT_LENGTH`` bytes), ``SERVER_*``, ``REMOTE_ADDR``, ``SCRIPT_NAME`` and the ``wsgi.*``
keys. Responses carry ``Date`` and ``Server`` as ``wsgiref``'s did.

``fault_header``: a response carrying this header is not sent; the connection is held for
``timeout_hold`` seconds when its value is ``timeout`` (or until the server stops), then reset
(``SO_LINGER`` zero: a TCP RST, not a clean close), as the Prima emulator's transport faults
want. Stopping the server closes every connection still open, so no request is answered after.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import sys
import threading
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from email.utils import formatdate
from http import HTTPStatus
from io import BufferedIOBase
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

__all__ = ["serve_wsgi"]

_MAX_LINE = 65536
_MAX_HEADERS = 100
_MAX_DRAIN = 1 << 20  # unread request body beyond this closes the connection instead
_SERVER = f"WSGIServer/0.2 Python/{sys.version.split()[0]}"
_ERROR_BODY = b"A server error occurred.  Please contact the administrator."


class _Body:
    """``wsgi.input``: the request body, no more than ``CONTENT_LENGTH`` bytes of the stream."""

    def __init__(self, stream: BufferedIOBase, length: int) -> None:
        self._stream = stream
        self.remaining = length

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        if size < 0 or size > self.remaining:
            size = self.remaining
        data = self._stream.read(size)
        self.remaining -= len(data)
        if not data:
            self.remaining = 0
        return data

    def readline(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        if size < 0 or size > self.remaining:
            size = self.remaining
        data = self._stream.readline(size)
        self.remaining -= len(data)
        if not data:
            self.remaining = 0
        return data

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        app: WSGIApplication,
        *,
        fault_header: str | None,
        timeout_hold: float,
        wait_for_requests: bool,
    ) -> None:
        self.block_on_close = wait_for_requests
        super().__init__(address, _Connection)
        self.app = app
        self.fault_header = fault_header
        self.timeout_hold = timeout_hold
        self.stopping = threading.Event()
        self.open: set[socket.socket] = set()
        self.open_lock = threading.Lock()
        host, port = self.server_address[:2]
        self.base_environ: dict[str, Any] = {
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_SOFTWARE": _SERVER,
            "SCRIPT_NAME": "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection the client dropped or the server closed is no error worth a traceback."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Close every connection still open (their threads then end)."""
        with self.open_lock:
            sockets = list(self.open)
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Connection(socketserver.StreamRequestHandler):
    """One client connection: its requests, one after the other, until either side closes."""

    server: _Server
    request: socket.socket

    def setup(self) -> None:
        super().setup()
        with suppress(OSError):
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.open_lock:
            self.server.open.add(self.request)

    def finish(self) -> None:
        with self.server.open_lock:
            self.server.open.discard(self.request)
        with suppress(OSError):
            super().finish()

    def handle(self) -> None:
        while not self.server.stopping.is_set() and self._one_request():
            pass

    def _refuse(self, status: HTTPStatus) -> bool:
        body = status.phrase.encode()
        self.wfile.write(
            f"HTTP/1.1 {status.value} {status.phrase}\r\nConnection: close\r\n"
            f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n".encode("latin-1")
            + body
        )
        return False

    def _one_request(self) -> bool:
        """Answer one request; whether the connection stays open for another."""
        line = self.rfile.readline(_MAX_LINE + 1)
        if not line:
            return False
        if len(line) > _MAX_LINE:
            return self._refuse(HTTPStatus.REQUEST_URI_TOO_LONG)
        words = line.decode("iso-8859-1").split()
        if len(words) != 3 or not words[2].startswith("HTTP/"):
            return self._refuse(HTTPStatus.BAD_REQUEST)
        method, target, version = words
        headers: list[tuple[str, str]] = []
        while True:
            raw = self.rfile.readline(_MAX_LINE + 1)
            if len(raw) > _MAX_LINE or len(headers) > _MAX_HEADERS:
                return self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
            if raw in (b"\r\n", b"\n", b""):
                break
            text = raw.decode("iso-8859-1")
            if text[0] in " \t" and headers:  # an obsolete folded continuation
                name, value = headers[-1]
                headers[-1] = (name, f"{value} {text.strip()}")
                continue
            name, colon, value = text.partition(":")
            if not colon:
                return self._refuse(HTTPStatus.BAD_REQUEST)
            headers.append((name.strip(), value.strip()))
        environ = self.server.base_environ.copy()
        environ["SERVER_PROTOCOL"] = version
        environ["REQUEST_METHOD"] = method
        path, _, query = target.partition("?")
        environ["PATH_INFO"] = unquote(path, "iso-8859-1")
        environ["QUERY_STRING"] = query
        environ["REMOTE_ADDR"] = self.client_address[0]
        environ["CONTENT_TYPE"] = "text/plain"
        environ["CONTENT_LENGTH"] = ""
        connection = ""
        typed = False
        for name, value in headers:
            key = name.replace("-", "_").upper()
            if key == "CONTENT_TYPE":
                if not typed:
                    environ[key], typed = value, True
                continue
            if key == "CONTENT_LENGTH":
                if value:
                    environ[key] = value
                continue
            if key == "CONNECTION":
                connection = value.lower()
            wsgi_key = "HTTP_" + key
            if wsgi_key in environ:
                environ[wsgi_key] += "," + value
            else:
                environ[wsgi_key] = value
        keep_alive = (
            "keep-alive" in connection
            if version == "HTTP/1.0"
            else version == "HTTP/1.1" and "close" not in connection
        )
        if "HTTP_TRANSFER_ENCODING" in environ:
            keep_alive = False  # a chunked body is not read (as wsgiref did not): no next request
        length = environ["CONTENT_LENGTH"]
        if length and not length.isdigit():
            return self._refuse(HTTPStatus.BAD_REQUEST)
        body = _Body(self.rfile, int(length or 0))
        environ["wsgi.input"] = body
        if environ.get("HTTP_EXPECT", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        status, response_headers, chunks = self._run(environ)
        fault = self._fault(response_headers)
        if fault is not None:
            if fault == "timeout":
                self.server.stopping.wait(self.server.timeout_hold)
            # SO_LINGER with a zero timeout makes close() send a TCP reset, not a clean FIN.
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if body.remaining > _MAX_DRAIN:
            keep_alive = False
        elif body.remaining:
            body.read()
        payload = b"".join(chunks)
        names = {name.lower() for name, _ in response_headers}
        head = [f"HTTP/1.1 {status}"]
        head.extend(f"{name}: {value}" for name, value in response_headers)
        if "content-length" not in names:
            head.append(f"Content-Length: {len(payload)}")
        if "date" not in names:
            head.append(f"Date: {formatdate(usegmt=True)}")
        if "server" not in names:
            head.append(f"Server: {_SERVER}")
        if not keep_alive:
            head.append("Connection: close")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        return keep_alive

    def _fault(self, headers: list[tuple[str, str]]) -> str | None:
        wanted = self.server.fault_header
        if wanted is None:
            return None
        wanted = wanted.lower()
        return next((value for name, value in headers if name.lower() == wanted), None)

    def _run(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], Iterable[bytes]]:
        """Call the application: its status, headers and body (a 500 when it raised)."""
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [status, list(headers)]
            return lambda data: None  # the write() callable: the applications return their body

        try:
            result = self.server.app(environ, start_response)
            try:
                chunks = list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return "500 Internal Server Error", [("Content-Type", "text/plain")], [_ERROR_BODY]
        if not started:
            return "500 Internal Server Error", [("Content-Type", "text/plain")], [_ERROR_BODY]
        return started[0], started[1], chunks


@contextmanager
def serve_wsgi(
    app: WSGIApplication,
    host: str,
    port: int = 0,
    *,
    name: str,
    fault_header: str | None = None,
    timeout_hold: float = 0.0,
    wait_for_requests: bool = True,
) -> Iterator[str]:
    """Serve ``app`` on ``port`` (0: a free one) of ``host`` in a thread named ``name``; yields
    the base URL. On exit: stop accepting, close the connections still open and, with
    ``wait_for_requests``, wait for the requests being answered to finish."""
    server = _Server(
        (host, port),
        app,
        fault_header=fault_header,
        timeout_hold=timeout_hold,
        wait_for_requests=wait_for_requests,
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join(timeout=5)
