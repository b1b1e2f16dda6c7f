"""The engine reads an order's commercetools Payments (scope ``view_payments``) when the mapping
asks for them, and the Prima order carries them; an order its payments do not cover waits for
finance with the difference."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from ct_prima_sync.engine import SyncEngine
from ct_prima_sync.mapping import PaymentConfig, PayMethod
from ct_prima_sync.state import ExceptionFilter, Owner, StateStore
from ct_prima_sync.testing.factories import make_payment
from ct_prima_sync.testing.scenario import SyncScenario

EngineFactory = Callable[..., SyncEngine]


def test_payments_read_by_the_engine_reach_prima_and_an_uncovered_order_waits(
    store: StateStore, make_engine: EngineFactory, scenario: SyncScenario
) -> None:
    fake = scenario.commercetools
    orders = {o["orderNumber"]: o for o in fake.orders()}
    covered, short = scenario.good[0], scenario.good[1]
    for seed, number in enumerate(scenario.good):
        order = orders[number]
        gross = order["taxedPrice"]["totalGross"]["centAmount"]
        amount = gross if number == covered else gross - 100
        currency = order["totalPrice"]["currencyCode"]
        transactions = [("Authorization", amount, "Success"), ("Charge", amount, "Success")]
        payment = make_payment(amount, currency=currency, transactions=transactions, seed=seed)
        fake.add_payment(payment, order_id=order["id"])
    mapping = attrs.evolve(
        scenario.mapping,
        payments=PaymentConfig(
            read_payments=True, methods={"card": PayMethod(method="CC")}, check_coverage=True
        ),
    )
    fake.clear_requests()

    make_engine(store, mapping=mapping).sync_orders()

    paid = scenario.world.order(covered).order
    assert [(p.pay_method, p.provider, p.transaction_id) for p in paid.payments] == [
        ("CC", "stripe", "psp-charge-1")
    ]
    assert paid.order_paid
    assert scenario.world.submission_count(short) == 0
    [problem] = store.list_exceptions(
        ExceptionFilter(kind="PAYMENT_MISMATCH", order_id=orders[short]["id"])
    )
    assert problem.owner is Owner.FINANCE
    assert problem.detail["message"].endswith("(difference: EUR -1.00)")
    assert any(
        r.path.endswith("/payments/" + paid_ref)
        for r in fake.requests
        for paid_ref in [fake.order(orders[covered]["id"])["paymentInfo"]["payments"][0]["id"]]
    )


def test_without_read_payments_the_engine_asks_commercetools_for_no_payment(
    store: StateStore, make_engine: EngineFactory, scenario: SyncScenario
) -> None:
    scenario.commercetools.clear_requests()

    make_engine(store).sync_orders()

    assert not [r for r in scenario.commercetools.requests if "/payments" in r.path]
