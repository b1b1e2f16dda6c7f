"""What the extension keeps in memory: the configuration and the stock snapshot, each refreshed
in the background so that no shopper's call waits for a reload.

Both take the clock (``time.monotonic`` by default) so tests move time without waiting. A refresh
that fails keeps the last good value, logs a warning and counts the failure: a broken mapping
file never takes checkout down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

from ..state import StateStore

__all__ = ["Clock", "RefreshingValue", "StockCache"]

_LOG = logging.getLogger("ct_prima_sync.checkout")

T = TypeVar("T")

#: Seconds from an arbitrary start (``time.monotonic``).
Clock = Callable[[], float]


class RefreshingValue(Generic[T]):
    """A value loaded once now and reloaded in a background thread once ``every`` seconds have
    passed since the last load; readers always get the last good value at once."""

    def __init__(
        self,
        load: Callable[[], T],
        *,
        every: float,
        clock: Clock = time.monotonic,
        spawn: Callable[[Callable[[], None]], None] | None = None,
        name: str = "configuration",
    ) -> None:
        self._load = load
        self._every = every
        self._clock = clock
        self._spawn = spawn or _thread
        self._name = name
        self._lock = threading.Lock()
        self._value = load()
        self._loaded_at = clock()
        self._refreshing = False
        self.failures = 0
        """Refreshes that failed (the last good value stayed in use)."""
        self.refreshes = 0

    def get(self) -> T:
        """The current value; starts a background reload when it is due."""
        with self._lock:
            due = not self._refreshing and self._clock() - self._loaded_at >= self._every
            if due:
                self._refreshing = True
        if due:
            self._spawn(self._refresh)
        return self._value

    def _refresh(self) -> None:
        try:
            value = self._load()
        except Exception as exc:
            with self._lock:
                self.failures += 1
                self._loaded_at = self._clock()
                self._refreshing = False
            _LOG.warning(
                "checkout: reloading the %s failed, the last good one stays in use: %s",
                self._name,
                exc,
            )
            return
        with self._lock:
            self._value = value
            self._loaded_at = self._clock()
            self._refreshing = False
            self.refreshes += 1


def _thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="ct-prima-sync-checkout-refresh", daemon=True).start()


class StockCache:
    """Units available per (commercetools SKU, Prima depot) from the state store's last stock
    snapshot minus what is pending, read the first time a key is asked for and re-read in the
    background once ``every`` seconds old. A key with no snapshot (or no ATS read yet) has no
    figure, and the stock check leaves it alone."""

    def __init__(
        self,
        store: StateStore,
        *,
        every: float,
        clock: Clock = time.monotonic,
        spawn: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        self._store = store
        self._every = every
        self._clock = clock
        self._spawn = spawn or _thread
        self._lock = threading.Lock()
        self._figures: dict[tuple[str, str], tuple[int | None, float]] = {}
        self._refreshing: set[tuple[str, str]] = set()
        self.failures = 0

    def _read(self, key: tuple[str, str]) -> int | None:
        snapshot = self._store.get_stock([key]).get(key)
        if snapshot is None or snapshot.last_ats is None:
            return None
        pending = self._store.pending_stock([key[0]]).get(key, 0)
        return snapshot.last_ats - pending

    def available(self, key: tuple[str, str]) -> int | None:
        """The figure for ``key`` (read now if never read; stale ones refresh behind)."""
        with self._lock:
            known = self._figures.get(key)
        if known is None:
            figure = self._read(key)
            with self._lock:
                self._figures[key] = (figure, self._clock())
            return figure
        figure, read_at = known
        with self._lock:
            due = key not in self._refreshing and self._clock() - read_at >= self._every
            if due:
                self._refreshing.add(key)
        if due:
            self._spawn(lambda: self._refresh(key))
        return figure

    def _refresh(self, key: tuple[str, str]) -> None:
        try:
            figure = self._read(key)
        except Exception as exc:
            with self._lock:
                self.failures += 1
                self._refreshing.discard(key)
            _LOG.warning("checkout: re-reading the stock snapshot failed: %s", exc)
            return
        with self._lock:
            self._figures[key] = (figure, self._clock())
            self._refreshing.discard(key)

    def view(self) -> Mapping[tuple[str, str], int]:
        """The figures as the validator reads them (``view.get(key)``), read on demand."""
        return _StockView(self)


class _StockView(Mapping[tuple[str, str], int]):
    def __init__(self, cache: StockCache) -> None:
        self._cache = cache

    def __getitem__(self, key: tuple[str, str]) -> int:
        figure = self._cache.available(key)
        if figure is None:
            raise KeyError(key)
        return figure

    def __iter__(self) -> Iterator[tuple[str, str]]:  # the validator only looks keys up
        return iter(())

    def __len__(self) -> int:
        return 0
