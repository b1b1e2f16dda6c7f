"""CommercetoolsClient core: tokens, retries, correlation ids, secrecy and lifecycle.

Every test routes HTTP through ``httpx.MockTransport`` and a fake clock: nothing sleeps.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from ct_prima_sync.commercetools import (
    CommercetoolsClient,
    CommercetoolsConfig,
    RetryPolicy,
)
from ct_prima_sync.errors import (
    AuthenticationError,
    ClientClosedError,
    CommercetoolsTransportError,
    ConcurrentModificationError,
    ConfigurationError,
    NotFoundError,
    RateLimitedError,
    ServiceUnavailableError,
    ValidationError,
)

SECRET = "s3cr3t-client-secret-value"
TOKEN_PREFIX = "tok-very-secret-"
API = "https://api.test"
AUTH = "https://auth.test"

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Monotonic and wall clocks that only move when the code under test sleeps (or we say so)."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t - 1000.0)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


class FakeApi:
    """Answers the token endpoint itself and hands API requests to ``handler``."""

    def __init__(self, handler: Handler, *, expires_in: int = 3600) -> None:
        self.handler = handler
        self.expires_in = expires_in
        self.token_requests: list[httpx.Request] = []
        self.api_requests: list[httpx.Request] = []
        self.token_answers: list[httpx.Response] = []  # scripted answers, before real tokens
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            with self._lock:
                self.token_requests.append(request)
                number = len(self.token_requests)
            if self.token_answers:
                return self.token_answers.pop(0)
            return httpx.Response(
                200,
                json={
                    "access_token": f"{TOKEN_PREFIX}{number}",
                    "expires_in": self.expires_in,
                    "scope": "manage_orders:proj",
                    "token_type": "Bearer",
                },
            )
        with self._lock:
            self.api_requests.append(request)
        return self.handler(request)


def make_config(**overrides: Any) -> CommercetoolsConfig:
    settings: dict[str, Any] = {
        "project_key": "proj",
        "client_id": "client-id",
        "client_secret": SECRET,
        "api_url": API,
        "auth_url": AUTH,
        "scopes": ("manage_orders:proj",),
        "retry": RetryPolicy(max_attempts=4, backoff_base=1.0, backoff_cap=8.0, jitter=0.0),
    }
    settings.update(overrides)
    return CommercetoolsConfig(**settings)


def make_client(
    handler: Handler, clock: FakeClock | None = None, **config: Any
) -> tuple[CommercetoolsClient, FakeApi, FakeClock]:
    clock = clock or FakeClock()
    api = FakeApi(handler)
    ids = iter(range(1, 10_000))
    client = CommercetoolsClient(
        make_config(**config),
        transport=httpx.MockTransport(api),
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        now=clock.now,
        random=lambda: 0.5,
        correlation_id_factory=lambda: f"cid-{next(ids)}",
    )
    return client, api, clock


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"ok": True, "path": request.url.path})


def error(status: int, code: str, **fields: Any) -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "statusCode": status,
            "message": "The customer jane@example.com is taken",
            "errors": [{"code": code, "message": "jane@example.com", **fields}],
        },
    )


def bearer(request: httpx.Request) -> str:
    return request.headers["Authorization"].removeprefix("Bearer ")


def test_a_token_is_fetched_once_and_reused_for_later_requests() -> None:
    client, api, _ = make_client(ok)
    for _ in range(5):
        client.request("GET", "/orders")
    assert len(api.token_requests) == 1
    assert {bearer(r) for r in api.api_requests} == {f"{TOKEN_PREFIX}1"}


def test_the_token_request_uses_basic_auth_the_client_credentials_grant_and_the_scopes() -> None:
    client, api, _ = make_client(ok, scopes=("manage_orders:proj", "view_products:proj"))
    client.request("GET", "/orders")
    (request,) = api.token_requests
    assert str(request.url) == f"{AUTH}/oauth/token"
    expected = base64.b64encode(f"client-id:{SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    form = parse_qs(request.content.decode())
    assert form == {
        "grant_type": ["client_credentials"],
        "scope": ["manage_orders:proj view_products:proj"],
    }


def test_the_token_is_refreshed_shortly_before_it_expires() -> None:
    client, api, clock = make_client(ok, token_refresh_margin=300)
    client.request("GET", "/orders")
    clock.t += 3600 - 301
    client.request("GET", "/orders")
    assert len(api.token_requests) == 1
    clock.t += 2
    client.request("GET", "/orders")
    assert len(api.token_requests) == 2
    assert bearer(api.api_requests[-1]) == f"{TOKEN_PREFIX}2"


def test_a_401_fetches_a_new_token_and_tries_once_more() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if bearer(request) == f"{TOKEN_PREFIX}1":
            return error(401, "invalid_token")
        return ok(request)

    client, api, _ = make_client(handler)
    assert client.request("GET", "/orders")["ok"] is True
    assert len(api.token_requests) == 2
    assert [bearer(r) for r in api.api_requests] == [f"{TOKEN_PREFIX}1", f"{TOKEN_PREFIX}2"]


def test_a_second_401_in_a_row_is_an_authentication_error_without_more_refreshes() -> None:
    client, api, _ = make_client(lambda r: error(401, "invalid_token"))
    with pytest.raises(AuthenticationError) as caught:
        client.request("GET", "/orders")
    assert caught.value.status_code == 401
    assert len(api.token_requests) == 2
    assert len(api.api_requests) == 2


def test_refused_client_credentials_are_an_authentication_error_that_names_what_to_check() -> None:
    client, api, _ = make_client(ok)
    api.token_answers = [
        httpx.Response(401, json={"statusCode": 401, "error": "invalid_client", "message": "bad"})
    ]
    with pytest.raises(AuthenticationError) as caught:
        client.request("GET", "/orders")
    assert caught.value.codes == ("invalid_client",)
    assert "client_secret" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert api.api_requests == []


def test_one_token_is_fetched_for_many_threads_sharing_the_client() -> None:
    client, api, _ = make_client(ok)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: client.request("GET", "/orders"), range(64)))
    assert len(results) == 64
    assert len(api.token_requests) == 1


def test_a_429_waits_the_seconds_retry_after_asks_for_then_succeeds() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}), None])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers) or ok(request)

    client, api, clock = make_client(handler)
    assert client.request("GET", "/orders")["ok"] is True
    assert clock.sleeps == [7.0]
    assert len(api.api_requests) == 2


def test_a_429_with_an_http_date_waits_until_that_date() -> None:
    clock = FakeClock()
    when = (clock.now() + timedelta(seconds=12)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    answers = iter([httpx.Response(429, headers={"Retry-After": when}), None])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers) or ok(request)

    client, _, _ = make_client(handler, clock)
    client.request("GET", "/orders")
    assert clock.sleeps == [12.0]


def test_a_retry_after_longer_than_the_policy_allows_is_raised_with_its_value() -> None:
    client, api, clock = make_client(
        lambda r: httpx.Response(429, headers={"Retry-After": "600"}),
        retry=RetryPolicy(max_retry_after=60),
    )
    with pytest.raises(RateLimitedError) as caught:
        client.request("GET", "/orders")
    assert caught.value.retry_after == 600.0
    assert clock.sleeps == []
    assert len(api.api_requests) == 1


def test_server_errors_are_retried_with_capped_exponential_backoff_up_to_max_attempts() -> None:
    client, api, clock = make_client(
        lambda r: httpx.Response(503),
        retry=RetryPolicy(max_attempts=6, backoff_base=1.0, backoff_cap=5.0, jitter=0.0),
    )
    with pytest.raises(ServiceUnavailableError) as caught:
        client.request("GET", "/orders")
    assert caught.value.status_code == 503
    assert len(api.api_requests) == 6
    assert clock.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]


@pytest.mark.parametrize(
    ("status", "code", "raised"),
    [
        (400, "InvalidInput", ValidationError),
        (403, "insufficient_scope", AuthenticationError),
        (404, "ResourceNotFound", NotFoundError),
        (409, "ConcurrentModification", ConcurrentModificationError),
    ],
)
def test_client_errors_are_not_retried(status: int, code: str, raised: type[Exception]) -> None:
    client, api, clock = make_client(lambda r: error(status, code))
    with pytest.raises(raised):
        client.request("GET", "/orders/x")
    assert len(api.api_requests) == 1
    assert clock.sleeps == []


def test_a_409_carries_the_current_version_the_api_reported() -> None:
    client, _, _ = make_client(lambda r: error(409, "ConcurrentModification", currentVersion=42))
    with pytest.raises(ConcurrentModificationError) as caught:
        client.request("POST", "/orders/x", json={"version": 1, "actions": []})
    assert caught.value.current_version == 42


def test_every_request_carries_a_correlation_id_kept_across_retries_and_put_on_errors() -> None:
    client, api, _ = make_client(lambda r: httpx.Response(503))
    with pytest.raises(ServiceUnavailableError) as caught:
        client.request("GET", "/orders")
    ids = {r.headers["X-Correlation-ID"] for r in api.api_requests}
    assert ids == {"cid-1"}
    assert api.token_requests[0].headers["X-Correlation-ID"] == "cid-2"
    assert caught.value.correlation_id == "cid-1"
    assert "cid-1" in str(caught.value)


def test_generated_correlation_ids_start_with_the_configured_prefix_and_differ() -> None:
    api = FakeApi(ok)
    client = CommercetoolsClient(
        make_config(correlation_id_prefix="shop-sync-"), transport=httpx.MockTransport(api)
    )
    client.request("GET", "/a")
    client.request("GET", "/b")
    ids = [r.headers["X-Correlation-ID"] for r in api.api_requests]
    assert all(i.startswith("shop-sync-") for i in ids)
    assert ids[0] != ids[1]


def test_the_correlation_id_is_logged_as_an_extra_field(caplog: pytest.LogCaptureFixture) -> None:
    client, _, _ = make_client(ok)
    with caplog.at_level(logging.DEBUG, logger="ct_prima_sync.commercetools"):
        client.request("GET", "/orders")
    records = [r for r in caplog.records if getattr(r, "path", None) == "/proj/orders"]
    assert records
    assert records[0].correlation_id == "cid-1"  # type: ignore[attr-defined]
    assert records[0].status_code == 200  # type: ignore[attr-defined]


def test_secrets_tokens_and_query_values_stay_out_of_logs_reprs_and_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if len(api.api_requests) < 3:
            return httpx.Response(503)
        return error(400, "DuplicateField", duplicateValue="jane@example.com")

    client, api, _ = make_client(handler)
    with caplog.at_level(logging.DEBUG), pytest.raises(ValidationError) as caught:
        client.request(
            "GET",
            "/customers",
            params=[("where", "email = :e"), ("var.e", "jane@example.com")],
        )
    shown = " ".join(
        [caplog.text, repr(client), repr(client.config), str(caught.value), repr(caught.value)]
        + [repr(r.__dict__) for r in caplog.records]
    )
    assert SECRET not in shown
    assert TOKEN_PREFIX not in shown
    assert "jane@example.com" not in shown
    assert "jane%40example.com" not in shown


def test_an_update_that_timed_out_after_sending_is_surfaced_not_resent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    client, api, _ = make_client(handler)
    with pytest.raises(CommercetoolsTransportError) as caught:
        client.request("POST", "/orders/x", json={"version": 1, "actions": []})
    assert len(api.api_requests) == 1
    assert "may have been applied" in str(caught.value)
    assert caught.value.correlation_id == "cid-1"


def test_an_update_that_timed_out_is_resent_when_the_caller_opts_in() -> None:
    calls = iter([True, False])

    def handler(request: httpx.Request) -> httpx.Response:
        if next(calls):
            raise httpx.ReadTimeout("timed out", request=request)
        return ok(request)

    client, api, _ = make_client(handler)
    client.request("POST", "/orders/x", json={}, retry_ambiguous=True)
    assert len(api.api_requests) == 2


def test_a_read_timeout_on_a_get_is_retried() -> None:
    calls = iter([True, True, False])

    def handler(request: httpx.Request) -> httpx.Response:
        if next(calls):
            raise httpx.ReadTimeout("timed out", request=request)
        return ok(request)

    client, api, clock = make_client(handler)
    assert client.request("GET", "/orders")["ok"] is True
    assert len(api.api_requests) == 3
    assert clock.sleeps == [1.0, 2.0]


def test_a_refused_connection_is_retried_even_for_an_update() -> None:
    calls = iter([True, False])

    def handler(request: httpx.Request) -> httpx.Response:
        if next(calls):
            raise httpx.ConnectError("refused", request=request)
        return ok(request)

    client, api, _ = make_client(handler)
    client.request("POST", "/orders/x", json={})
    assert len(api.api_requests) == 2


def test_a_gateway_timeout_is_retried_for_reads_but_not_for_updates() -> None:
    client, api, _ = make_client(lambda r: httpx.Response(504))
    with pytest.raises(ServiceUnavailableError):
        client.request("POST", "/orders/x", json={})
    assert len(api.api_requests) == 1
    with pytest.raises(ServiceUnavailableError):
        client.request("GET", "/orders/x")
    assert len(api.api_requests) == 1 + 4


def test_connection_failures_that_never_end_become_a_transport_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client, api, _ = make_client(handler)
    with pytest.raises(CommercetoolsTransportError) as caught:
        client.request("GET", "/orders")
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert len(api.api_requests) == 4


def test_requests_go_below_the_project_with_query_parameters_and_json_body() -> None:
    client, api, _ = make_client(ok)
    client.request("GET", "/orders", params=[("where", 'orderNumber = "1"'), ("limit", "2")])
    (request,) = api.api_requests
    assert request.url.path == "/proj/orders"
    assert parse_qs(request.url.query.decode()) == {
        "where": ['orderNumber = "1"'],
        "limit": ["2"],
    }
    assert request.headers["User-Agent"] == "ct-prima-sync"


def test_a_closed_client_refuses_work_and_closing_twice_is_harmless() -> None:
    client, api, _ = make_client(ok)
    client.close()
    client.close()
    assert client.closed
    with pytest.raises(ClientClosedError):
        client.request("GET", "/orders")
    assert api.api_requests == []


def test_the_context_manager_closes_the_client_it_created() -> None:
    client, _, _ = make_client(ok)
    with client as entered:
        entered.request("GET", "/orders")
    assert client.closed
    with pytest.raises(ClientClosedError):
        list(client.orders.query())


def test_a_caller_supplied_http_client_is_left_open_for_its_owner() -> None:
    http = httpx.Client(transport=httpx.MockTransport(FakeApi(ok)))
    with CommercetoolsClient(make_config(), http_client=http) as client:
        client.request("GET", "/orders")
    assert not http.is_closed
    http.close()


def test_giving_both_an_http_client_and_a_transport_is_a_configuration_error() -> None:
    transport = httpx.MockTransport(ok)
    with httpx.Client(transport=transport) as http, pytest.raises(ConfigurationError):
        CommercetoolsClient(make_config(), http_client=http, transport=transport)


def test_an_unreadable_success_body_is_a_payload_error() -> None:
    from ct_prima_sync.errors import PayloadError

    client, _, _ = make_client(lambda r: httpx.Response(200, content=b"<html>"))
    with pytest.raises(PayloadError):
        client.request("GET", "/orders")


def test_json_bodies_are_sent_as_json() -> None:
    client, api, _ = make_client(ok)
    client.request("POST", "/orders/o-1", json={"version": 2, "actions": []})
    (request,) = api.api_requests
    assert json.loads(request.content) == {"version": 2, "actions": []}
    assert request.headers["Content-Type"] == "application/json"


def test_an_unavailable_token_endpoint_is_retried_like_any_read() -> None:
    client, api, clock = make_client(ok)
    api.token_answers = [httpx.Response(503), httpx.Response(429, headers={"Retry-After": "3"})]
    assert client.request("GET", "/orders")["ok"] is True
    assert len(api.token_requests) == 3
    assert clock.sleeps == [1.0, 3.0]


def test_a_query_string_in_the_path_is_refused_so_it_cannot_reach_the_logs() -> None:
    client, api, _ = make_client(ok)
    with pytest.raises(ConfigurationError, match="params"):
        client.request("GET", "/customers?where=email%3D%22jane%40example.com%22")
    assert api.api_requests == []


def test_a_cookie_set_by_the_api_is_never_sent_back() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"cookie": request.headers.get("Cookie")},
                              headers={"Set-Cookie": "session=abc; Path=/"})  # fmt: skip

    client, _, _ = make_client(handler)
    assert client.request("GET", "/orders/o-1") == {"cookie": None}
    assert client.request("GET", "/orders/o-1") == {"cookie": None}
