"""Fault injection shared by FakePrima and PrimaEmulator: scripted or seeded-random.

A :class:`PrimaFaultPlan` answers one question per request: "which fault, if any, hits this
one?". It checks, in this order: faults pinned to the Nth request of a kind
(:meth:`PrimaFaultPlan.on_nth`), queued faults for the request's kind, queued faults for any kind
(:meth:`PrimaFaultPlan.script`), then the seeded random faults (:meth:`PrimaFaultPlan.random`).
The same seed and the same sequence of requests give the same faults. Every fault that fired is
kept in :attr:`PrimaFaultPlan.fired`.
"""

from __future__ import annotations

import enum
import random
import threading
from collections import deque
from collections.abc import Mapping

from attrs import field, frozen

from ...errors import (
    ConfigurationError,
    PrimaProtocolError,
    PrimaRateLimitedError,
    PrimaRejectedError,
    PrimaUnavailableError,
)
from ...prima._error_codes import parse_error_codes, short_error_text
from ._requests import PrimaRequestKind

__all__ = ["DEFAULT_LATENCY", "FiredPrimaFault", "PrimaFault", "PrimaFaultKind", "PrimaFaultPlan"]

DEFAULT_LATENCY = 0.5
"""Seconds of latency a random LATENCY fault given by kind alone adds."""


class PrimaFaultKind(enum.StrEnum):
    """What can go wrong between a client and Prima."""

    LATENCY = "latency"
    """The reply comes late (through the injected sleep); the request succeeds."""
    SERVER_ERROR = "server_error"
    """An HTTP 5xx answer instead of a reply."""
    TIMEOUT = "timeout"
    """No reply before the client's read timeout."""
    CONNECTION_RESET = "connection_reset"
    """The connection drops: before the request is sent, or after it was applied."""
    REPLY_LOST = "reply_lost"
    """Prima applied the request, then the reply was lost (the connection dropped)."""
    ERROR_REPLY = "error_reply"
    """``RequestStatus="ERROR"``: a business rejection."""
    RATE_LIMITED = "rate_limited"
    """HTTP 429 with ``Retry-After``."""
    TRUNCATED_XML = "truncated_xml"
    """A reply cut off mid-document."""
    WRONG_ROOT = "wrong_root"
    """Well-formed XML that is not an omlink reply."""
    BILLION_LAUGHS = "billion_laughs"
    """A reply declaring exponentially expanding entities."""
    EXTERNAL_ENTITY = "external_entity"
    """A reply referencing an external entity (a local file)."""

    @property
    def is_hostile_reply(self) -> bool:
        """True for the malformed and hostile XML replies (the emulator sends them as bodies)."""
        return self in _BAD_REPLIES


_BAD_REPLIES = frozenset(
    {
        PrimaFaultKind.TRUNCATED_XML,
        PrimaFaultKind.WRONG_ROOT,
        PrimaFaultKind.BILLION_LAUGHS,
        PrimaFaultKind.EXTERNAL_ENTITY,
    }
)
# Faults that hit after Prima applied the request, unless the script says otherwise.
_APPLIED_BY_DEFAULT = frozenset({PrimaFaultKind.LATENCY, PrimaFaultKind.REPLY_LOST})
_NEVER_APPLIED = frozenset({PrimaFaultKind.ERROR_REPLY, PrimaFaultKind.RATE_LIMITED})


@frozen(kw_only=True)
class PrimaFault:
    """One injected fault.

    ``applied`` says whether Prima's state changes before the fault hits (None: the kind's default,
    True only for latency and "reply lost"). ``delay`` is the latency in seconds (also for any other
    fault: the sleep happens first); ``status`` the HTTP status of a server error;
    ``retry_after`` the seconds a 429 asks for; ``message`` the RequestError text of an ERROR reply.
    ``in_reply`` puts a malformed or hostile document inside a well-formed SOAP envelope, as the
    reply string, instead of sending it as the HTTP body (the emulator only).
    """

    kind: PrimaFaultKind
    applied: bool | None = None
    delay: float = 0.0
    status: int = 503
    retry_after: int = 1
    message: str = "simulated rejection"
    in_reply: bool = False

    def __attrs_post_init__(self) -> None:
        if self.applied and self.kind in _NEVER_APPLIED:
            raise ConfigurationError(f"a {self.kind.value} fault never applies the request")
        if self.kind is PrimaFaultKind.REPLY_LOST and self.applied is False:
            raise ConfigurationError("a reply_lost fault always applies the request first")
        if self.delay < 0 or self.retry_after < 0:
            raise ConfigurationError("delay and retry_after cannot be negative")
        if not 500 <= self.status <= 599:
            raise ConfigurationError("a server error's status must be 5xx")

    @property
    def applies_request(self) -> bool:
        """Whether the request changes (or reads) Prima's state before the fault hits."""
        if self.applied is None:
            return self.kind in _APPLIED_BY_DEFAULT
        return self.applied

    @property
    def may_have_been_applied(self) -> bool:
        """What a client can tell: False only when the request surely had no effect."""
        if self.kind is PrimaFaultKind.CONNECTION_RESET:
            return self.applies_request
        # A 5xx may come after the work was done, whatever its code: the client cannot tell.
        return self.kind in {
            PrimaFaultKind.SERVER_ERROR,
            PrimaFaultKind.TIMEOUT,
            PrimaFaultKind.REPLY_LOST,
        }

    def as_gateway_error(self, request_type: str, *, write: bool = False) -> Exception | None:
        """The exception the omlink client raises for this fault (None for pure latency).

        An unreadable answer to a write (``write``) leaves its effect unknown, so it is
        "unavailable, may have been applied" rather than a protocol error.
        """
        kind = self.kind
        if kind is PrimaFaultKind.LATENCY:
            return None
        if kind is PrimaFaultKind.ERROR_REPLY:
            return PrimaRejectedError(
                short_error_text(self.message),
                request_type=request_type,
                codes=parse_error_codes(self.message),
                raw_error=self.message,
            )
        if kind.is_hostile_reply and write:
            return PrimaUnavailableError(
                f"{request_type}: simulated {kind.value} reply was unreadable; it may have been "
                "applied",
                may_have_been_applied=True,
            )
        if kind.is_hostile_reply:
            return PrimaProtocolError(f"{request_type}: simulated {kind.value} reply refused")
        if kind is PrimaFaultKind.RATE_LIMITED:
            return PrimaRateLimitedError(
                f"{request_type}: rate limited (HTTP 429); not applied",
                may_have_been_applied=False,
                retry_after=float(self.retry_after),
            )
        what = f"HTTP {self.status}" if kind is PrimaFaultKind.SERVER_ERROR else kind.value
        return PrimaUnavailableError(
            f"{request_type}: simulated {what}", may_have_been_applied=self.may_have_been_applied
        )


