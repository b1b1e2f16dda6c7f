"""An engine wired to the commercetools fake, FakePrima and a store, on a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ct_prima_sync.engine import EngineConfig, FakeClock, SyncEngine
from ct_prima_sync.engine._order_flow import Checkpoint
from ct_prima_sync.prima import PrimaGateway
from ct_prima_sync.state import StateStore, open_store
from ct_prima_sync.testing import FakePrima
from ct_prima_sync.testing.factories import LineSpec, ShippingSpec, make_order
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario, connect_commercetools

EngineFactory = Callable[..., SyncEngine]


def one_line_order(
    scenario: SyncScenario, number: str, *, email: str, seed: int, unit_price: int = 1999
) -> dict[str, Any]:
    """A good order of one line of the scenario's first SKU (``seed`` makes its id)."""
    sku = scenario.world.skus()[0]
    return make_order(
        lines=[
            LineSpec(
                sku="-".join((sku.product, *sku.matrix)),
                quantity=1,
                unit_price=unit_price,
                tax_rate="0.19",
            )
        ],
        shipping=ShippingSpec(key="standard", name="Standard", price=495),
        order_number=number,
        customer_email=email,
        seed=seed,
    )


def _confirmed(config: EngineConfig) -> bool:
    """Whether ``config`` asks Prima only what public sources confirm: then the default Prima
    of these tests is strict, refusing every other request as a real installation would."""
    dispatch = config.dispatch
    customers = config.customers
    return not (
        config.depots_from_prima
        or customers.lookup_by_email
        or customers.create_missing
        or dispatch.despatch_details
        or dispatch.cancel_in_prima
        or dispatch.returns_to_prima
    )


@pytest.fixture
def clock() -> FakeClock:
    """Starts a day after the scenario's orders were placed."""
    return FakeClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))


@pytest.fixture
def scenario() -> SyncScenario:
    """60 orders, every fifth one bad in a different way."""
    return build_scenario(orders=60, bad_every=5, seed=3)


@pytest.fixture(params=["memory", "sqlite"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StateStore]:
    """Each engine behaviour holds on the in-memory and the SQLite store."""
    url = (
        "memory://"
        if request.param == "memory"
        else f"sqlite:///{tmp_path_factory.mktemp('state')}/sync.db"
    )
    with open_store(url) as opened:
        yield opened


@pytest.fixture
def make_engine(scenario: SyncScenario, clock: FakeClock) -> Iterator[EngineFactory]:
    """Builds engines over the scenario; each gets its own commercetools client."""
    clients = []

    def build(
        store: StateStore,
        *,
        prima: PrimaGateway | None = None,
        checkpoint: Checkpoint | None = None,
        worker_id: str = "worker-1",
        mapping: object = None,
        **config: object,
    ) -> SyncEngine:
        ct = connect_commercetools(scenario.commercetools, sleep=lambda _s: None)
        clients.append(ct)
        engine_config = EngineConfig(
            worker_id=worker_id,
            initial_cursor=scenario.first_order_at - timedelta(days=1),
            **config,  # type: ignore[arg-type]
        )
        return SyncEngine(
            commercetools=ct,
            prima=prima
            or FakePrima(scenario.world, sleep=lambda _s: None, strict=_confirmed(engine_config)),
            store=store,
            mapping=mapping or scenario.mapping,  # type: ignore[arg-type]
            config=engine_config,
            clock=clock,
            checkpoint=checkpoint,
        )

    yield build
    for client in clients:
        client.close()


@pytest.fixture(params=["memory", "sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A URL for each embedded kind of store."""
    if request.param == "memory":
        return "memory://"
    return f"sqlite:///{tmp_path_factory.mktemp('state')}/sync.db"
