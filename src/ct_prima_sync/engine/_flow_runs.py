"""Each flow's runs in the state store, written through one small API every flow calls, so that
``health`` and the metrics judge every flow the same way and cannot be told a run happened when
it did not.

A flow wraps one pass in :func:`track_flow_run`::

    with track_flow_run(store, "stock", clock=clock) as run:
        ...                              # the pass itself
        run.add({"pushed": 12, "skipped": 3})
        if stopped_early:
            run.fail("PRIMA_UNAVAILABLE: Prima did not answer")

The start is written when the block begins; the end when it leaves: a success unless
:meth:`FlowRun.fail` was called or an exception left the block (then recorded as a failure with
the exception's kind, and re-raised). Counts are the run's own; the store adds them to the flow's
totals, which the metrics expose as counters.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Final

from ..errors import CtPrimaSyncError
from ..state import StateStore
from ._clock import Clock

__all__ = ["KNOWN_FLOWS", "FlowRun", "failure_reason", "track_flow_run"]

_log = logging.getLogger("ct_prima_sync.engine.runs")

#: Every flow ``health`` knows, in the order it reports them. ``shadow`` is the go-live shadow
#: run (it sends nothing, so it never counts as an order run); ``retention`` the purge.
KNOWN_FLOWS: Final = ("orders", "stock", "dispatch", "postings", "shadow", "retention")

_MAX_REASON: Final = 300


def failure_reason(error: BaseException) -> str:
    """Why a run failed, from the exception that ended it: the library's own messages (which
    never carry personal data or secrets), else only the exception's type."""
    if isinstance(error, KeyboardInterrupt):
        return "stopped: interrupted"
    if isinstance(error, CtPrimaSyncError):
        text = f"{type(error).__name__}: {error}"
    elif not isinstance(error, Exception):
        text = f"stopped: {type(error).__name__}"
    else:
        text = f"unexpected {type(error).__name__}"
    return " ".join(text.split())[:_MAX_REASON]


class FlowRun:
    """One run of a flow in progress: its counts and, if it went wrong, why. Thread-safe."""

    def __init__(self, flow: str, started_at: datetime) -> None:
        self.flow = flow
        self.started_at = started_at
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._failure: str | None = None
        self.skipped = False

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the run's count ``name``."""
        with self._lock:
            self._counts[name] += n

    def add(self, counts: Mapping[str, int]) -> None:
        """Add several counts at once."""
        with self._lock:
            self._counts.update(counts)

    def fail(self, reason: str) -> None:
        """Record the run as failed (it ended early: a system did not answer, a stop request);
        ``reason`` must not carry personal data."""
        with self._lock:
            self._failure = " ".join(reason.split())[:_MAX_REASON] or "failed"

    def skip(self) -> None:
        """Record no end for this run: it did nothing because another worker holds the flow's
        lock (that worker's run is the record)."""
        self.skipped = True

    @property
    def failure(self) -> str | None:
        """Why the run failed, or None."""
        with self._lock:
            return self._failure

    def counts(self) -> dict[str, int]:
        """The counts so far."""
        with self._lock:
            return dict(self._counts)


@contextmanager
def track_flow_run(store: StateStore, flow: str, *, clock: Clock) -> Iterator[FlowRun]:
    """Record one run of ``flow`` in ``store`` around the block (see the module docstring)."""
    run = FlowRun(flow, clock.now())
    store.start_flow_run(flow, now=run.started_at)
    try:
        yield run
    except BaseException as error:
        try:
            _finish(store, run, run.failure or failure_reason(error), clock)
        except Exception:  # the run's own error matters more than the record of it
            _log.exception("could not record the failed run", extra={"flow": flow})
        raise
    if not run.skipped:
        _finish(store, run, run.failure, clock)


def _finish(store: StateStore, run: FlowRun, failure: str | None, clock: Clock) -> None:
    store.finish_flow_run(
        run.flow, started_at=run.started_at, now=clock.now(), failure=failure, counts=run.counts()
    )
