"""Retry decisions and HTTP classification are pure: what each answer means, how long to wait."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ct_prima_sync.errors import (
    PrimaProtocolError,
    PrimaRateLimitedError,
    PrimaRejectedError,
    PrimaUnavailableError,
)
from ct_prima_sync.prima import RetryPolicy
from ct_prima_sync.prima._retry import (
    classify_status,
    classify_transport_error,
    parse_retry_after,
    retry_delay,
)


@given(
    attempt=st.integers(1, 20),
    jitter=st.floats(0, 1, exclude_max=True),
    base=st.sampled_from([0.1, 0.5, 2.0]),
)
def test_backoff_grows_stays_bounded_and_stops_after_the_last_attempt(
    attempt: int, jitter: float, base: float
) -> None:
    policy = RetryPolicy(attempts=10, base_delay=base, max_delay=30.0)
    exc = PrimaUnavailableError("x", may_have_been_applied=False)
    delay = retry_delay(exc, attempt, policy, lambda: jitter)
    if attempt >= policy.attempts:
        assert delay is None
    else:
        assert delay is not None
        full = min(policy.max_delay, base * 2 ** (attempt - 1))
        assert full / 2 <= delay <= full


def test_only_unavailable_errors_are_retried() -> None:
    policy = RetryPolicy()
    for exc in (PrimaRejectedError("no"), PrimaProtocolError("bad"), ValueError("x")):
        assert retry_delay(exc, 1, policy, lambda: 0.5) is None


def test_retry_after_is_used_as_is_up_to_the_cap() -> None:
    policy = RetryPolicy(max_retry_after=60)
    soon = PrimaRateLimitedError("x", may_have_been_applied=False, retry_after=12)
    late = PrimaRateLimitedError("x", may_have_been_applied=False, retry_after=61)
    assert retry_delay(soon, 1, policy, lambda: 0.0) == 12
    assert retry_delay(late, 1, policy, lambda: 0.0) is None


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:45 GMT", lambda: now) == 45.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", lambda: now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("status", "kind", "applied"),
    [
        (429, PrimaRateLimitedError, False),
        (408, PrimaUnavailableError, False),
        (500, PrimaUnavailableError, True),
        (502, PrimaUnavailableError, True),
        (503, PrimaUnavailableError, True),
        (404, PrimaProtocolError, None),
        (401, PrimaProtocolError, None),
    ],
)
def test_each_http_status_has_one_meaning(
    status: int, kind: type[Exception], applied: bool | None
) -> None:
    error = classify_status(httpx.Response(status), "OrderStatus")
    assert type(error) is kind
    if applied is not None:
        assert isinstance(error, PrimaUnavailableError)
        assert error.may_have_been_applied is applied
    assert classify_status(httpx.Response(200), "OrderStatus") is None


@pytest.mark.parametrize(
    ("exc", "applied"),
    [
        (httpx.ConnectError("refused"), False),
        (httpx.ConnectTimeout("slow connect"), False),
        (httpx.PoolTimeout("no connection"), False),
        (httpx.ReadTimeout("slow"), True),
        (httpx.WriteTimeout("slow write"), True),
        (httpx.ReadError("reset"), True),
        (httpx.WriteError("reset"), True),
        (httpx.RemoteProtocolError("closed"), True),
    ],
)
def test_transport_failures_say_whether_the_request_may_have_been_applied(
    exc: httpx.TransportError, applied: bool
) -> None:
    assert classify_transport_error(exc, "MultiNewOrder").may_have_been_applied is applied
