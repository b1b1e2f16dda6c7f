"""The fakes' HTTP server: connections kept alive, bodies read or skipped, none answered after
the server stops."""

from __future__ import annotations

import socket
from typing import BinaryIO
from urllib.parse import urlsplit

import httpx

from ct_prima_sync.testing import FakeCommercetools, PrimaEmulator


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    return socket.create_connection((parts.hostname, parts.port), timeout=5)


def _read_response(reader: BinaryIO) -> tuple[str, dict[str, str], bytes]:
    status = reader.readline().decode("latin-1").strip()
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = reader.read(int(headers.get("content-length", "0")))
    return status, headers, body


def test_one_connection_carries_several_requests_and_skips_unread_bodies() -> None:
    emulator = PrimaEmulator()
    with emulator.serve() as url, _connect(url) as sock, sock.makefile("rb") as reader:
        # A PUT is refused without its body being read; the next request is answered all the same.
        sock.sendall(
            b"PUT /omlink/omlink HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            b"GET /omlink/omlink?wsdl HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        status, headers, _ = _read_response(reader)
        assert status == "HTTP/1.1 405 Method Not Allowed"
        assert headers["allow"] == "GET, POST"
        status, headers, body = _read_response(reader)
        assert status == "HTTP/1.1 200 OK"
        assert b"definitions" in body
        assert "connection" not in headers
        sock.sendall(b"GET /omlink/omlink?wsdl HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, headers, _ = _read_response(reader)
        assert (status, headers["connection"]) == ("HTTP/1.1 200 OK", "close")
        assert reader.read() == b""  # the server closed the connection as asked


def test_an_http_1_0_request_is_answered_and_its_connection_closed() -> None:
    with PrimaEmulator().serve() as url, _connect(url) as sock, sock.makefile("rb") as reader:
        sock.sendall(b"GET /omlink/omlink?wsdl HTTP/1.0\r\n\r\n")
        status, _, body = _read_response(reader)
        assert status == "HTTP/1.1 200 OK"
        assert b"definitions" in body
        assert reader.read() == b""


def test_no_request_is_answered_on_a_kept_connection_after_the_server_stops() -> None:
    emulator = PrimaEmulator()
    with emulator.serve() as url:
        sock = _connect(url)
        reader = sock.makefile("rb")
        sock.sendall(b"GET /omlink/omlink?wsdl HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_response(reader)[0] == "HTTP/1.1 200 OK"
    try:
        sock.sendall(b"GET /omlink/omlink?wsdl HTTP/1.1\r\nHost: x\r\n\r\n")
        assert reader.readline() == b""
    except OSError:
        pass  # reset: no answer either
    finally:
        reader.close()
        sock.close()


def test_the_commercetools_fake_served_records_the_headers_a_client_sent() -> None:
    fake = FakeCommercetools()
    with fake.serve() as url, httpx.Client(base_url=url) as http:
        reply = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(fake.client_id, fake.client_secret),
        )
        assert reply.status_code == 200
        token = reply.json()["access_token"]
        for _ in range(3):  # on the one kept-alive connection
            answer = http.get(
                f"/{fake.project_key}/orders",
                headers={"Authorization": f"Bearer {token}", "X-Correlation-ID": "corr-1"},
            )
            assert answer.status_code == 200
            assert answer.headers["x-correlation-id"] == "corr-1"
    recorded = fake.requests[-1]
    assert (recorded.method, recorded.path, recorded.status) == (
        "GET",
        f"/{fake.project_key}/orders",
        200,
    )
    assert recorded.headers["x-correlation-id"] == "corr-1"
    assert "authorization" not in recorded.headers
    assert recorded.headers["content-type"] == "text/plain"  # as wsgiref's server had it
