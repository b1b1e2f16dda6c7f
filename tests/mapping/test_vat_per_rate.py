"""The VAT base per rate: with a discount on the total over lines, custom lines (as charges and as
products), several tax rates and shipping, net, tax and gross per rate equal commercetools'
figures, and every line's and charge's tax fits its own rate, under every discount presentation,
price basis, discount scope and order-discount lines mode.

commercetools' figures per rate come from the same order shown the other way commercetools may
show it (``total_discount_in_items``: each item's taxed price after its share of the discount),
so the oracle is commercetools' arithmetic, not the mapping's. Whether commercetools spread the
discount over shipping too is not in the order; when both ways give the very same order, either
way's figures are commercetools'.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ct_prima_sync.commercetools import parse_order
from ct_prima_sync.mapping import MappingConfig, map_order
from ct_prima_sync.prima import SalesOrder
from ct_prima_sync.testing.factories import make_order, random_order
from ct_prima_sync.testing.strategies import order_kwargs

from .test_order_properties import CONFIGS

EXAMPLE_CONFIG = MappingConfig.from_toml(
    (Path(__file__).parents[2] / "docs" / "examples" / "mapping.toml").read_text(encoding="utf-8")
)


def _ct_by_rate(payload: dict[str, Any]) -> dict[Decimal, tuple[int, int]]:
    """(net, gross) per rate from the items' taxed prices (after the discount on the total)."""
    infos = [payload["shippingInfo"]] if "shippingInfo" in payload else []
    infos += [entry["shippingInfo"] for entry in payload["shipping"]]
    totals: dict[Decimal, list[int]] = defaultdict(lambda: [0, 0])
    for item in [*payload["lineItems"], *payload["customLineItems"], *infos]:
        bucket = totals[Decimal(repr(item["taxRate"]["amount"]))]
        bucket[0] += item["taxedPrice"]["totalNet"]["centAmount"]
        bucket[1] += item["taxedPrice"]["totalGross"]["centAmount"]
    return {rate: (net, gross) for rate, (net, gross) in totals.items()}


def _nonzero(by_rate: dict[Decimal, tuple[int, int]]) -> dict[Decimal, tuple[int, int]]:
    return {rate: figures for rate, figures in by_rate.items() if figures != (0, 0)}


def _mapped_by_rate(sales_order: SalesOrder) -> dict[Decimal, tuple[int, int]]:
    totals: dict[Decimal, list[int]] = defaultdict(lambda: [0, 0])
    for rate_total in sales_order.totals.by_rate:
        bucket = totals[rate_total.rate]
        bucket[0] += rate_total.net.minor_units
        bucket[1] += rate_total.net.minor_units + rate_total.tax.minor_units
    return {rate: (net, gross) for rate, (net, gross) in totals.items()}


def _assert_every_item_fits_its_rate(sales_order: SalesOrder, payload: dict[str, Any]) -> None:
    """Per commercetools item (its Prima lines, split or with discount lines, added up) and per
    charge: the tax is what the rate gives on the net, within the rounding commercetools did
    (once per line, or once per unit at UnitPriceLevel)."""
    unit_level = payload["taxCalculationMode"] == "UnitPriceLevel"
    custom_units = {c["id"]: c["quantity"] for c in payload["customLineItems"]}
    items: dict[tuple[str, Decimal], list[int]] = defaultdict(lambda: [0, 0, 0])
    for line in sales_order.lines:
        bucket = items[(line.line_reference, line.tax_rate)]
        bucket[0] += line.net.minor_units
        bucket[1] += line.tax.minor_units
        if line.sku.product != "DISCOUNT":  # a discount line is one unit of the line's discount
            bucket[2] += line.quantity
    for charge in sales_order.charges:
        bucket = items[(f"charge:{charge.reference}", charge.tax_rate)]
        bucket[0] += charge.net.minor_units
        bucket[1] += charge.tax.minor_units
        bucket[2] = custom_units.get(charge.reference, 1)
    per_rate: dict[Decimal, int] = defaultdict(int)
    for (_reference, rate), (_, _, quantity) in items.items():
        per_rate[rate] += (quantity if unit_level else 1) + 1
    for (reference, rate), (net, tax, quantity) in items.items():
        units = quantity if unit_level else 1
        if not reference:
            # An order-level discount line is the rate's items before minus after the discount:
            # each rounded once before (per unit at UnitPriceLevel) and once after.
            units = per_rate[rate]
        allowed = (1 + Fraction(rate)) * Fraction(units + 1, 2)
        assert abs(tax - Fraction(rate) * net) <= allowed, (reference, rate, net, tax)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kwargs=order_kwargs(
        max_lines=5, min_rates=2, min_custom_lines=1, min_shipping=1, total_discount=True
    ),
    config=st.sampled_from(CONFIGS),
)
def test_net_tax_and_gross_per_rate_equal_commercetools_and_every_item_fits_its_rate(
    kwargs: dict[str, Any], config: MappingConfig
) -> None:
    payload = make_order(**kwargs)
    assume(payload.get("discountOnTotalPrice") is not None)
    rates = {ln.tax_rate for ln in kwargs["lines"]} | {c.tax_rate for c in kwargs["custom_lines"]}
    assume(len(rates) > 1)
    truths = [_ct_by_rate(make_order(**kwargs, total_discount_in_items=True))]
    other_way = {**kwargs, "discount_shipping_in_total": not kwargs["discount_shipping_in_total"]}
    if make_order(**other_way) == payload:
        truths.append(_ct_by_rate(make_order(**other_way, total_discount_in_items=True)))

    mapped = map_order(parse_order(payload), config)

    assert mapped.issues == ()
    assert mapped.sales_order is not None
    assert _nonzero(_mapped_by_rate(mapped.sales_order)) in [_nonzero(t) for t in truths]
    _assert_every_item_fits_its_rate(mapped.sales_order, payload)


def test_the_example_configuration_keeps_gift_wrap_charges_at_their_rate() -> None:
    # random_order put gift wrap (a charge in docs/examples/mapping.toml) under a discount on the
    # total; before the fix, 7 of these 200 seeds posted it e.g. at 16 % under the 19 % code.
    for seed in range(200):
        payload = random_order(seed)
        mapped = map_order(parse_order(payload), EXAMPLE_CONFIG)
        assert mapped.ok, (seed, mapped.issues)
        assert mapped.sales_order is not None
        _assert_every_item_fits_its_rate(mapped.sales_order, payload)
        if payload.get("discountOnTotalPrice") is None:
            continue
        truth = _ct_by_rate(random_order(seed, total_discount_in_items=True))
        assert _nonzero(_mapped_by_rate(mapped.sales_order)) == _nonzero(truth)
