"""The customer code Prima returns for an order sent with an empty ``Customer`` is stored under
the customer's key, and the customer's next order goes with that account: no customer request is
sent, and Prima never makes two accounts for one new customer."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ct_prima_sync.commercetools import Order, parse_order
from ct_prima_sync.engine import CustomerPolicy, SyncEngine
from ct_prima_sync.engine._customers import customer_identity
from ct_prima_sync.prima import CustomerDetails
from ct_prima_sync.state import StateStore
from ct_prima_sync.testing import FakePrima, PrimaRequestKind
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

from .conftest import one_line_order

EngineFactory = Callable[..., SyncEngine]
SECRET = "0123456789abcdef-secret"
GUEST = "new.customer@example.com"


@pytest.fixture
def scenario() -> SyncScenario:
    built = build_scenario(orders=0, seed=9)
    for n in (1, 2):
        built.commercetools.add_order(one_line_order(built, f"NEW-{n}", email=GUEST, seed=n))
    return SyncScenario(
        commercetools=built.commercetools,
        world=built.world,
        mapping=built.mapping,
        good=("NEW-1", "NEW-2"),
        bad={},
        first_order_at=built.first_order_at,
    )


def test_the_customer_code_prima_returns_is_used_for_the_next_order(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    prima = FakePrima(scenario.world, sleep=lambda _s: None)
    engine = make_engine(
        store,
        prima=prima,
        concurrency=2,
        claim_batch=2,
        customers=CustomerPolicy(lookup_by_email=False, create_missing=False),
        customer_key_secret=SECRET,
    )

    summary = engine.sync_orders()
    assert summary.posted == 2, [e.detail for e in engine.exceptions()]

    first, second = (scenario.world.order(n) for n in ("NEW-1", "NEW-2"))
    sent = sorted([first, second], key=lambda o: o.order.customer.account_code)
    assert sent[0].order.customer.account_code == ""  # the first went for Prima to match
    assert sent[1].order.customer.account_code == sent[0].account_code  # the second with it
    assert len([c for c in scenario.world.customers() if c.email == GUEST]) == 1
    key, _ = customer_identity(_ct_order(scenario, "NEW-1"), CustomerDetails(email=GUEST), SECRET)
    assert key is not None
    assert store.get_customer(key).account_code == sent[0].account_code  # type: ignore[union-attr]
    assert prima.world.requests(PrimaRequestKind.FIND_CUSTOMER) == []
    assert prima.world.requests(PrimaRequestKind.CREATE_CUSTOMER) == []


def _ct_order(scenario: SyncScenario, number: str) -> Order:
    return parse_order(
        next(o for o in scenario.commercetools.orders() if o["orderNumber"] == number)
    )
