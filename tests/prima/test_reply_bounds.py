"""Replies are bounded: one larger than ``max_reply_bytes`` is refused while it streams in, with
memory to match; a large stock reply within the cap is parsed row by row. Memory is measured as
the peak RSS of a subprocess (Linux's VmHWM, reset before the measured step)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ct_prima_sync.errors import PrimaReplyTooLargeError, PrimaUnavailableError
from ct_prima_sync.prima import OmlinkClient, OmlinkConfig, SkuCode
from ct_prima_sync.testing._prima._factory import make_sales_order

MB = 1024 * 1024
HERE = Path(__file__).parent
linux_only = pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="peak RSS is read from Linux's /proc"
)


def _client(content: bytes, cap: int) -> OmlinkClient:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=content, headers={"Content-Type": "text/xml"})

    config = OmlinkConfig(endpoint="http://prima.test/x/x", max_reply_bytes=cap)
    return OmlinkClient(config, transport=httpx.MockTransport(handler))


def test_a_reply_over_the_cap_is_a_typed_protocol_error() -> None:
    with (
        _client(b"x" * (2 * MB), cap=MB) as client,
        pytest.raises(PrimaReplyTooLargeError) as caught,
    ):
        client.order_status("CT-1")
    assert caught.value.limit == MB
    assert "max_reply_bytes" in str(caught.value)


def test_a_too_large_answer_to_an_order_may_have_been_applied() -> None:
    order = make_sales_order("CT-1", [(SkuCode(product="TEE"), 1, "WH1")])
    with _client(b"x" * (2 * MB), cap=MB) as client, pytest.raises(PrimaUnavailableError) as caught:
        client.submit_orders([order])
    assert caught.value.may_have_been_applied


def test_the_default_cap_is_64_mib() -> None:
    assert OmlinkConfig(endpoint="http://prima.test/x/x").max_reply_bytes == 64 * MB


@contextmanager
def _streaming_server(total: int) -> Iterator[str]:
    """An HTTP server that streams ``total`` bytes of body with no Content-Length."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\n\r\n")
            chunk = b"<" + b"x" * (64 * 1024 - 1)
            sent = 0
            try:
                while sent < total:
                    conn.sendall(chunk)
                    sent += len(chunk)
            except OSError:
                pass  # the client hung up: what a refusal looks like from here

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/x/x"
    finally:
        listener.close()
        thread.join(timeout=10)


_REFUSE = """
import sys
from ct_prima_sync.errors import PrimaReplyTooLargeError
from ct_prima_sync.prima import OmlinkClient, OmlinkConfig

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) * 1024

client = OmlinkClient(OmlinkConfig(endpoint=sys.argv[1], max_reply_bytes=10 * 1024 * 1024))
open("/proc/self/clear_refs", "w").write("5")
before = hwm()
try:
    client.order_status("CT-1")
except PrimaReplyTooLargeError:
    print(hwm() - before)
"""


@linux_only
def test_refusing_a_50_mb_reply_under_a_10_mb_cap_grows_memory_by_less_than_30_mb() -> None:
    with _streaming_server(50 * MB) as url:
        done = subprocess.run(  # noqa: S603 (our own interpreter and script)
            [sys.executable, "-c", _REFUSE, url],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    growth = int(done.stdout.strip())
    print(f"peak RSS growth refusing 50 MB under a 10 MB cap: {growth / MB:.1f} MB")
    assert growth < 30 * MB


_PARSE = """
import gc, sys
sys.path.insert(0, sys.argv[2])
from ct_prima_sync.prima._xml import OmlinkCodec
import real_replies

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) * 1024

text = real_replies.catalogue_sku_rows(int(sys.argv[1]))
codec = OmlinkCodec()
gc.collect()
open("/proc/self/clear_refs", "w").write("5")
before = hwm()
levels = codec.decode_ats_reply(text)
print(len(text), len(levels), hwm() - before)
"""


@linux_only
@pytest.mark.slow
def test_parsing_a_40_mb_stock_reply_needs_at_most_three_times_its_size() -> None:
    rows = 40 * MB // 120  # about 120 bytes a row, as in the real reply
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", _PARSE, str(rows), str(HERE)],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    size, parsed, growth = (int(v) for v in done.stdout.split())
    print(
        f"{size / MB:.0f} MB, {parsed} rows: peak RSS growth {growth / MB:.0f} MB = "
        f"{growth / size:.2f} x the reply"
    )
    assert parsed == rows
    assert growth <= 3 * size
