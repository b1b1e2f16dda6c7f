"""The pytest plugin of ct-prima-sync: fixtures for a host application's own tests.

Installed with the package and loaded by pytest through the ``pytest11`` entry point, so a
host's tests just name the fixtures (docs/testing.md, "The pytest plugin"):

``fake_clock``
    a :class:`~ct_prima_sync.engine.FakeClock` every fake and the engine read, at
    :data:`START` (moves only with ``advance`` or a fake's sleep);
``prima_world``, ``prima_catalogue``
    a :class:`~ct_prima_sync.testing.PrimaWorld` with a small catalogue (:data:`PRODUCTS`
    styles, two depots) and plenty of stock;
``fake_prima``
    a :class:`~ct_prima_sync.testing.FakePrima` over that world;
``prima_emulator``
    the omlink emulator over the same world, served on 127.0.0.1
    (:class:`ServedPrima`: ``.base_url``, ``.config`` for an ``OmlinkClient``);
``fake_commercetools``
    a :class:`~ct_prima_sync.testing.FakeCommercetools` on the fake clock, with the
    ``prima-export`` channel the engine writes back to;
``ct_prima_mapping``
    the mapping of the catalogue (override it with your own ``MappingConfig``);
``order_factory``
    an :class:`OrderFactory`: every call places (or only builds) an order of its own, dated by
    the fake clock;
``sync_engine``
    a :class:`~ct_prima_sync.engine.SyncEngine` over ``fake_commercetools``, ``fake_prima``, a
    memory store and the fake clock.

Override any of them in your ``conftest.py`` as usual.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import pytest
from attrs import frozen

from ..engine import EngineConfig, FakeClock, SyncEngine
from ..mapping import MappingConfig
from ..prima import OmlinkConfig
from ..state import open_store
from ._ct_fake import FakeCommercetools
from ._prima import FakePrima, PrimaCatalogue, PrimaEmulator, PrimaWorld, seed_catalogue
from .factories import LineSpec, ShippingSpec, make_order
from .scenario import connect_commercetools, scenario_mapping

__all__ = [
    "PRODUCTS",
    "START",
    "OrderFactory",
    "ServedPrima",
    "ct_prima_mapping",
    "fake_clock",
    "fake_commercetools",
    "fake_prima",
    "order_factory",
    "prima_catalogue",
    "prima_emulator",
    "prima_world",
    "sync_engine",
]

#: Where ``fake_clock`` starts.
START: Final = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
#: Styles in ``prima_catalogue`` (three colours and four sizes each).
PRODUCTS: Final = 4
#: The installation secret of the ``sync_engine`` fixture (tests only).
_TEST_SECRET: Final = "ct-prima-sync-pytest-plugin-secret"  # noqa: S105 (a test value)


@frozen(kw_only=True)
class ServedPrima:
    """The ``prima_emulator`` fixture: the emulator, where it is served, and a client config."""

    emulator: PrimaEmulator
    base_url: str

    @property
    def config(self) -> OmlinkConfig:
        """An :class:`~ct_prima_sync.prima.OmlinkConfig` pointing at the emulator."""
        return OmlinkConfig(endpoint=f"{self.base_url}/omlink/omlink")


class OrderFactory:
    """Builds commercetools orders of the catalogue's SKUs, each with its own id and number,
    placed at the fake clock's time, and (by default) adds them to the fake commercetools."""

    def __init__(
        self, commercetools: FakeCommercetools, catalogue: PrimaCatalogue, clock: FakeClock
    ) -> None:
        self._ct = commercetools
        self._skus = ["-".join((s.product, *s.matrix)) for s in catalogue.skus]
        self._clock = clock

    @property
    def skus(self) -> list[str]:
        """The commercetools SKUs Prima knows (``TEE1001-BLK-M`` style)."""
        return list(self._skus)

    def __call__(
        self,
        *,
        quantity: int = 1,
        unit_price: int = 1999,
        sku: str | None = None,
        lines: Sequence[LineSpec] | None = None,
        place: bool = True,
        **make_order_options: Any,
    ) -> dict[str, Any]:
        """An order of ``quantity`` x ``sku`` (default the first SKU) at ``unit_price`` minor
        units with 19 % VAT included and standard shipping, or of ``lines``; other keywords go
        to :func:`~ct_prima_sync.testing.factories.make_order`. ``place`` adds it to the fake
        commercetools (as placed now). Returns the Order JSON."""
        specs = lines or [
            LineSpec(
                sku=sku or self._skus[0],
                quantity=quantity,
                unit_price=unit_price,
                tax_rate="0.19",
            )
        ]
        make_order_options.setdefault(
            "shipping", ShippingSpec(key="standard", name="Standard", price=495)
        )
        make_order_options.setdefault("created_at", self._clock.now())
        order = make_order(lines=specs, **make_order_options)
        return self._ct.add_order(order) if place else order


