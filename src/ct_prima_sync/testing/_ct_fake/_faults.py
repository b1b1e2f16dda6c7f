"""Scripted and seeded-random faults, and the transport wrapper that raises connection errors.

A fault matches requests by method and by a regular expression searched in the URL path. It
lets the first ``skip`` matching requests through, then fires ``times`` times (``None``: for
ever). Connection faults (``connect_error``, ``read_timeout``) are raised by the transport from
:meth:`FakeCommercetools.transport`; the others are answered by the fake itself, so they work
over HTTP too.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Collection
from typing import Literal

import httpx
from attrs import field, frozen

__all__ = [
    "CommercetoolsFault",
    "CommercetoolsFaultKind",
    "CommercetoolsFaultScript",
    "FaultingTransport",
    "FiredCommercetoolsFault",
]

CommercetoolsFaultKind = Literal[
    "status", "rate_limit", "conflict", "latency", "connect_error", "read_timeout"
]
TRANSPORT_KINDS: frozenset[str] = frozenset({"connect_error", "read_timeout"})


@frozen(kw_only=True)
class CommercetoolsFault:
    """One scripted fault.

    ``status`` is the answer of a ``status`` fault; ``retry_after`` the ``Retry-After`` seconds
    of a ``rate_limit`` (429) fault; ``delay`` the seconds a ``latency`` fault sleeps (through the
    fake's injectable sleep); ``after_send`` makes a connection fault hit after the fake has
    handled the request, so the change is made but the answer is lost.
    """

    kind: CommercetoolsFaultKind
    method: str | None = None
    path: str | None = None
    times: int | None = 1
    skip: int = 0
    status: int = 503
    retry_after: int | None = None
    delay: float = 0.0
    after_send: bool = False
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_pattern", re.compile(self.path) if self.path else None)

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request (ignoring its remaining count)."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self._pattern is None or self._pattern.search(path) is not None


@frozen(kw_only=True)
class FiredCommercetoolsFault:
    """A fault that fired: which one (``fault``; a random one is a fault of its kind with
    ``times=None``) and the request it hit (method and path)."""

    fault: CommercetoolsFault
    method: str
    path: str

    @property
    def kind(self) -> CommercetoolsFaultKind:
        """The fault's kind."""
        return self.fault.kind


class _Armed:
    def __init__(self, fault: CommercetoolsFault) -> None:
        self.fault = fault
        self.seen = 0
        self.fired = 0


class CommercetoolsFaultScript:
    """The faults a fake will inject, in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []
        self._random: random.Random | None = None
        self._probability = 0.0
        self._random_kinds: tuple[CommercetoolsFaultKind, ...] = ()
        self._fired: list[FiredCommercetoolsFault] = []

    @property
    def fired(self) -> list[FiredCommercetoolsFault]:
        """Every fault that fired so far, oldest first, with the request it hit."""
        with self._lock:
            return list(self._fired)

    def add(self, fault: CommercetoolsFault) -> CommercetoolsFault:
        """Arm ``fault``; returns it."""
        with self._lock:
            self._armed.append(_Armed(fault))
        return fault

    def fail(
        self,
        status: int = 503,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int | None = 1,
        skip: int = 0,
    ) -> CommercetoolsFault:
        """Answer matching requests with ``status`` (5xx or any error) and the API's error body."""
        return self.add(
            CommercetoolsFault(
                kind="status", status=status, method=method, path=path, times=times, skip=skip
            )
        )

    def rate_limit(
        self,
        retry_after: int | None = 1,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int | None = 1,
        skip: int = 0,
    ) -> CommercetoolsFault:
        """Answer 429 with ``Retry-After: retry_after`` (omitted when None)."""
        return self.add(
            CommercetoolsFault(
                kind="rate_limit",
                status=429,
                retry_after=retry_after,
                method=method,
                path=path,
                times=times,
                skip=skip,
            )
        )

    def conflict(
        self, *, path: str | None = None, times: int | None = 1, skip: int = 0
    ) -> CommercetoolsFault:
        """A 409 storm: updates answer ``ConcurrentModification`` with the true current version."""
        return self.add(
            CommercetoolsFault(kind="conflict", method="POST", path=path, times=times, skip=skip)
        )

    def latency(
        self,
        seconds: float,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int | None = None,
        skip: int = 0,
    ) -> CommercetoolsFault:
        """Delay matching requests by ``seconds`` through the fake's sleep function."""
        return self.add(
            CommercetoolsFault(
                kind="latency", delay=seconds, method=method, path=path, times=times, skip=skip
            )
        )

    def connect_error(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int | None = 1,
        skip: int = 0,
    ) -> CommercetoolsFault:
        """Raise :class:`httpx.ConnectError` before the request reaches the fake."""
        return self.add(
            CommercetoolsFault(
                kind="connect_error", method=method, path=path, times=times, skip=skip
            )
        )

    def read_timeout(
        self,
        *,
        after_send: bool = True,
        method: str | None = None,
        path: str | None = None,
        times: int | None = 1,
        skip: int = 0,
    ) -> CommercetoolsFault:
        """Raise :class:`httpx.ReadTimeout`; by default after the fake applied the request."""
        return self.add(
            CommercetoolsFault(
                kind="read_timeout",
                after_send=after_send,
                method=method,
                path=path,
                times=times,
                skip=skip,
            )
        )

    def randomly(
        self,
        *,
        seed: int,
        probability: float,
        kinds: Collection[CommercetoolsFaultKind] = ("status", "rate_limit", "connect_error"),
    ) -> None:
        """Also inject random faults, repeatably for a given ``seed`` and request sequence.

        Each request meets a fault of one of ``kinds`` with about ``probability``; connection
        kinds are drawn in the transport, the others in the fake, each from the same source.
        """
        with self._lock:
            self._random = random.Random(seed)
            self._probability = probability
            self._random_kinds = tuple(kinds)

    def clear(self) -> None:
        """Disarm every fault, scripted and random."""
        with self._lock:
            self._armed.clear()
            self._random = None
            self._fired.clear()

    def take(self, method: str, path: str, kinds: Collection[str]) -> CommercetoolsFault | None:
        """The fault (of one of ``kinds``) to apply to this request now, counting it as fired."""
        with self._lock:
            for armed in self._armed:
                fault = armed.fault
                if fault.kind not in kinds or not fault.matches(method, path):
                    continue
                if fault.times is not None and armed.fired >= fault.times:
                    continue
                armed.seen += 1
                if armed.seen <= fault.skip:
                    continue
                armed.fired += 1
                self._fired.append(FiredCommercetoolsFault(fault=fault, method=method, path=path))
                return fault
            eligible = [kind for kind in self._random_kinds if kind in kinds]
            if self._random is not None and eligible:
                roll = self._random.random()
                kind = self._random.choice(eligible)
                if roll < self._probability * len(eligible) / len(self._random_kinds):
                    drawn = CommercetoolsFault(kind=kind, times=None)
                    self._fired.append(
                        FiredCommercetoolsFault(fault=drawn, method=method, path=path)
                    )
                    return drawn
        return None


def connection_error(fault: CommercetoolsFault, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception a connection fault raises."""
    if fault.kind == "read_timeout":
        return httpx.ReadTimeout("Read timed out (scripted by FakeCommercetools).", request=request)
    return httpx.ConnectError("Connection reset (scripted by FakeCommercetools).", request=request)


class FaultingTransport(httpx.BaseTransport):
    """Wraps the in-process transport and raises the scripted connection faults."""

    def __init__(self, inner: httpx.BaseTransport, faults: CommercetoolsFaultScript) -> None:
        self._inner = inner
        self._faults = faults

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` to the fake unless a connection fault says otherwise."""
        fault = self._faults.take(request.method, request.url.path, TRANSPORT_KINDS)
        if fault is not None and not fault.after_send:
            raise connection_error(fault, request)
        response = self._inner.handle_request(request)
        if fault is not None:
            response.read()
            response.close()
            raise connection_error(fault, request)
        return response

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()
