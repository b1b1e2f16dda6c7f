"""What the commands print: aligned tables for people, JSON for programs, progress on a terminal.

Plain text on purpose: the tables read the same in a terminal, a pipe to ``grep`` and a cron
mail, and cost no import time.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TextIO

__all__ = ["Progress", "age", "table", "write_json"]


def write_json(value: Any, out: TextIO) -> None:
    """``value`` as indented JSON with a final newline (times as ISO 8601)."""
    json.dump(value, out, indent=2, ensure_ascii=False, default=_default)
    out.write("\n")


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def table(rows: Sequence[Sequence[object]], headers: Sequence[str], out: TextIO) -> None:
    """Rows under headers, columns aligned; the last column is never padded (long reasons)."""
    cells = [[str(h) for h in headers], *[["" if c is None else str(c) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers) - 1)]
    for row in cells:
        line = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False))
        out.write((line + "  " + row[-1]).rstrip() + "\n")


def age(since: datetime, now: datetime) -> str:
    """A duration for people: ``45s``, ``12m``, ``3h 5m``, ``2d 4h``."""
    seconds = max(0, int((now - since) / timedelta(seconds=1)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


class Progress:
    """One self-overwriting line on a terminal: done/total, rate and time left.

    Thread-safe (the engine's workers report); redraws at most every ``interval`` seconds.
    """

    def __init__(
        self,
        out: TextIO,
        what: str,
        *,
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._out = out
        self._what = what
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._drawn = 0.0
        self._lock = threading.Lock()
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        """Report progress; redraws when the interval passed or the work is done."""
        with self._lock:
            now = self._clock()
            if now - self._drawn < self._interval and done < total:
                return
            self._drawn = now
            elapsed = now - self._started
            rate = done / elapsed if elapsed > 0 else 0.0
            left = max(total - done, 0)
            eta = f"{left / rate:.0f} s left" if rate > 0 and left else ""
            shown_total = max(total, done)
            self._out.write(
                f"\r{self._what}: {done}/{shown_total}  {rate:.1f}/s  {eta}".ljust(60)[:79]
            )
            self._out.flush()
            self._shown = True

    def close(self) -> None:
        """End the progress line (the summary prints below it)."""
        with self._lock:
            if self._shown:
                self._out.write("\n")
                self._out.flush()
                self._shown = False
