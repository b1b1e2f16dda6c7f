"""Over generated checkouts through FakeCommercetools with the guard registered: no order the
guard accepts ever becomes a mapping exception in the order run, and every order placed reaches
Prima. Shoppers add lines one by one (a refused line is left out, as a shop would), give an
address and a shipping method, and place the order."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ct_prima_sync.checkout import app, extension_draft, parse_triggers
from ct_prima_sync.commercetools import CommercetoolsClient
from ct_prima_sync.engine import EngineConfig, FakeClock, SyncEngine
from ct_prima_sync.errors import ValidationError
from ct_prima_sync.mapping import CheckoutConfig
from ct_prima_sync.state import open_store
from ct_prima_sync.testing import FakePrima
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario, connect_commercetools

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

AUTH = "Bearer property"
#: What a line may be: three mapped SKUs, one the shop sells at a rate Prima has no code for,
#: one Prima's mapping does not know.
KINDS = ("mapped-0", "mapped-1", "mapped-2", "unmapped-rate", "unmapped-sku")
TRIGGERS = (("cart:Create,Update", "order:Create"), ("order:Create",), ("cart:Update",))


def _catalogue(scenario: SyncScenario) -> dict[str, str]:
    skus = ["-".join((s.product, *s.matrix)) for s in scenario.world.skus()[:4]]
    fake = scenario.commercetools
    for sku in skus[:3]:
        fake.add_product(sku, price=1999)
    fake.add_product(skus[3], price=1160, tax_rate="0.16")  # a real 16 % rate, mapped to nothing
    fake.add_product("MUG-UNMAPPED", price=990)
    return {
        "mapped-0": skus[0],
        "mapped-1": skus[1],
        "mapped-2": skus[2],
        "unmapped-rate": skus[3],
        "unmapped-sku": "MUG-UNMAPPED",
    }


def _try(work: Any) -> Any:
    try:
        return work()
    except ValidationError:
        return None


def _checkout(
    shop: CommercetoolsClient, lines: list[tuple[str, int]], method: str, number: str
) -> bool:
    """One shopper's checkout; True when an order was placed."""
    first, *rest = lines
    cart = _try(
        lambda: shop.request(
            "POST",
            "/carts",
            json={"currency": "EUR", "lineItems": [{"sku": first[0], "quantity": first[1]}]},
        )
    )
    if cart is None:
        return False
    for sku, quantity in rest:
        action = {"action": "addLineItem", "sku": sku, "quantity": quantity}
        body = {"version": cart["version"], "actions": [action]}
        path = f"/carts/{cart['id']}"
        cart = _try(lambda path=path, body=body: shop.request("POST", path, json=body)) or cart
    shipping = [
        {"action": "setShippingAddress", "address": {"country": "DE"}},
        {
            "action": "setCustomShippingMethod",
            "shippingMethodName": method,
            "shippingRate": {"price": {"currencyCode": "EUR", "centAmount": 495}},
        },
    ]
    body = {"version": cart["version"], "actions": shipping}
    cart = _try(lambda: shop.request("POST", f"/carts/{cart['id']}", json=body))
    if cart is None:
        return False
    order = _try(
        lambda: shop.request(
            "POST",
            "/orders",
            json={"cart": {"id": cart["id"]}, "version": cart["version"], "orderNumber": number},
        )
    )
    return order is not None


@example(  # the one line the shop cannot sell is left out; a 16 % basket stops at the address
    triggers=TRIGGERS[0],
    shoppers=[
        ([("mapped-0", 2), ("unmapped-sku", 1), ("mapped-1", 1)], "Standard"),
        ([("mapped-2", 1), ("unmapped-rate", 1)], "Express"),
    ],
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    triggers=st.sampled_from(TRIGGERS),
    shoppers=st.lists(
        st.tuples(
            st.lists(st.tuples(st.sampled_from(KINDS), st.integers(1, 4)), min_size=1, max_size=4),
            st.sampled_from(("Standard", "Express")),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_no_order_the_guard_accepts_becomes_a_mapping_exception(
    triggers: tuple[str, ...], shoppers: list[tuple[list[tuple[str, int]], str]]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        from starlette.testclient import TestClient

    clock = FakeClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    scenario = build_scenario(orders=0, seed=5, clock=clock.now)
    skus = _catalogue(scenario)
    guard = app(CheckoutConfig(mapping=scenario.mapping), authorization=AUTH)
    placed: list[str] = []
    with (
        TestClient(guard) as hook,
        connect_commercetools(scenario.commercetools, sleep=lambda _s: None) as shop,
    ):
        scenario.commercetools.extension_client = hook
        shop.extensions.put(
            extension_draft(
                key="guard",
                url="http://testserver/",
                triggers=parse_triggers(triggers),
                timeout_in_ms=2000,
                authorization=AUTH,
            )
        )
        for n, (lines, method) in enumerate(shoppers):
            number = f"WEB-P-{n}"
            if _checkout(shop, [(skus[k], q) for k, q in lines], method, number):
                placed.append(number)
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
        exceptions = store.list_exceptions()

    assert exceptions == []
    assert summary.posted == len(placed)
    assert sorted(o.order_number for o in scenario.world.orders()) == sorted(placed)
