"""An order whose own figures do not add up yields TOTALS_MISMATCH with the exact difference
(mapped minus commercetools) and no sales order: nothing is ever adjusted to fit."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ct_prima_sync.commercetools import parse_order
from ct_prima_sync.mapping import IssueCode, IssueOwner, MappedOrder, MappingConfig, map_order
from ct_prima_sync.money import Money
from ct_prima_sync.testing.factories import LineSpec, ShippingSpec, make_order
from ct_prima_sync.testing.strategies import TAX_RATES, order_payloads

CONFIG = MappingConfig.from_dict(
    {
        "sku": {"rules": [{"pattern": r"(?P<product>SKU)-(?P<n>\d+)", "matrix": ["n"]}]},
        "depots": {
            "default": "WH1",
            "supply_channels": {"channel-berlin": "WH1", "channel-hamburg": "WH2"},
        },
        "taxes": {"codes": [{"code": f"T{rate}", "rate": rate} for rate in TAX_RATES]},
        "shipping": {"default": "CARRIAGE"},
        "custom_lines": {"gift-wrap": {"charge": "GW"}, "insurance": {"product": "INS"}},
    }
)


def _order() -> dict[str, Any]:
    return make_order(
        lines=[
            LineSpec(sku="SKU-1", quantity=2, unit_price=1000),
            LineSpec(sku="SKU-2", quantity=1, unit_price=500, tax_rate="0.07"),
        ],
        shipping=ShippingSpec(key="std", name="Standard", price=495),
        total_discount=300,
    )


def _mismatches(payload: dict[str, Any]) -> list[tuple[str, Money | None]]:
    mapped: MappedOrder = map_order(parse_order(payload), CONFIG)
    if mapped.issues:
        assert mapped.sales_order is None
    return [
        (issue.path, issue.difference)
        for issue in mapped.issues
        if issue.code is IssueCode.TOTALS_MISMATCH
    ]


def eur(units: int) -> Money:
    return Money(units, "EUR", 2)


def test_the_untampered_order_has_no_mismatch() -> None:
    assert map_order(parse_order(_order()), CONFIG).ok


def test_a_gross_total_three_cents_too_high_is_reported_as_minus_three_cents() -> None:
    payload = _order()
    payload["taxedPrice"]["totalGross"]["centAmount"] += 3

    assert _mismatches(payload) == [("taxedPrice.totalGross", eur(-3))]


def test_a_tampered_tax_portion_is_reported_for_its_rate() -> None:
    payload = _order()
    portion = next(p for p in payload["taxedPrice"]["taxPortions"] if p["rate"] == 0.07)
    portion["amount"]["centAmount"] += 2

    found = _mismatches(payload)
    assert found
    assert all(difference is not None for _, difference in found)
    assert ("taxedPrice.totalNet", eur(2)) in found or (
        "discountOnTotalPrice",
        eur(-2),
    ) in found


def test_a_total_price_that_disagrees_with_the_taxed_price_is_reported() -> None:
    payload = _order()
    payload["totalPrice"]["centAmount"] -= 1

    assert _mismatches(payload) == [("totalPrice", eur(1))]


def test_a_line_total_that_is_not_its_unit_prices_times_quantities_is_reported() -> None:
    payload = _order()
    payload["lineItems"][0]["totalPrice"]["centAmount"] += 5
    payload["lineItems"][0]["taxedPrice"]["totalGross"]["centAmount"] += 5

    assert ("lineItems[0].totalPrice", eur(5)) in _mismatches(payload)


def test_a_line_whose_net_and_gross_disagree_with_its_tax_portions_is_reported() -> None:
    payload = _order()
    payload["lineItems"][1]["taxedPrice"]["totalNet"]["centAmount"] -= 1

    assert ("lineItems[1].taxedPrice.totalTax", eur(1)) in _mismatches(payload)


def test_a_discount_whose_net_and_gross_amounts_disagree_with_the_portions_is_reported() -> None:
    payload = _order()
    payload["discountOnTotalPrice"]["discountedNetAmount"]["centAmount"] += 1

    assert _mismatches(payload) == [("discountOnTotalPrice", eur(1))]


def test_totals_mismatches_belong_to_finance() -> None:
    payload = _order()
    payload["taxedPrice"]["totalNet"]["centAmount"] += 1
    mapped = map_order(parse_order(payload), CONFIG)

    assert {issue.owner for issue in mapped.issues} == {IssueOwner.FINANCE}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payload=order_payloads(max_lines=4),
    field=st.sampled_from(("totalNet", "totalGross")),
    delta=st.integers(-1000, 1000).filter(bool),
)
def test_any_tampered_order_total_gives_a_mismatch_of_exactly_the_tampering(
    payload: dict[str, Any], field: str, delta: int
) -> None:
    payload["taxedPrice"][field]["centAmount"] += delta
    money = payload["totalPrice"]

    found = _mismatches(payload)
    assert (
        f"taxedPrice.{field}",
        Money(-delta, money["currencyCode"], money["fractionDigits"]),
    ) in found
