"""Pure decisions about HTTP answers and retries (no I/O): what an answer means, when to retry.

``classify_transport_error`` and ``classify_status`` turn what httpx saw into the library's
errors, setting ``may_have_been_applied`` by one rule: if the request could have reached Prima,
it may have been applied. ``retry_delay`` says how long to wait before retrying a read-only
request, or None when it should not be retried.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from ..errors import (
    CtPrimaSyncError,
    PrimaProtocolError,
    PrimaRateLimitedError,
    PrimaUnavailableError,
)
from ._config import RetryPolicy

__all__ = ["classify_status", "classify_transport_error", "parse_retry_after", "retry_delay"]


def classify_transport_error(exc: httpx.TransportError, request_type: str) -> PrimaUnavailableError:
    """The error for a request that got no HTTP answer."""
    not_sent = (
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx.PoolTimeout,
        httpx.UnsupportedProtocol,
    )
    if isinstance(exc, not_sent):
        return PrimaUnavailableError(
            f"could not connect to Prima for {request_type} ({type(exc).__name__}); not sent",
            may_have_been_applied=False,
        )
    return PrimaUnavailableError(
        f"Prima's answer to {request_type} was lost ({type(exc).__name__}); it may have been "
        "applied: check before sending it again",
        may_have_been_applied=True,
    )


def parse_retry_after(value: str | None, now: Callable[[], datetime] | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now() if now is not None else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def classify_status(response: httpx.Response, request_type: str) -> CtPrimaSyncError | None:
    """The error an HTTP status means (None for 2xx; SOAP faults are read by the caller)."""
    status = response.status_code
    if status < 300:
        return None
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 429:
        return PrimaRateLimitedError(
            f"Prima (or a gateway) rate-limited {request_type} (HTTP 429); not applied",
            may_have_been_applied=False,
            retry_after=retry_after,
        )
    if status == 503 and retry_after is not None:
        return PrimaRateLimitedError(
            f"Prima answered {request_type} with HTTP 503 (Retry-After); it may have been applied",
            may_have_been_applied=True,
            retry_after=retry_after,
        )
    if status == 408:
        return PrimaUnavailableError(
            f"Prima timed out reading {request_type} (HTTP 408); not applied",
            may_have_been_applied=False,
        )
    if status >= 500:
        return PrimaUnavailableError(
            f"Prima answered {request_type} with HTTP {status}; it may have been applied: check "
            "before sending it again",
            may_have_been_applied=True,
        )
    return PrimaProtocolError(
        f"Prima answered {request_type} with HTTP {status}: check the endpoint and credentials"
    )


def retry_delay(
    exc: BaseException, attempt: int, policy: RetryPolicy, random: Callable[[], float]
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1`` of a read-only request, or None to stop."""
    if attempt >= policy.attempts or not isinstance(exc, PrimaUnavailableError):
        return None
    if isinstance(exc, PrimaRateLimitedError) and exc.retry_after is not None:
        if exc.retry_after > policy.max_retry_after:
            return None
        return exc.retry_after
    backoff = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
    jitter: float = random()
    return float(backoff * (0.5 + jitter / 2))
