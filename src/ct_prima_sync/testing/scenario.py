"""A whole, consistent world for end-to-end runs: a commercetools project full of orders, a Prima
with the matching catalogue, and the mapping that connects them.

``build_scenario`` is what ``ct-prima-sync demo``, the engine's tests and the benchmarks run on:
hundreds of realistic orders (several lines, two tax rates, discounts, single shipping, guests and
registered customers, two warehouses) plus, if asked, bad orders of every kind the exception queue
knows, each tagged with the problem it must raise.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from attrs import frozen

from ..commercetools import CommercetoolsClient, CommercetoolsConfig
from ..mapping import MappingConfig
from ..prima import SkuCode
from ..state import StateStore, customer_key_for_email, customer_key_for_id
from ._ct_fake import FakeCommercetools
from ._prima import PrimaWorld, seed_catalogue
from .factories import LineSpec, ShippingSpec, UnitDiscount, make_order

__all__ = [
    "BAD_ORDER_KINDS",
    "SCENARIO_MAPPING_TOML",
    "SyncScenario",
    "build_scenario",
    "connect_commercetools",
    "remember_customers",
    "scenario_mapping",
]

#: Bad orders the scenario can plant, by the exception kind each must produce.
BAD_ORDER_KINDS: Final = (
    "UNMAPPED_SKU",
    "UNMAPPED_TAX_RATE",
    "CURRENCY_NOT_ALLOWED",
    "TOTALS_MISMATCH",
    "UNKNOWN_DEPOT",
    "PRIMA_REJECTED",
)

_SUPPLY_CHANNELS: Final = {"wh-main": "WH1", "wh-north": "WH2"}
_ORDERS_PLACED_AT: Final = datetime(2026, 11, 20, 10, 15, 30, tzinfo=UTC)


#: The mapping for scenario orders, as a mapping.toml: SKUs ``TEE1001-BLK-M`` are Prima product
#: ``TEE1001`` with matrix codes (``BLK``, ``M``); supply channels map to Prima depots WH1 and WH2.
#: An order supplied from a channel the map does not list (a closed pop-up store) gets no depot:
#: the mapping's depot check (``[depots] valid``) catches it before Prima is asked.
SCENARIO_MAPPING_TOML: Final = """\
currencies = ["EUR"]
order_channel = "WEB"

[prices]
basis = "unit"
vat_inclusive = true
discounts = "folded"

[[sku.rules]]
pattern = '(?P<product>[A-Z]+\\d+)-(?P<colour>[A-Z]+)-(?P<size>[A-Z0-9]+)'
matrix = ["colour", "size"]
template = "{product}-{colour}-{size}"

[depots]
default = "WH1"
valid = ["WH1", "WH2"]
supply_channels = { "wh-main" = "WH1", "wh-north" = "WH2" }

[[taxes.codes]]
rate = "0.19"
code = "S19"
[[taxes.codes]]
rate = "0.07"
code = "R07"

