"""What the paged-poll tests share: polls of five orders (or messages) a page, 23 orders (pages
of 5, 5, 5, 5, 3), commercetools' clock two hours behind the engine's, and a crash to raise."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ct_prima_sync.engine import FakeClock, _order_ingest

__all__ = ["ORDERS", "PAGE", "CrashError", "commercetools_clock", "use_small_pages"]

ORDERS = 23
PAGE = 5


class CrashError(Exception):
    """The process dying at this point."""


def use_small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Polls read and ingest :data:`PAGE` orders a page."""
    monkeypatch.setattr(_order_ingest, "INGEST_PAGE", PAGE)


def commercetools_clock(clock: FakeClock) -> list[datetime]:
    """commercetools' clock, two hours behind the engine's (it stamps lastModifiedAt); the
    tests move it."""
    return [clock.now() - timedelta(hours=2)]
