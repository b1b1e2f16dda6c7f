"""A scenario run whose health figures are known: 60 orders, every fifth bad (48 reach Prima,
12 wait in the exception queue: finance 6, operations 4, ecommerce 2), on a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ct_prima_sync.engine import EngineConfig, FakeClock, Notifier, SyncEngine
from ct_prima_sync.prima import PrimaGateway
from ct_prima_sync.state import StateStore, open_store
from ct_prima_sync.testing import FakePrima
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario, connect_commercetools

EngineFactory = Callable[..., SyncEngine]

#: The open exceptions the scenario leaves, by owner and kind.
KINDS = {
    "ecommerce": {"UNMAPPED_SKU": 2},
    "finance": {"CURRENCY_NOT_ALLOWED": 2, "TOTALS_MISMATCH": 2, "UNMAPPED_TAX_RATE": 2},
    "operations": {"PRIMA_REJECTED": 2, "UNKNOWN_DEPOT": 2},
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))


@pytest.fixture
def scenario() -> SyncScenario:
    return build_scenario(orders=60, bad_every=5, seed=3)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[StateStore]:
    with open_store(f"sqlite:///{tmp_path / 'sync.db'}") as store:
        yield store


@pytest.fixture
def make_engine(scenario: SyncScenario, clock: FakeClock) -> Iterator[EngineFactory]:
    clients = []

    def build(
        store: StateStore,
        *,
        prima: PrimaGateway | None = None,
        notifier: Notifier | None = None,
        engine_clock: FakeClock | None = None,
        **config: object,
    ) -> SyncEngine:
        ct = connect_commercetools(scenario.commercetools, sleep=lambda _s: None)
        clients.append(ct)
        return SyncEngine(
            commercetools=ct,
            prima=prima or FakePrima(scenario.world, sleep=lambda _s: None),
            store=store,
            mapping=scenario.mapping,
            config=EngineConfig(
                worker_id="worker-1",
                initial_cursor=scenario.first_order_at - timedelta(days=1),
                **config,  # type: ignore[arg-type]
            ),
            clock=engine_clock or clock,
            notifier=notifier,
        )

    yield build
    for client in clients:
        client.close()
