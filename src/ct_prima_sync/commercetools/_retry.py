"""When to try a commercetools request again, and how long to wait first.

The decisions are pure functions of the outcome (a response or a transport exception), the retry
number and the policy; :func:`call_with_retries` wires them into tenacity with an injected
``sleep``, wall clock and random source, so tests never wait.

Rules:

1. Retried: connection failures that surely sent nothing (connect errors and timeouts, pool
   timeouts), 429 and 503 for every request.
2. Retried only for idempotent requests (GET, token requests) or when the caller opted in: read
   and write timeouts, broken connections and 502/504, where the request may have reached the API
   and taken effect. A POST that timed out after sending is surfaced instead.
3. Never retried: every other status (400, 401, 403, 404, 409, ...). The 401 refresh is the
   client's job, not this module's.
4. The wait is capped exponential backoff with jitter, or the API's ``Retry-After`` (seconds or an
   HTTP date) when it sent one; a ``Retry-After`` beyond ``max_retry_after`` ends the retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Final

import httpx
import tenacity

from ._config import RetryPolicy

__all__ = [
    "ALWAYS_RETRIED_STATUSES",
    "AMBIGUOUS_RETRIED_STATUSES",
    "backoff_delay",
    "call_with_retries",
    "is_retryable",
    "parse_retry_after",
    "retry_wait",
]

_log = logging.getLogger("ct_prima_sync.commercetools")

ALWAYS_RETRIED_STATUSES: Final = frozenset({429, 503})
AMBIGUOUS_RETRIED_STATUSES: Final = frozenset({502, 504})
# The request never left this process (or never reached a server): always safe to send again.
_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)

Outcome = httpx.Response | BaseException


def parse_retry_after(value: str | None, now: datetime | None) -> float | None:
    """Read a ``Retry-After`` header as seconds to wait (``None`` if absent or unreadable).

    Accepts delta-seconds (``"7"``) and HTTP dates (``"Wed, 21 Oct 2026 07:28:00 GMT"``); a date
    in the past means zero. ``now`` must be timezone-aware; without it a date reads as ``None``.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None or now is None:
        return None
    return max(0.0, (when - now).total_seconds())


def backoff_delay(policy: RetryPolicy, retry_number: int, random_value: float) -> float:
    """Seconds to wait before retry ``retry_number`` (1 for the first retry).

    ``random_value`` in ``[0, 1)`` picks the jitter; the result never exceeds ``backoff_cap``.
    """
    exponent = min(retry_number - 1, 62)
    raw: float = min(policy.backoff_cap, policy.backoff_base * float(2**exponent))
    factor = 1.0 + policy.jitter * (2.0 * random_value - 1.0)
    return max(0.0, min(policy.backoff_cap, raw * factor))


def is_retryable(outcome: Outcome, *, idempotent: bool) -> bool:
    """Whether this outcome is worth another attempt (rules 1 to 3 of the module docstring)."""
    if isinstance(outcome, httpx.Response):
        if outcome.status_code in ALWAYS_RETRIED_STATUSES:
            return True
        return idempotent and outcome.status_code in AMBIGUOUS_RETRIED_STATUSES
    if isinstance(outcome, _NOT_SENT):
        return True
    return idempotent and isinstance(outcome, httpx.TransportError)


def retry_wait(
    outcome: Outcome,
    retry_number: int,
    policy: RetryPolicy,
    *,
    now: datetime,
    random_value: float,
) -> float | None:
    """Seconds to wait before the next attempt; ``None`` when the API asks for too long a wait."""
    if isinstance(outcome, httpx.Response) and outcome.status_code in (429, 503):
        asked = parse_retry_after(outcome.headers.get("Retry-After"), now)
        if asked is not None:
            return asked if asked <= policy.max_retry_after else None
    return backoff_delay(policy, retry_number, random_value)


def _describe(outcome: Outcome) -> str:
    if isinstance(outcome, httpx.Response):
        return f"status {outcome.status_code}"
    # Only the class name: exception texts may quote URLs, and URLs may carry query variables.
    return type(outcome).__name__


def call_with_retries(
    attempt: Callable[[], httpx.Response],
    *,
    policy: RetryPolicy,
    idempotent: bool,
    sleep: Callable[[float], None],
    now: Callable[[], datetime],
    random: Callable[[], float],
    log_extra: dict[str, object],
) -> httpx.Response:
    """Run ``attempt`` until it gives a final outcome; return the last response or raise.

    Returns the last response even when it is a retryable status and the attempts ran out (the
    caller decodes it into a typed error); re-raises the last transport exception likewise.

    The first attempt runs before any retry machinery is built: most requests end there (an
    answer that is no reason to try again), and only the others go on through tenacity, with
    that first outcome as their attempt 1.
    """
    first: Outcome
    try:
        first = attempt()
    except httpx.TransportError as error:
        if not is_retryable(error, idempotent=idempotent):
            raise
        first = error
    else:
        if not is_retryable(first, idempotent=idempotent):
            return first
    replayed = False

    def again() -> httpx.Response:
        nonlocal replayed
        if replayed:
            return attempt()
        replayed = True
        if isinstance(first, BaseException):
            raise first
        return first

    waits: dict[int, float | None] = {}

    def outcome_of(state: tenacity.RetryCallState) -> Outcome:
        assert state.outcome is not None
        if state.outcome.failed:
            error = state.outcome.exception()
            assert error is not None
            return error
        result: httpx.Response = state.outcome.result()
        return result

    def should_retry(state: tenacity.RetryCallState) -> bool:
        outcome = outcome_of(state)
        if not isinstance(outcome, httpx.Response | httpx.TransportError):
            return False
        if not is_retryable(outcome, idempotent=idempotent):
            return False
        wait = retry_wait(outcome, state.attempt_number, policy, now=now(), random_value=random())
        waits[state.attempt_number] = wait
        return wait is not None

    def wait_for(state: tenacity.RetryCallState) -> float:
        return waits.get(state.attempt_number) or 0.0

    def before_sleep(state: tenacity.RetryCallState) -> None:
        _log.warning(
            "commercetools request failed (%s); retrying in %.2f s",
            _describe(outcome_of(state)),
            wait_for(state),
            extra={**log_extra, "attempt": state.attempt_number},
        )

    def give_up(state: tenacity.RetryCallState) -> httpx.Response:
        assert state.outcome is not None
        result: httpx.Response = state.outcome.result()  # re-raises a final exception
        return result

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.max_attempts),
        retry=should_retry,
        wait=wait_for,
        sleep=sleep,
        before_sleep=before_sleep,
        retry_error_callback=give_up,
        reraise=True,
    )
    response: httpx.Response = retrying(again)
    return response
