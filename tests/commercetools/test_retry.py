"""Retry decisions: which outcomes are retried and how long to wait (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ct_prima_sync.commercetools import RetryPolicy
from ct_prima_sync.commercetools._retry import (
    backoff_delay,
    is_retryable,
    parse_retry_after,
    retry_wait,
)

NOW = datetime(2026, 10, 21, 7, 28, 0, tzinfo=UTC)
REQUEST = httpx.Request("POST", "https://api.test/p/orders/1")


def test_retry_after_in_seconds_is_read_as_seconds() -> None:
    assert parse_retry_after("7", NOW) == 7.0
    assert parse_retry_after(" 0 ", NOW) == 0.0


def test_retry_after_as_an_http_date_is_the_time_until_that_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:30 GMT", NOW) == 30.0


def test_retry_after_in_the_past_means_no_wait() -> None:
    assert parse_retry_after("Wed, 21 Oct 2026 07:00:00 GMT", NOW) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-3", "1.5e3", "Wed, 99 Foo"])
def test_missing_or_unreadable_retry_after_is_none(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None


def test_a_date_retry_after_without_a_clock_is_none() -> None:
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:30 GMT", None) is None


@given(
    retry_number=st.integers(min_value=1, max_value=200),
    random_value=st.floats(min_value=0.0, max_value=0.999999),
    jitter=st.floats(min_value=0.0, max_value=1.0),
)
@example(retry_number=200, random_value=0.999999, jitter=1.0)
def test_backoff_never_exceeds_the_cap_and_stays_within_the_jitter_band(
    retry_number: int, random_value: float, jitter: float
) -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_cap=30.0, jitter=jitter)
    delay = backoff_delay(policy, retry_number, random_value)
    raw = min(30.0, 0.5 * 2 ** (retry_number - 1))
    assert 0.0 <= delay <= 30.0
    assert raw * (1 - jitter) - 1e-9 <= delay <= raw * (1 + jitter) + 1e-9


def test_backoff_doubles_until_the_cap_without_jitter() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_cap=10.0, jitter=0.0)
    assert [backoff_delay(policy, n, 0.3) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


@pytest.mark.parametrize(
    ("status", "for_reads", "for_writes"),
    [
        (429, True, True),
        (503, True, True),
        (502, True, False),
        (504, True, False),
        (500, False, False),
        (400, False, False),
        (401, False, False),
        (403, False, False),
        (404, False, False),
        (409, False, False),
        (200, False, False),
    ],
)
def test_which_statuses_are_retried(status: int, for_reads: bool, for_writes: bool) -> None:
    response = httpx.Response(status)
    assert is_retryable(response, idempotent=True) is for_reads
    assert is_retryable(response, idempotent=False) is for_writes


@pytest.mark.parametrize(
    ("error", "for_writes"),
    [
        (httpx.ConnectError("refused", request=REQUEST), True),
        (httpx.ConnectTimeout("slow", request=REQUEST), True),
        (httpx.PoolTimeout("busy", request=REQUEST), True),
        (httpx.ReadTimeout("slow", request=REQUEST), False),
        (httpx.WriteTimeout("slow", request=REQUEST), False),
        (httpx.RemoteProtocolError("closed", request=REQUEST), False),
        (httpx.ReadError("reset", request=REQUEST), False),
    ],
)
def test_transport_failures_are_retried_for_writes_only_when_nothing_was_sent(
    error: httpx.TransportError, for_writes: bool
) -> None:
    assert is_retryable(error, idempotent=True)
    assert is_retryable(error, idempotent=False) is for_writes


def test_other_exceptions_are_never_retried() -> None:
    assert not is_retryable(ValueError("bug"), idempotent=True)


def test_the_wait_follows_retry_after_when_given_and_gives_up_beyond_the_maximum() -> None:
    policy = RetryPolicy(max_retry_after=60.0, jitter=0.0, backoff_base=1.0)
    asked = httpx.Response(429, headers={"Retry-After": "20"})
    too_long = httpx.Response(503, headers={"Retry-After": "61"})
    plain = httpx.Response(503)
    assert retry_wait(asked, 1, policy, now=NOW, random_value=0.5) == 20.0
    assert retry_wait(too_long, 1, policy, now=NOW, random_value=0.5) is None
    assert retry_wait(plain, 3, policy, now=NOW, random_value=0.5) == 4.0
