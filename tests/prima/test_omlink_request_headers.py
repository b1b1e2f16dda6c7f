"""Every request's HTTP headers and timeouts, exactly, however many requests the client sends
(it builds its own headers once), and after its ``config`` is replaced."""

from __future__ import annotations

import httpx
from attrs import evolve

from ct_prima_sync.prima import ManualClock, OmlinkClient, OmlinkConfig

from .test_omlink_client import ENDPOINT, MiniPrima


def _client(prima: MiniPrima, http: httpx.Client | None = None, **settings: object) -> OmlinkClient:
    clock = ManualClock()
    config = OmlinkConfig(endpoint=ENDPOINT, **settings)  # type: ignore[arg-type]
    transport = None if http is not None else httpx.MockTransport(prima)
    return OmlinkClient(config, http=http, transport=transport, clock=clock, sleep=clock.sleep)


def _wire(request: httpx.Request) -> list[tuple[bytes, bytes]]:
    return list(request.headers.raw)


def test_each_request_carries_the_same_headers_in_the_same_order() -> None:
    prima = MiniPrima()
    with _client(prima, header_name="X-Api-Key", header_value="k3y", company_id="7") as client:
        client.list_depots()
        client.list_depots()
    first, second = (_wire(request) for request in prima.http)
    assert first == second
    assert [(k, v) for k, v in first if k != b"Content-Length"] == [
        (b"Host", b"prima.test:8080"),
        (b"Accept", b"*/*"),
        (b"Accept-Encoding", first[2][1]),  # httpx's own (depends on what is installed)
        (b"Connection", b"keep-alive"),
        (b"User-Agent", first[4][1]),
        (b"Content-Type", b"text/xml; charset=ISO-8859-1"),
        (b"SOAPAction", b'""'),
        (b"X-Api-Key", b"k3y"),
    ]


def test_the_timeouts_of_the_config_go_with_each_request() -> None:
    prima = MiniPrima()
    with _client(prima, read_timeout=12.5, connect_timeout=3.0) as client:
        client.list_depots()
        client.list_depots()
    expected = httpx.Timeout(12.5, connect=3.0).as_dict()
    assert [request.extensions["timeout"] for request in prima.http] == [expected, expected]
    assert prima.http[0].extensions["timeout"] is not prima.http[1].extensions["timeout"]


def test_a_replaced_config_changes_the_headers_of_the_next_request() -> None:
    prima = MiniPrima()
    with _client(prima, header_name="X-Api-Key", header_value="one") as client:
        client.list_depots()
        client.config = evolve(client.config, header_value="two")
        client.list_depots()
        client.config = evolve(client.config, header_name="", header_value="")
        client.list_depots()
    assert [request.headers.get("X-Api-Key") for request in prima.http] == ["one", "two", None]


def test_a_given_http_client_merges_its_own_headers_as_before() -> None:
    prima = MiniPrima()
    with (
        httpx.Client(transport=httpx.MockTransport(prima), headers={"X-Mine": "1"}) as http,
        _client(prima, http=http) as client,
    ):
        client.list_depots()
    headers = prima.http[0].headers
    assert headers["X-Mine"] == "1"
    assert headers["Content-Type"] == "text/xml; charset=ISO-8859-1"
    assert prima.http[0].extensions["timeout"] == httpx.Timeout(60.0, connect=5.0).as_dict()