@pytest.fixture
def fake_clock() -> FakeClock:
    """A fake clock at :data:`START`, shared by every fixture of the plugin."""
    return FakeClock(START)


@pytest.fixture
def prima_world(fake_clock: FakeClock) -> PrimaWorld:
    """A Prima world on the fake clock (see ``prima_catalogue`` for what it holds)."""
    return PrimaWorld(clock=fake_clock.now)


@pytest.fixture
def prima_catalogue(prima_world: PrimaWorld) -> PrimaCatalogue:
    """The world's catalogue: :data:`PRODUCTS` styles x 3 colours x 4 sizes, depots WH1 and
    WH2, and 1,000 of every SKU in each depot."""
    catalogue = seed_catalogue(prima_world, seed=0, products=PRODUCTS, depots=2)
    for sku in catalogue.skus:
        for depot in catalogue.depots:
            prima_world.set_stock(sku, depot.code, 1000)
    return catalogue


@pytest.fixture
def fake_prima(prima_world: PrimaWorld, prima_catalogue: PrimaCatalogue) -> FakePrima:
    """The ``PrimaGateway`` in memory, over ``prima_world``, on the fake clock."""
    return FakePrima(prima_world, sleep=lambda _seconds: None)


@pytest.fixture
def prima_emulator(
    prima_world: PrimaWorld, prima_catalogue: PrimaCatalogue
) -> Iterator[ServedPrima]:
    """The omlink emulator over ``prima_world``, served on 127.0.0.1 for the test."""
    emulator = PrimaEmulator(prima_world, sleep=lambda _seconds: None)
    with emulator.serve() as base_url:
        yield ServedPrima(emulator=emulator, base_url=base_url)


@pytest.fixture
def fake_commercetools(fake_clock: FakeClock) -> FakeCommercetools:
    """A commercetools project in memory on the fake clock, with the ``prima-export`` channel."""
    fake = FakeCommercetools(clock=fake_clock.now, sleep=fake_clock.sleep)
    fake.add_channel("prima-export", roles=("OrderExport",))
    return fake


@pytest.fixture
def ct_prima_mapping() -> MappingConfig:
    """The mapping of the catalogue's SKUs, depots and 19 %/7 % VAT (override with yours)."""
    return scenario_mapping()


@pytest.fixture
def order_factory(
    fake_commercetools: FakeCommercetools, prima_catalogue: PrimaCatalogue, fake_clock: FakeClock
) -> OrderFactory:
    """Places orders of the catalogue in ``fake_commercetools``, each one new."""
    return OrderFactory(fake_commercetools, prima_catalogue, fake_clock)


@pytest.fixture
def sync_engine(
    fake_commercetools: FakeCommercetools,
    fake_prima: FakePrima,
    fake_clock: FakeClock,
    ct_prima_mapping: MappingConfig,
) -> Iterator[SyncEngine]:
    """An engine over the fakes, a memory store and the fake clock, polling from a day before
    :data:`START`."""
    with (
        open_store("memory://") as store,
        connect_commercetools(fake_commercetools, sleep=fake_clock.sleep) as commercetools,
    ):
        yield SyncEngine(
            commercetools=commercetools,
            prima=fake_prima,
            store=store,
            mapping=ct_prima_mapping,
            config=EngineConfig(
                worker_id="pytest",
                initial_cursor=fake_clock.now() - timedelta(days=1),
                customer_key_secret=_TEST_SECRET,
            ),
            clock=fake_clock,
        )