def _default_fault(kind: PrimaFaultKind) -> PrimaFault:
    delay = DEFAULT_LATENCY if kind is PrimaFaultKind.LATENCY else 0.0
    return PrimaFault(kind=kind, delay=delay)


@frozen(kw_only=True)
class FiredPrimaFault:
    """A fault that hit a request: the request's kind, its number within that kind, the fault."""

    kind: PrimaRequestKind
    nth: int
    fault: PrimaFault


@frozen(kw_only=True)
class _RandomFaults:
    rng: random.Random = field(eq=False)
    weighted: tuple[tuple[PrimaFault, float], ...]
    kinds: frozenset[PrimaRequestKind] | None


class PrimaFaultPlan:
    """Which faults hit which requests; thread-safe, shared by a fake or an emulator.

    >>> plan = PrimaFaultPlan()
    >>> plan.on_nth(PrimaRequestKind.SUBMIT_ORDERS, 2, PrimaFault(kind=PrimaFaultKind.REPLY_LOST))
    >>> plan.script(PrimaRequestKind.ORDER_STATUS, PrimaFault(kind=PrimaFaultKind.TIMEOUT))
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[PrimaRequestKind, int] = {}
        self._nth: dict[tuple[PrimaRequestKind, int], PrimaFault] = {}
        self._queues: dict[PrimaRequestKind | None, deque[PrimaFault]] = {}
        self._random: _RandomFaults | None = None
        self.fired: list[FiredPrimaFault] = []

    def script(self, kind: PrimaRequestKind | None, *faults: PrimaFault) -> None:
        """Queue faults for the next requests of ``kind`` (None: of any kind), one per request."""
        with self._lock:
            self._queues.setdefault(kind, deque()).extend(faults)

    def on_nth(self, kind: PrimaRequestKind, nth: int, fault: PrimaFault) -> None:
        """Hit the ``nth`` request of ``kind`` (1-based, counted from this plan's creation)."""
        if nth < 1:
            raise ConfigurationError("nth counts from 1")
        with self._lock:
            self._nth[(kind, nth)] = fault

    def random(
        self,
        seed: int,
        probabilities: Mapping[PrimaFaultKind | PrimaFault, float],
        *,
        kinds: frozenset[PrimaRequestKind] | None = None,
    ) -> None:
        """Hit requests at random, reproducibly: each fault (or kind, with defaults) at its rate.

        Rates are per request and must sum to at most 1; ``kinds`` limits the requests affected.
        """
        weighted = tuple(
            (key if isinstance(key, PrimaFault) else _default_fault(key), rate)
            for key, rate in probabilities.items()
        )
        if any(rate < 0 for _, rate in weighted) or sum(rate for _, rate in weighted) > 1:
            raise ConfigurationError("fault probabilities must be >= 0 and sum to at most 1")
        with self._lock:
            self._random = _RandomFaults(rng=random.Random(seed), weighted=weighted, kinds=kinds)

    def clear(self) -> None:
        """Drop every scripted and random fault (the counts and the fired log stay)."""
        with self._lock:
            self._nth.clear()
            self._queues.clear()
            self._random = None

    def next_fault(self, kind: PrimaRequestKind) -> PrimaFault | None:
        """Count a request of ``kind`` and return the fault that hits it, if any."""
        with self._lock:
            nth = self._counts.get(kind, 0) + 1
            self._counts[kind] = nth
            fault = self._pick(kind, nth)
            if fault is not None:
                self.fired.append(FiredPrimaFault(kind=kind, nth=nth, fault=fault))
            return fault

    def _pick(self, kind: PrimaRequestKind, nth: int) -> PrimaFault | None:
        pinned = self._nth.pop((kind, nth), None)
        if pinned is not None:
            return pinned
        for key in (kind, None):
            queue = self._queues.get(key)
            if queue:
                return queue.popleft()
        chance = self._random
        if chance is None or (chance.kinds is not None and kind not in chance.kinds):
            return None
        draw = chance.rng.random()
        for fault, rate in chance.weighted:
            if draw < rate:
                return fault
            draw -= rate
        return None

    def count(self, kind: PrimaRequestKind) -> int:
        """How many requests of ``kind`` the plan has seen."""
        with self._lock:
            return self._counts.get(kind, 0)
