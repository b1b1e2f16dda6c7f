"""Discounts as Prima's discount reports need them: the promotion on every line a discount
touched (with the discount code), and order-level and shipping discounts as their own negative
lines per tax rate when configured."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import attrs

from ct_prima_sync.commercetools import parse_order
from ct_prima_sync.mapping import (
    DiscountPresentation,
    MappingConfig,
    OrderDiscountLines,
    map_order,
)
from ct_prima_sync.prima import SalesOrder, SalesOrderCharge, SalesOrderLine, SkuCode
from ct_prima_sync.testing.factories import LineSpec, ShippingSpec, UnitDiscount, make_order

CONFIG = MappingConfig.from_dict(
    {
        "sku": {"rules": [{"pattern": "(?P<product>.+)"}]},
        "depots": {"default": "WH1"},
        "taxes": {"codes": [{"code": "S", "rate": "0.19"}, {"code": "R", "rate": "0.07"}]},
        "shipping": {"default": "CARRIAGE"},
        "prices": {"discounts": "line_discount", "discount_sku": "DISC"},
    }
)


def _order() -> dict[str, Any]:
    order = make_order(
        lines=[
            LineSpec(
                sku="TEE",
                quantity=2,
                unit_price=2000,
                discounts=(UnitDiscount(quantity=2, amount=500, discount_id="summer-sale"),),
            ),
            LineSpec(sku="BOOK", quantity=1, unit_price=1070, tax_rate="0.07"),
        ],
        shipping=ShippingSpec(key="home", name="Standard", price=495, discount=495),
        total_discount=1000,
        total_discount_id="cart-discount-total",
    )
    order["discountCodes"] = [
        {
            "discountCode": {
                "typeId": "discount-code",
                "id": "code-1",
                "obj": {"code": "SAVE10", "cartDiscounts": [{"typeId": "cart-discount",
                                                             "id": "cart-discount-total"}]},
            },
            "state": "MatchesCart",
        }
    ]  # fmt: skip
    return order


def _sales_order(config: MappingConfig) -> SalesOrder:
    mapped = map_order(parse_order(_order()), config)
    assert mapped.issues == ()
    assert mapped.sales_order is not None
    return mapped.sales_order


def test_every_line_a_discount_touched_carries_its_promotion_and_the_code() -> None:
    sales_order = _sales_order(CONFIG)

    promotions = {line.sku.product: line.promotion for line in sales_order.lines}
    assert promotions == {
        "TEE": "summer-sale,cart-discount-total,SAVE10",
        "BOOK": "cart-discount-total,SAVE10",
    }
    assert all(line.discount.minor_units > 0 for line in sales_order.lines)


def _per_rate(sales_order: SalesOrder) -> dict[Decimal, tuple[int, int]]:
    totals: dict[Decimal, list[int]] = defaultdict(lambda: [0, 0])
    entries: list[SalesOrderLine | SalesOrderCharge] = [*sales_order.lines, *sales_order.charges]
    for entry in entries:
        totals[entry.tax_rate][0] += entry.net.minor_units
        totals[entry.tax_rate][1] += entry.tax.minor_units
    return {rate: (net, tax) for rate, (net, tax) in totals.items()}


def test_order_and_shipping_discounts_can_be_their_own_lines_per_tax_rate() -> None:
    spread = _sales_order(CONFIG)
    config = attrs.evolve(CONFIG, order_discounts=OrderDiscountLines.DISCOUNT_LINES)
    separate = _sales_order(config)

    discount_lines = [line for line in separate.lines if line.sku == SkuCode(product="DISC")]
    by_rate = {line.tax_rate: line for line in discount_lines if line.promotion.startswith("cart")}
    assert set(by_rate) == {Decimal("0.19"), Decimal("0.07")}
    assert all(line.gross.minor_units < 0 and line.quantity == 1 for line in discount_lines)
    assert by_rate[Decimal("0.19")].promotion == "cart-discount-total,SAVE10"
    [shipping_discount] = [line for line in discount_lines if line not in by_rate.values()]
    assert shipping_discount.gross.minor_units == -495
    [shipping] = separate.charges
    assert shipping.gross.minor_units == 495  # at its price before the shipping discount
    # The order's figures, per rate and in total, are the same either way.
    assert separate.totals == spread.totals
    assert _per_rate(separate) == _per_rate(spread)


def test_folded_is_the_default_and_still_names_the_promotions() -> None:
    folded = attrs.evolve(CONFIG, discounts=DiscountPresentation.FOLDED)
    sales_order = _sales_order(folded)

    assert all(line.discount.is_zero for line in sales_order.lines)
    assert sales_order.lines[0].promotion.startswith("summer-sale")
    assert MappingConfig().discounts is DiscountPresentation.FOLDED
