"""The omlink client's own HTTP client keeps the cookies Prima (or a gateway) sets, as httpx does,
and reads a reply for them only when it has a ``Set-Cookie`` header."""

from __future__ import annotations

import httpx
import pytest

from ct_prima_sync.prima import ManualClock, OmlinkClient, OmlinkConfig, SkuCode

from .test_omlink_client import ENDPOINT, MiniPrima


class CookiePrima(MiniPrima):
    """A MiniPrima whose first reply carries ``headers`` (a sticky-session gateway, say)."""

    def __init__(self, headers: list[tuple[str, str]]) -> None:
        super().__init__()
        self.first_headers = headers

    def __call__(self, http_request: httpx.Request) -> httpx.Response:
        response = super().__call__(http_request)
        if len(self.http) == 1:
            for key, value in self.first_headers:
                response.headers[key] = value
        return response


def _client(prima: MiniPrima) -> OmlinkClient:
    clock = ManualClock()
    return OmlinkClient(
        OmlinkConfig(endpoint=ENDPOINT),
        transport=httpx.MockTransport(prima),
        clock=clock,
        sleep=clock.sleep,
    )


TEE = SkuCode(product="TEE")


@pytest.mark.parametrize("name", ["Set-Cookie", "set-cookie", "SET-COOKIE"])
def test_a_cookie_prima_sets_is_sent_back(name: str) -> None:
    prima = CookiePrima([(name, "AWSALB=sticky-1; Path=/")])
    with _client(prima) as client:
        client.available_to_sell([TEE])
        client.available_to_sell([TEE])
        assert dict(client._http.cookies) == {"AWSALB": "sticky-1"}
    assert "cookie" not in prima.http[0].headers
    assert prima.http[1].headers["cookie"] == "AWSALB=sticky-1"


def test_a_reply_without_a_cookie_keeps_none_and_sends_none() -> None:
    prima = CookiePrima([("X-Other", "1")])
    with _client(prima) as client:
        client.available_to_sell([TEE])
        client.available_to_sell([TEE])
        assert dict(client._http.cookies) == {}
    assert all("cookie" not in request.headers for request in prima.http)


def test_cookies_set_on_the_http_client_are_sent_and_kept_reading_replies() -> None:
    prima = CookiePrima([("Set-Cookie", "later=2; Path=/")])
    with _client(prima) as client:
        client._http.cookies = {"early": "1"}
        client.available_to_sell([TEE])
        client.available_to_sell([TEE])
        assert dict(client._http.cookies) == {"early": "1", "later": "2"}
    assert prima.http[0].headers["cookie"] == "early=1"
    assert prima.http[1].headers["cookie"] == "early=1; later=2"
