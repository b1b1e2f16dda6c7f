"""End to end with the fakes: the checkout guard registered as an API Extension of
FakeCommercetools refuses a cart or order with an unmapped SKU while the shopper is in checkout,
so it never becomes an order and the order run never sees it; what it accepts reaches Prima with
no mapping exception."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from ct_prima_sync.checkout import app, extension_draft, parse_triggers
from ct_prima_sync.commercetools import CommercetoolsClient
from ct_prima_sync.engine import EngineConfig, FakeClock, SyncEngine
from ct_prima_sync.errors import ValidationError
from ct_prima_sync.mapping import CheckoutConfig, config_hash, validate_checkout
from ct_prima_sync.prima import SkuCode
from ct_prima_sync.state import open_store
from ct_prima_sync.testing import FakePrima
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario, connect_commercetools

# Starlette's TestClient (an httpx.Client into the ASGI app) is the fake's extension client; it
# warns about httpx and about the per-request timeout the fake passes, as commercetools would.
pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

with warnings.catch_warnings():  # Starlette warns about httpx as its TestClient's base
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

AUTH = "Bearer end-to-end"
GUARD = "http://testserver/"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))


@pytest.fixture
def scenario(clock: FakeClock) -> Iterator[SyncScenario]:
    scenario = build_scenario(orders=0, seed=4, clock=clock.now)
    guard = app(CheckoutConfig(mapping=scenario.mapping), authorization=AUTH)
    with TestClient(guard) as client:
        scenario.commercetools.extension_client = client
        yield scenario


@pytest.fixture
def shop(scenario: SyncScenario) -> Iterator[CommercetoolsClient]:
    fake = scenario.commercetools
    for sku in scenario.world.skus()[:2]:
        fake.add_product("-".join((sku.product, *sku.matrix)), price=2380)
    fake.add_product("MUG-UNMAPPED", price=990)  # sold in the shop, unknown to Prima's mapping
    with connect_commercetools(fake, sleep=lambda _s: None) as client:
        yield client


def _register(client: CommercetoolsClient, *triggers: str) -> None:
    client.extensions.put(
        extension_draft(
            key="guard",
            url=GUARD,
            triggers=parse_triggers(triggers),
            timeout_in_ms=2000,
            authorization=AUTH,
        )
    )


def _sku(scenario: SyncScenario, index: int) -> str:
    sku = scenario.world.skus()[index]
    return "-".join((sku.product, *sku.matrix))


def _taxed_cart(client: CommercetoolsClient, *lines: dict[str, Any]) -> dict[str, Any]:
    cart = client.request("POST", "/carts", json={"currency": "EUR", "lineItems": list(lines)})
    cart = client.request(
        "POST",
        f"/carts/{cart['id']}",
        json={
            "version": cart["version"],
            "actions": [
                {"action": "setShippingAddress", "address": {"country": "DE"}},
                {
                    "action": "setCustomShippingMethod",
                    "shippingMethodName": "Standard",
                    "shippingRate": {"price": {"currencyCode": "EUR", "centAmount": 495}},
                },
            ],
        },
    )
    assert isinstance(cart, dict)
    return cart


def _order(client: CommercetoolsClient, cart: dict[str, Any], number: str) -> dict[str, Any]:
    order = client.request(
        "POST",
        "/orders",
        json={"cart": {"id": cart["id"]}, "version": cart["version"], "orderNumber": number},
    )
    assert isinstance(order, dict)
    return order


def _run_orders(scenario: SyncScenario, clock: FakeClock) -> tuple[Any, list[Any]]:
    with (
        open_store("memory://") as store,
        connect_commercetools(scenario.commercetools, sleep=lambda _s: None) as ct,
    ):
        engine = SyncEngine(
            commercetools=ct,
            prima=FakePrima(scenario.world, sleep=lambda _s: None),
            store=store,
            mapping=scenario.mapping,
            config=EngineConfig(initial_cursor=clock.now() - timedelta(days=1)),
            clock=clock,
        )
        clock.advance(120)
        summary = engine.sync_orders()
        return summary, store.list_exceptions()


def test_a_cart_with_an_unmapped_sku_cannot_become_an_order_and_the_engine_never_sees_it(
    scenario: SyncScenario, shop: CommercetoolsClient, clock: FakeClock
) -> None:
    _register(shop, "cart:Create,Update", "order:Create")
    good = _taxed_cart(shop, {"sku": _sku(scenario, 0), "quantity": 2})

    with pytest.raises(ValidationError) as at_create:
        shop.request(
            "POST", "/carts", json={"currency": "EUR", "lineItems": [{"sku": "MUG-UNMAPPED"}]}
        )
    with pytest.raises(ValidationError) as at_update:
        shop.request(
            "POST",
            f"/carts/{good['id']}",
            json={
                "version": good["version"],
                "actions": [{"action": "addLineItem", "sku": "MUG-UNMAPPED"}],
            },
        )
    placed = _order(shop, good, "WEB-CHECKOUT-1")
    summary, exceptions = _run_orders(scenario, clock)

    assert at_create.value.codes == ("InvalidInput",)
    assert at_update.value.codes == ("InvalidInput",)
    assert len(scenario.commercetools.carts()) == 1  # the refused cart was never kept
    (kept,) = scenario.commercetools.carts()
    assert [li["variant"]["sku"] for li in kept["lineItems"]] == [_sku(scenario, 0)]
    assert [o["id"] for o in scenario.commercetools.orders()] == [placed["id"]]
    assert summary.posted == 1
    assert exceptions == []
    assert [o.order_number for o in scenario.world.orders()] == ["WEB-CHECKOUT-1"]


def test_an_order_with_an_unmapped_sku_is_refused_at_order_creation(
    scenario: SyncScenario, shop: CommercetoolsClient, clock: FakeClock
) -> None:
    """With only the order trigger, the cart may hold the SKU; the order is still refused."""
    _register(shop, "order:Create")
    cart = _taxed_cart(shop, {"sku": _sku(scenario, 1)}, {"sku": "MUG-UNMAPPED"})

    with pytest.raises(ValidationError) as refused:
        _order(shop, cart, "WEB-CHECKOUT-2")
    summary, exceptions = _run_orders(scenario, clock)

    assert refused.value.codes == ("InvalidInput",)
    assert scenario.commercetools.orders() == []
    assert scenario.commercetools.carts()[0]["cartState"] == "Active"
    assert summary.ingested == 0
    assert exceptions == []


def test_without_the_guard_the_same_cart_becomes_an_exception_after_payment(
    scenario: SyncScenario, shop: CommercetoolsClient, clock: FakeClock
) -> None:
    """The control: nothing registered, the order is placed and the order run refuses it."""
    cart = _taxed_cart(shop, {"sku": _sku(scenario, 0)}, {"sku": "MUG-UNMAPPED"})
    _order(shop, cart, "WEB-UNGUARDED-1")

    summary, exceptions = _run_orders(scenario, clock)

    assert summary.posted == 0
    assert [e.kind for e in exceptions] == ["UNMAPPED_SKU"]


def test_a_guard_on_stale_rules_lets_an_order_through_and_the_run_names_the_other_hash(
    scenario: SyncScenario, shop: CommercetoolsClient, clock: FakeClock
) -> None:
    """The guard still holds yesterday's mapping (it knew MUG-UNMAPPED); the run has today's.
    The order gets through checkout, the run refuses it, and the exception names the run's
    configuration hash, which differs from the one the guard's verdict carried."""
    yesterday = attrs.evolve(
        scenario.mapping,
        sku=attrs.evolve(scenario.mapping.sku, table={"MUG-UNMAPPED": SkuCode(product="MUG")}),
    )
    stale = app(CheckoutConfig(mapping=yesterday), authorization=AUTH)
    with TestClient(stale) as hook:
        scenario.commercetools.extension_client = hook
        _register(shop, "cart:Create,Update", "order:Create")
        cart = _taxed_cart(shop, {"sku": "MUG-UNMAPPED"})
        order = _order(shop, cart, "WEB-STALE-1")

    summary, exceptions = _run_orders(scenario, clock)

    checked = validate_checkout(order, yesterday)
    checked_with = checked.config_hash
    assert checked.ok
    assert summary.posted == 0
    (problem,) = exceptions
    assert problem.kind == "UNMAPPED_SKU"
    assert problem.detail["config_hash"] == config_hash(scenario.mapping)
    assert problem.detail["config_hash"] != checked_with
