"""Reconciliation matching: each kind of difference is named by its type and owner, with the
amount it is off by, and an order that agrees everywhere is matched and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ct_prima_sync.mapping import (
    BatchCheck,
    GapType,
    PrimaListedOrder,
    ReconciledOrder,
    match_orders,
)
from ct_prima_sync.money import Money


def _order(**changes: Any) -> ReconciledOrder:
    values: dict[str, Any] = {
        "order_id": "o1",
        "order_number": "N1",
        "currency": "EUR",
        "fraction_digits": 2,
        "ct_gross": 1000,
        "eligible": True,
        "ledger_gross": 1000,
        "in_prima": True,
        "expected": (("charge:t1", 1000),),
        "batched": (("charge:t1", 1000),),
    }
    values.update(changes)
    return ReconciledOrder(**values)


@pytest.mark.parametrize(
    ("changes", "gap", "owner", "difference"),
    [
        (
            {"ledger_gross": None, "in_prima": None, "batched": ()},
            GapType.ORPHAN,
            "operations",
            1000,
        ),
        ({"in_prima": False, "batched": ()}, GapType.NOT_IN_PRIMA, "operations", 1000),
        (
            {"ct_gross": 1200, "batched": (), "expected": ()},
            GapType.AMOUNT_DIFFERS,
            "ecommerce",
            200,
        ),
        ({"ct_gross": 900}, GapType.EDITED_AFTER_POSTING, "finance", -100),
        ({"batched": ()}, GapType.NOT_POSTED, "finance", 1000),
        ({"reversal_due": True}, GapType.MISSING_REVERSAL, "finance", -1000),
    ],
)
def test_each_difference_is_one_gap_of_its_type_with_its_owner_and_amount(
    changes: dict[str, Any], gap: GapType, owner: str, difference: int
) -> None:
    result = match_orders([_order(**changes)], prima_listing=[])
    [found] = result.gaps
    assert (found.type, found.owner, found.order_number) == (gap, owner, "N1")
    assert found.difference == Money.of(difference, "EUR", 2)
    assert not result.balanced


def test_an_order_that_agrees_everywhere_is_matched_and_the_month_balances() -> None:
    result = match_orders([_order(), _order(order_id="o2", order_number="N2")], prima_listing=[])
    [totals] = result.totals
    assert (totals.orders, totals.matched, totals.posted, totals.expected) == (
        2, 2, Money.of(2000, "EUR", 2), Money.of(2000, "EUR", 2)
    )  # fmt: skip
    assert result.balanced
    assert result.not_run == ()


def test_a_refunded_order_with_its_reversal_posted_is_no_gap() -> None:
    order = _order(
        reversal_due=True,
        expected=(("charge:t1", 1000), ("refund:t2", -1000)),
        batched=(("charge:t1", 1000), ("refund:t2", -1000)),
    )
    assert match_orders([order], prima_listing=[]).gaps == ()


def test_prima_only_orders_and_wrong_batches_are_named_and_a_missing_listing_is_said() -> None:
    listed = [
        PrimaListedOrder(order_number="N1", currency="EUR", gross=Money.of(1000, "EUR", 2)),
        PrimaListedOrder(order_number="P9", currency="EUR", gross=Money.of(4200, "EUR", 2)),
        PrimaListedOrder(order_number="OLD", currency="EUR", gross=Money.of(1, "EUR", 2)),
    ]
    batch = BatchCheck(
        batch_id="B1", currency="EUR", fraction_digits=2, journal_gross=1001, members_gross=1000
    )
    result = match_orders([_order()], batches=[batch], prima_listing=listed, known_numbers=["OLD"])
    assert [(g.type, g.order_number or g.batch_id) for g in result.gaps] == [
        (GapType.UNKNOWN_TO_COMMERCETOOLS, "P9"),
        (GapType.BATCH_MISMATCH, "B1"),
    ]
    assert "not run" in match_orders([_order()], prima_listing=None).not_run[0]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10**7), max_size=20))
def test_posted_equals_expected_exactly_when_every_entry_is_batched_as_computed(
    amounts: list[int],
) -> None:
    orders = [
        _order(order_id=f"o{i}", order_number=f"N{i}", ct_gross=a, ledger_gross=a,
               expected=(("charge:t", a),), batched=(("charge:t", a),))
        for i, a in enumerate(amounts)
    ]  # fmt: skip
    result = match_orders(orders, prima_listing=[])
    assert result.balanced
    assert sum(t.posted.minor_units for t in result.totals) == sum(amounts)
