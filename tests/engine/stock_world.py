"""A small shop for the stock flow's tests: a commercetools fake with two warehouses' inventory,
a Prima world with the same SKUs, a mapping between them, all on one fake clock.

The truth a test checks against is computed here from the two worlds alone, never from the
engine's own figures: Prima's ATS per SKU and depot, and what commercetools sold that Prima does
not have yet (every commercetools order whose number Prima has not accepted).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from ct_prima_sync.commercetools import CommercetoolsClient
from ct_prima_sync.engine import (
    EligibilityRules,
    EngineConfig,
    FakeClock,
    Notifier,
    StockRunConfig,
    SyncEngine,
)
from ct_prima_sync.engine._order_flow import Checkpoint
from ct_prima_sync.mapping import MappingConfig
from ct_prima_sync.prima import PrimaGateway, SkuCode
from ct_prima_sync.state import StateStore
from ct_prima_sync.testing import FakeCommercetools, FakePrima, PrimaWorld
from ct_prima_sync.testing.factories import LineSpec, make_order
from ct_prima_sync.testing.scenario import connect_commercetools

START = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
DEPOTS = {"wh-main": "WH1", "wh-north": "WH2"}

MAPPING_TOML = """\
currencies = ["EUR"]

[[sku.rules]]
pattern = '(?P<product>[A-Z]+\\d+)-(?P<size>[A-Z0-9]+)'
matrix = ["size"]
template = "{{product}}-{{size}}"

[depots]
default = "WH1"
supply_channels = {{ {supply} }}
stock_channels = {{ "WH1" = "wh-main", "WH2" = "wh-north" }}

[[taxes.codes]]
rate = "0.19"
code = "S19"

[shipping]
default = "CARRIAGE"

[stock]
buffer = {buffer}
{extra}
"""


def code(sku: str) -> SkuCode:
    product, size = sku.split("-")
    return SkuCode(product=product, matrix=(size,))


class StockWorld:
    """Both systems of one shop and the engines that connect them."""

    def __init__(
        self,
        skus: Sequence[str] = ("TEE1-S", "TEE1-M", "CAP2-ONE"),
        *,
        stock: int = 20,
        buffer: int = 2,
        query_lag: float = 0.0,
        reservation_lag: float = 0.0,
        mapping_extra: str = "",
        ct_sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.clock = FakeClock(START)
        self.ct_lags = (query_lag, reservation_lag)
        self.ct = FakeCommercetools(
            seed=11,
            clock=self.clock.now,
            query_lag=query_lag,
            reservation_lag=reservation_lag,
            sleep=ct_sleep,
        )
        self.ct.add_channel("prima-export", roles=("OrderExport",))
        self.channel_ids = {key: self.ct.add_channel(key)["id"] for key in DEPOTS}
        self.world = PrimaWorld(clock=self.clock.now)
        for depot in DEPOTS.values():
            self.world.add_depot(depot)
        self.skus = list(skus)
        for sku in self.skus:
            self.world.add_product(code(sku))
            for depot in DEPOTS.values():
                self.world.set_stock(code(sku), depot, stock)
        supply = ", ".join(f'"{self.channel_ids[k]}" = "{d}"' for k, d in DEPOTS.items())
        self.buffer = buffer
        self.mapping = MappingConfig.from_toml(
            MAPPING_TOML.format(supply=supply, buffer=buffer, extra=mapping_extra)
        )
        self._clients: list[CommercetoolsClient] = []
        self._orders = 0

    # -- wiring -------------------------------------------------------------------------------

    def engine(
        self,
        store: StateStore,
        *,
        prima: PrimaGateway | None = None,
        checkpoint: Checkpoint | None = None,
        worker_id: str = "worker-1",
        notifier: Notifier | None = None,
        eligibility: EligibilityRules | None = None,
        **stock: Any,
    ) -> SyncEngine:
        """An engine over both worlds; ``stock`` sets ``[engine.stock]`` values."""
        client = connect_commercetools(self.ct, sleep=lambda _s: None)
        self._clients.append(client)
        return SyncEngine(
            commercetools=client,
            prima=prima or FakePrima(self.world, sleep=lambda _s: None),
            store=store,
            mapping=self.mapping,
            config=EngineConfig(
                worker_id=worker_id,
                concurrency=1,
                initial_cursor=START - timedelta(hours=1),
                eligibility=eligibility or EligibilityRules(),
                stock=StockRunConfig(**{"concurrency": 1, **stock}),
            ),
            clock=self.clock,
            checkpoint=checkpoint,
            notifier=notifier,
        )

    def close(self) -> None:
        for client in self._clients:
            client.close()

    # -- the shop -----------------------------------------------------------------------------

    def seed_entries(self, on_stock: int = 0) -> None:
        """An inventory entry for every SKU in both warehouses."""
        for sku in self.skus:
            for key in DEPOTS:
                self.ct.add_inventory(sku, on_stock, supply_channel=key)

    def place(
        self,
        *lines: tuple[str, str, int],
        mode: str = "TrackOnly",
        payment_state: str | None = None,
    ) -> dict[str, Any]:
        """A customer places an order of ``(sku, channel key, quantity)`` lines, now (with
        ``payment_state``, that ``paymentState``)."""
        self._orders += 1
        order = make_order(
            lines=[
                LineSpec(sku=sku, quantity=quantity, unit_price=1000) for sku, _, quantity in lines
            ],
            order_number=f"WEB-{self._orders:04d}",
            customer_email=f"shopper{self._orders}@example.com",
            seed=self._orders,
        )
        for line, (_, key, _) in zip(order["lineItems"], lines, strict=True):
            line["supplyChannel"] = {"typeId": "channel", "id": self.channel_ids[key]}
            line["inventoryMode"] = mode
        order["createdAt"] = self.clock.now().isoformat().replace("+00:00", "Z")
        if payment_state is not None:
            order["paymentState"] = payment_state
        return self.ct.add_order(order)

    # -- the truth ------------------------------------------------------------------------------

    def available(self, sku: str, key: str) -> int:
        """What the shop shows for a SKU in a warehouse (after every lag that is due)."""
        return int(self.ct.inventory_entry(sku, supply_channel=key)["availableQuantity"])

    def true_ats(self, sku: str, key: str) -> int:
        return self.world.available(code(sku), DEPOTS[key])

    def true_pending(self, sku: str, key: str) -> int:
        """Units of commercetools orders Prima has not accepted, from both worlds alone."""
        accepted = {order.order_number for order in self.world.orders()}
        channel_id = self.channel_ids[key]
        return sum(
            line["quantity"]
            for order in self.ct.orders()
            if order["orderNumber"] not in accepted
            for line in order["lineItems"]
            if line["variant"]["sku"] == sku
            and (line.get("supplyChannel") or {}).get("id") == channel_id
        )

    def excess(self) -> dict[tuple[str, str], int]:
        """Per SKU and warehouse: what the shop shows beyond the true ATS minus pending."""
        return {
            (sku, key): self.available(sku, key)
            - max(0, self.true_ats(sku, key) - self.true_pending(sku, key))
            for sku in self.skus
            for key in DEPOTS
        }

    def expected(self, sku: str, key: str) -> int:
        """What the shop should show at quiescence: ATS - pending - buffer, never below 0."""
        return max(0, self.true_ats(sku, key) - self.true_pending(sku, key) - self.buffer)


@contextmanager
def stock_world(**options: Any) -> Iterator[StockWorld]:
    world = StockWorld(**options)
    try:
        yield world
    finally:
        world.close()
