"""The order factory: its payloads parse, repeat for a seed, and add up as commercetools adds up."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ct_prima_sync.commercetools import parse_order
from ct_prima_sync.money import RoundingMode, round_fraction
from ct_prima_sync.testing._order_parts import round_div
from ct_prima_sync.testing.factories import (
    LineSpec,
    ShippingSpec,
    UnitDiscount,
    make_order,
    random_order,
)
from ct_prima_sync.testing.strategies import order_payloads


def _units(money: dict[str, Any]) -> int:
    value = money["centAmount"]
    assert isinstance(value, int)
    return value


def test_random_orders_repeat_for_a_seed_and_differ_between_seeds() -> None:
    assert random_order(7) == random_order(7)
    assert random_order(7) != random_order(8)


def test_random_orders_parse() -> None:
    for seed in range(50):
        order = parse_order(random_order(seed))
        assert order.order_number == f"ORD-{seed}"


@given(
    numerator=st.integers(-(10**9), 10**9),
    denominator=st.integers(1, 10**6),
    mode=st.sampled_from(tuple(RoundingMode)),
)
def test_the_factorys_integer_rounding_agrees_with_money_rounding(
    numerator: int, denominator: int, mode: RoundingMode
) -> None:
    assert round_div(numerator, denominator, mode) == round_fraction(
        Fraction(numerator, denominator), mode
    )


def test_split_quantities_price_each_part_at_its_own_unit_price() -> None:
    payload = make_order(
        lines=[
            LineSpec(
                sku="A-1",
                quantity=5,
                unit_price=1000,
                discounts=(
                    UnitDiscount(quantity=2, amount=100),
                    UnitDiscount(quantity=1, amount=250, discount_id="direct-x"),
                ),
            )
        ]
    )
    (line,) = payload["lineItems"]

    assert [p["quantity"] for p in line["discountedPricePerQuantity"]] == [2, 1]
    assert _units(line["totalPrice"]) == 2 * 900 + 750 + 2 * 1000
    assert payload["directDiscounts"][0]["id"] == "direct-x"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=order_payloads())
def test_every_payload_adds_up_the_way_commercetools_adds_up(payload: dict[str, Any]) -> None:
    items = [*payload["lineItems"], *payload["customLineItems"]]
    infos = [s["shippingInfo"] for s in payload["shipping"]]
    if "shippingInfo" in payload:
        infos.append(payload["shippingInfo"])
    gross_prices = all(item["taxRate"]["includedInPrice"] for item in items)
    basis = "totalGross" if gross_prices else "totalNet"
    totals = [_units(i["totalPrice"]) for i in items]
    totals += [
        _units(info.get("discountedPrice", {}).get("value") or info["price"]) for info in infos
    ]
    discount = payload.get("discountOnTotalPrice")
    cut = _units(discount["discountedAmount"]) if discount else 0
    taxed = payload["taxedPrice"]

    assert sum(totals) - cut == _units(payload["totalPrice"]) == _units(taxed[basis])
    assert _units(taxed["totalNet"]) + _units(taxed["totalTax"]) == _units(taxed["totalGross"])
    assert sum(_units(p["amount"]) for p in taxed["taxPortions"]) == _units(taxed["totalTax"])
    for thing in [*items, *infos]:
        item_taxed = thing["taxedPrice"]
        assert _units(item_taxed["totalNet"]) + _units(item_taxed["totalTax"]) == _units(
            item_taxed["totalGross"]
        )
    if discount:
        by_rate: dict[float, int] = defaultdict(int)
        for thing in [*items, *infos]:
            by_rate[thing["taxRate"]["amount"]] += _units(thing["taxedPrice"]["totalTax"])
        tax_cut = sum(by_rate.values()) - _units(taxed["totalTax"])
        assert (
            _units(discount["discountedGrossAmount"]) - _units(discount["discountedNetAmount"])
            == tax_cut
        )


def test_multiple_shipping_gives_one_shipping_entry_per_key_and_item_targets() -> None:
    payload = make_order(
        lines=[LineSpec(sku="A-1", quantity=2, unit_price=100)],
        shipping=[
            ShippingSpec(key="home", name="Standard", price=500),
            ShippingSpec(key="office", name="Express", price=900, discount=900),
        ],
    )

    assert payload["shippingMode"] == "Multiple"
    assert [s["shippingKey"] for s in payload["shipping"]] == ["home", "office"]
    assert payload["lineItems"][0]["shippingDetails"]["targets"][0]["quantity"] == 2
    assert _units(payload["taxedShippingPrice"]["totalGross"]) == 500