[shipping]
default = "CARRIAGE"
methods = { "Express" = "EXPRESS" }
"""


def scenario_mapping() -> MappingConfig:
    """The mapping for scenario orders (:data:`SCENARIO_MAPPING_TOML`)."""
    return MappingConfig.from_toml(SCENARIO_MAPPING_TOML)


@frozen(kw_only=True)
class SyncScenario:
    """What :func:`build_scenario` made.

    ``good`` holds the order numbers that must reach Prima; ``bad`` maps each planted bad order's
    number to the exception kind it must raise.
    """

    commercetools: FakeCommercetools
    world: PrimaWorld
    mapping: MappingConfig
    good: tuple[str, ...]
    bad: dict[str, str]
    first_order_at: datetime

    @property
    def order_numbers(self) -> tuple[str, ...]:
        """Every order number, good and bad."""
        return (*self.good, *self.bad)


def _sku_text(sku: SkuCode) -> str:
    return "-".join((sku.product, *sku.matrix))


def _good_order(
    rng: random.Random, number: str, skus: list[SkuCode], seed: int, rate: str | None = None
) -> dict[str, Any]:
    """A consistent order; ``rate`` (if given) taxes every line at that rate instead."""
    lines = []
    for index, sku in enumerate(rng.sample(skus, rng.randint(1, 6))):
        quantity = rng.randint(1, 4)
        unit = rng.choice((999, 1499, 1999, 2495, 3999, 5990, 8999))
        discounts: tuple[UnitDiscount, ...] = ()
        if rng.random() < 0.3:
            discounts = (
                UnitDiscount(
                    quantity=rng.randint(1, quantity),
                    amount=rng.randint(1, unit // 3),
                    discount_id=f"cart-discount-{index % 2}",
                ),
            )
        drawn_rate = rng.choice(("0.19", "0.19", "0.07"))
        lines.append(
            LineSpec(
                sku=_sku_text(sku),
                quantity=quantity,
                unit_price=unit,
                tax_rate=rate or drawn_rate,
                discounts=discounts,
                supply_channel=rng.choice(("wh-main", "wh-north", None)),
            )
        )
    method = rng.choice(("Standard", "Standard", "Express"))
    registered = rng.random() < 0.6
    return make_order(
        lines=lines,
        shipping=ShippingSpec(key=method.lower(), name=method, price=rng.choice((0, 495, 995))),
        total_discount=rng.choice((0, 0, 0, 500)),
        order_number=number,
        customer_email=f"shopper{rng.randint(1, 60)}@example.com",
        customer_id=f"customer-{rng.randint(1, 60)}" if registered else None,
        seed=seed,
    )


def _spoil(order: dict[str, Any], kind: str, rng: random.Random) -> dict[str, Any]:
    line = order["lineItems"][0]
    if kind == "UNMAPPED_SKU":
        line["variant"]["sku"] = "legacy sku 42"
    elif kind == "UNMAPPED_TAX_RATE":
        pass  # built taxed at 16 %, a rate the scenario's mapping has no code for
    elif kind == "CURRENCY_NOT_ALLOWED":
        _recurrency(order, "USD")
    elif kind == "TOTALS_MISMATCH":
        order["totalPrice"]["centAmount"] += rng.randint(1, 3)
        order["taxedPrice"]["totalGross"]["centAmount"] = order["totalPrice"]["centAmount"]
    elif kind == "UNKNOWN_DEPOT":
        for each in order["lineItems"]:
            each["supplyChannel"] = {"typeId": "channel", "id": "popup-store", "key": "popup-store"}
    elif kind == "PRIMA_REJECTED":
        line["variant"]["sku"] = "DISCONTINUED9-BLK-M"
    return order


def _recurrency(value: Any, currency: str) -> None:
    if isinstance(value, dict):
        if "currencyCode" in value:
            value["currencyCode"] = currency
        for child in value.values():
            _recurrency(child, currency)
    elif isinstance(value, list):
        for child in value:
            _recurrency(child, currency)


def build_scenario(
    *,
    orders: int = 300,
    bad_every: int = 0,
    seed: int = 0,
    clock: Callable[[], datetime] | None = None,
) -> SyncScenario:
    """A commercetools fake with ``orders`` orders and a Prima world with their catalogue.

    With ``bad_every`` = n, every n-th order is spoiled in one of the :data:`BAD_ORDER_KINDS`
    (in turn). Deterministic for ``seed``. The commercetools fake has the OrderExport channel
    ``prima-export`` the engine writes sync info to.
    """
    rng = random.Random(seed)
    world = PrimaWorld()
    catalogue = seed_catalogue(world, seed=seed, products=12, depots=2)
    for sku in catalogue.skus:  # plenty, so that only planted bad orders are rejected
        for depot in catalogue.depots:
            world.set_stock(sku, depot.code, 100_000)
    ct = FakeCommercetools(seed=seed, clock=clock) if clock else FakeCommercetools(seed=seed)
    ct.add_channel("prima-export", roles=("OrderExport",))
    for key in (*_SUPPLY_CHANNELS, "popup-store"):  # the pop-up store is not in the map
        ct.add_channel(key, roles=("InventorySupply",))
    skus = list(catalogue.skus)
    good: list[str] = []
    bad: dict[str, str] = {}
    for n in range(1, orders + 1):
        number = f"WEB-{seed:02d}-{n:06d}"
        kind = ""
        if bad_every and n % bad_every == 0:
            kind = BAD_ORDER_KINDS[(n // bad_every - 1) % len(BAD_ORDER_KINDS)]
        # An unmapped rate is a real 16 % rate, taxed as commercetools would tax it.
        rate = "0.16" if kind == "UNMAPPED_TAX_RATE" else None
        order = _good_order(rng, number, skus, seed * 1_000_003 + n, rate)
        if kind:
            order = _spoil(order, kind, rng)
            bad[number] = kind
        else:
            good.append(number)
        ct.add_order(order)
    return SyncScenario(
        commercetools=ct,
        world=world,
        mapping=scenario_mapping(),
        good=tuple(good),
        bad=bad,
        first_order_at=_ORDERS_PLACED_AT,
    )


def connect_commercetools(fake: FakeCommercetools, **client_options: Any) -> CommercetoolsClient:
    """A real :class:`CommercetoolsClient` talking to ``fake`` in-process (no sockets)."""
    config = CommercetoolsConfig(
        project_key=fake.project_key,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        api_url=fake.base_url,
        auth_url=fake.base_url,
    )
    return CommercetoolsClient(config, transport=fake.transport(), **client_options)


def remember_customers(
    scenario: SyncScenario, store: StateStore, *, secret: str, now: datetime
) -> int:
    """Give every customer of the scenario's orders an account in Prima and in the customer map
    of ``store``, as after each one's first order was in Prima: the orders then go with their
    account and in batched requests, where a customer's first order goes alone (``Customer=""``,
    for Prima to match). ``secret``: the engine's customer key secret (guests' keys are made
    with it). Returns how many customers there were."""
    keys: set[str] = set()
    for order in scenario.commercetools.orders():
        customer_id, email = order.get("customerId"), order.get("customerEmail")
        if customer_id:
            keys.add(customer_key_for_id(customer_id))
        elif email:
            keys.add(customer_key_for_email(email, secret=secret))
    for n, key in enumerate(sorted(keys), start=1):
        account = scenario.world.add_customer(account_code=f"K{n:06d}").account_code
        store.put_customer(key, account, now=now)
    return len(keys)
