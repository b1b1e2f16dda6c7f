"""The token provider: caching, early refresh, invalidation after a 401, thread safety."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ct_prima_sync.commercetools._auth import TokenProvider, parse_token_response
from ct_prima_sync.errors import (
    AuthenticationError,
    PayloadError,
    ServiceUnavailableError,
    ValidationError,
)


class TokenEndpoint:
    def __init__(self, expires_in: int = 3600) -> None:
        self.expires_in = expires_in
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self) -> dict[str, Any]:
        with self.lock:
            self.calls += 1
            number = self.calls
        return {"access_token": f"token-{number}", "expires_in": self.expires_in,
                "token_type": "Bearer", "scope": "view_orders:p manage_orders:p"}  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_the_token_is_cached_until_the_refresh_margin_before_expiry() -> None:
    endpoint, clock = TokenEndpoint(expires_in=3600), Clock()
    provider = TokenProvider(endpoint, clock=clock, margin=300)
    assert provider.token() == "token-1"
    clock.t = 3299
    assert provider.token() == "token-1"
    clock.t = 3300
    assert provider.token() == "token-2"
    assert endpoint.calls == 2


def test_short_lived_tokens_are_refreshed_at_half_their_life_not_on_every_call() -> None:
    endpoint, clock = TokenEndpoint(expires_in=60), Clock()
    provider = TokenProvider(endpoint, clock=clock, margin=300)
    provider.token()
    clock.t = 29
    provider.token()
    assert endpoint.calls == 1
    clock.t = 30
    provider.token()
    assert endpoint.calls == 2


def test_invalidating_the_current_token_forces_a_new_one_but_a_stale_value_is_ignored() -> None:
    endpoint = TokenEndpoint()
    provider = TokenProvider(endpoint, clock=Clock(), margin=0)
    first = provider.token()
    provider.invalidate(first)
    second = provider.token()
    assert second != first
    provider.invalidate(first)  # another thread's late 401 for the old token
    assert provider.token() == second
    assert endpoint.calls == 2


def test_threads_asking_at_once_share_one_token_request() -> None:
    endpoint = TokenEndpoint()
    provider = TokenProvider(endpoint, clock=Clock(), margin=0)
    with ThreadPoolExecutor(max_workers=16) as pool:
        tokens = set(pool.map(lambda _: provider.token(), range(200)))
    assert tokens == {"token-1"}
    assert endpoint.calls == 1


def test_a_refusal_by_the_token_endpoint_is_an_authentication_error() -> None:
    def refuse() -> Any:
        raise ValidationError("400", status_code=400, codes=("invalid_scope",), correlation_id="c")

    provider = TokenProvider(refuse, clock=Clock(), margin=0)
    with pytest.raises(AuthenticationError) as caught:
        provider.token()
    assert caught.value.codes == ("invalid_scope",)
    assert caught.value.correlation_id == "c"
    assert "scopes" in str(caught.value)


def test_an_unavailable_token_endpoint_is_not_mistaken_for_bad_credentials() -> None:
    def down() -> Any:
        raise ServiceUnavailableError("503", status_code=503)

    with pytest.raises(ServiceUnavailableError):
        TokenProvider(down, clock=Clock(), margin=0).token()


def test_the_provider_repr_shows_no_token() -> None:
    provider = TokenProvider(TokenEndpoint(), clock=Clock(), margin=0)
    provider.token()
    assert "token-1" not in repr(provider)


def test_token_values_stay_out_of_the_parsed_token_repr() -> None:
    token = parse_token_response(
        {"access_token": "abc-secret", "expires_in": 100, "scope": "a b"}, now=10, margin=5
    )
    assert token.refresh_at == 105
    assert token.scopes == ("a", "b")
    assert "abc-secret" not in repr(token)


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"expires_in": 10},
        {"access_token": "", "expires_in": 10},
        {"access_token": "x", "expires_in": 0},
        {"access_token": "x", "expires_in": "10"},
        {"access_token": "x", "expires_in": 10, "token_type": "mac"},
    ],
)
def test_a_malformed_token_reply_is_a_payload_error(data: object) -> None:
    with pytest.raises(PayloadError):
        parse_token_response(data, now=0, margin=0)
