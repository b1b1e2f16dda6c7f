"""SIGINT and SIGTERM: a run finishes the orders in hand, gives the rest back, and says so.

Outside a run, SIGTERM ends the command like Ctrl-C does (exit 143 instead of 130), without a
traceback. Inside :func:`stopping_cleanly`, the first signal asks the engine to stop (orders in
hand are finished, claimed ones released) and the command exits 130 or 143 after printing its
summary; a second signal stops at once (their leases then expire on their own).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TextIO

from ._exits import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated

__all__ = ["StopRequest", "install_termination", "stopping_cleanly", "wait_for_signal"]


def _raise_terminated(_signum: int, _frame: FrameType | None) -> None:
    raise Terminated


def install_termination() -> None:
    """SIGTERM raises :class:`Terminated` (turned into exit 143), if this is the main thread."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)


class StopRequest:
    """Which signal asked the run to stop, if any."""

    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def exit_code(self) -> int | None:
        """130 after SIGINT, 143 after SIGTERM, None when no signal came."""
        if self.signum is None:
            return None
        return EXIT_TERMINATED if self.signum == signal.SIGTERM else EXIT_INTERRUPTED


@contextmanager
def stopping_cleanly(stop: Callable[[], None], stderr: TextIO) -> Iterator[StopRequest]:
    """While the block runs, SIGINT/SIGTERM call ``stop`` once; a second signal stops at once."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return

    def handle(signum: int, _frame: FrameType | None) -> None:
        if request.signum is not None:
            if signum == signal.SIGTERM:
                raise Terminated
            raise KeyboardInterrupt
        request.signum = signum
        stderr.write(
            "\nct-prima-sync: stopping: finishing the orders in hand and releasing the rest "
            "(signal again to stop at once)\n"
        )
        stderr.flush()
        stop()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield request
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def wait_for_signal(announce: Callable[[], None]) -> None:
    """For the commands that serve until stopped: call ``announce``, then wait until SIGINT or
    SIGTERM arrives (the handlers in place before are put back)."""
    stopped = threading.Event()
    previous = {
        s: signal.signal(s, lambda _n, _f: stopped.set()) for s in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        announce()
        while not stopped.wait(0.5):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
