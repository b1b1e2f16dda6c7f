"""The paged-poll tests: polls of five orders (or messages) a page, and commercetools' clock
(it stamps lastModifiedAt) two hours behind the engine's, moved by the tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ct_prima_sync.engine import FakeClock, _order_ingest

from ._small_pages import PAGE


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_order_ingest, "INGEST_PAGE", PAGE)


@pytest.fixture
def ct_now(clock: FakeClock) -> list[datetime]:
    return [clock.now() - timedelta(hours=2)]
