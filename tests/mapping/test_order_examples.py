"""Hand-checked examples, one per mapping rule. Every expected figure was worked out by hand
(the working is in the comments), not computed by the code under test."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from ct_prima_sync.commercetools import parse_order
from ct_prima_sync.mapping import (
    CustomLineTarget,
    DiscountPresentation,
    MappingConfig,
    PaymentConfig,
    PayMethod,
    PriceBasis,
    map_order,
)
from ct_prima_sync.money import Money, RoundingMode
from ct_prima_sync.prima import SalesOrder, SkuCode
from ct_prima_sync.testing.factories import (
    CustomLineSpec,
    LineSpec,
    ShippingSpec,
    UnitDiscount,
    make_order,
)

CONFIG = MappingConfig.from_dict(
    {
        "sku": {"rules": [{"pattern": r"(?P<product>[A-Z]+)-(?P<size>\w+)", "matrix": ["size"]}]},
        "depots": {"default": "WH1", "supply_channels": {"berlin": "BER"}},
        "taxes": {
            "codes": [
                {"code": "S", "rate": "0.19"},
                {"code": "R", "rate": "0.07"},
                {"code": "J", "rate": "0.1"},
                {"code": "K", "rate": "0.05"},
            ]
        },
        "shipping": {"default": "CARRIAGE", "keys": {"ship-0": "CARR-STD"}},
        "prices": {"discount_sku": "DISCOUNT"},
        "order_channel": "WEB",
    }
)


def _map(payload: dict[str, Any], config: MappingConfig = CONFIG) -> SalesOrder:
    mapped = map_order(parse_order(payload), config)
    assert mapped.issues == ()
    assert mapped.sales_order is not None
    return mapped.sales_order


def eur(units: int) -> Money:
    return Money(units, "EUR", 2)


def _rows(sales_order: SalesOrder) -> list[tuple[str, int, int, int, int, int, int]]:
    return [
        (
            str(line.sku),
            line.quantity,
            line.price.minor_units,
            line.net.minor_units,
            line.tax.minor_units,
            line.gross.minor_units,
            line.discount.minor_units,
        )
        for line in sales_order.lines
    ]


def test_a_plain_gross_order_keeps_commercetools_figures_line_by_line() -> None:
    # 3 x 10.00 at 19 %: net = round(30.00 / 1.19 = 25.2100..) = 25.21, tax 4.79.
    # 2 x 5.00 at 7 %: net = round(10.00 / 1.07 = 9.3457..) = 9.35, tax 0.65.
    # Shipping 4.95 at 19 %: net = round(4.95 / 1.19 = 4.1596..) = 4.16, tax 0.79.
    payload = make_order(
        lines=[
            LineSpec(sku="SHIRT-M", quantity=3, unit_price=1000),
            LineSpec(sku="SOCK-42", quantity=2, unit_price=500, tax_rate="0.07"),
        ],
        shipping=ShippingSpec(key="std", name="Standard", price=495),
    )
    sales_order = _map(payload)

    assert _rows(sales_order) == [
        ("SHIRT/M", 3, 1000, 2521, 479, 3000, 0),
        ("SOCK/42", 2, 500, 935, 65, 1000, 0),
    ]
    (charge,) = sales_order.charges
    assert (charge.charge_code, charge.value, charge.net, charge.tax) == (
        "CARRIAGE",
        eur(495),
        eur(416),
        eur(79),
    )
    assert sales_order.totals.net == eur(2521 + 935 + 416)
    assert sales_order.totals.tax == eur(479 + 65 + 79)
    assert sales_order.totals.gross == eur(4495)
    assert [(t.tax_code, t.tax) for t in sales_order.totals.by_rate] == [
        ("R", eur(65)),
        ("S", eur(479 + 79)),
    ]
    assert sales_order.order_channel == "WEB"
    assert sales_order.vat_inclusive is True


def _split_order() -> dict[str, Any]:
    # 3 units at 4.00, one of them discounted by 2.00: total 4.00 + 4.00 + 2.00 = 10.00 gross.
    # 19 %: net = round(10.00 / 1.19 = 8.4033..) = 8.40, tax 1.60.
    return make_order(
        lines=[
            LineSpec(
                sku="CAP-L",
                quantity=3,
                unit_price=400,
                discounts=(UnitDiscount(quantity=1, amount=200),),
            )
        ]
    )


def test_a_unit_price_that_does_not_divide_splits_into_two_lines_one_cent_apart() -> None:
    # 10.00 / 3 = 3.33 rest 0.01: 2 units at 3.33 (6.66) and 1 unit at 3.34.
    # Tax 1.60 split 666:334 -> 1.0656 and 0.5344 -> floors 1.06 + 0.53, the last cent to the
    # larger remainder (.56): 1.07 and 0.53.
    order = _split_order()
    sales_order = _map(order)

    assert _rows(sales_order) == [
        ("CAP/L", 2, 333, 559, 107, 666, 0),
        ("CAP/L", 1, 334, 281, 53, 334, 0),
    ]
    assert {line.line_reference for line in sales_order.lines} == {order["lineItems"][0]["id"]}


def test_a_line_price_basis_never_splits() -> None:
    config = attrs.evolve(CONFIG, price_basis=PriceBasis.LINE)

    assert _rows(_map(_split_order(), config)) == [("CAP/L", 3, 1000, 840, 160, 1000, 0)]


def test_line_discount_presentation_shows_the_list_price_and_the_discount() -> None:
    # List 3 x 4.00 = 12.00; after discount 10.00; discount 2.00.
    config = attrs.evolve(CONFIG, discounts=DiscountPresentation.LINE_DISCOUNT)

    assert _rows(_map(_split_order(), config)) == [("CAP/L", 3, 400, 840, 160, 1000, 200)]


def test_discount_lines_presentation_adds_a_negative_line_that_carries_the_difference() -> None:
    # List line 12.00: net round(12.00 / 1.19 = 10.0840..) = 10.08, tax 1.92.
    # Discount line = after minus list: net 8.40 - 10.08 = -1.68, tax 1.60 - 1.92 = -0.32.
    config = attrs.evolve(CONFIG, discounts=DiscountPresentation.DISCOUNT_LINES)

    assert _rows(_map(_split_order(), config)) == [
        ("CAP/L", 3, 400, 1008, 192, 1200, 0),
        ("DISCOUNT", 1, -200, -168, -32, -200, 0),
    ]


def test_a_discount_on_the_total_price_is_spread_exactly_over_lines_and_rates() -> None:
    # Lines 60.00 at 19 % and 40.00 at 7 %, 10.00 off the total: shares 6.00 and 4.00.
    # Before: 60.00 -> net 50.42 tax 9.58; 40.00 -> net 37.38 tax 2.62.
    # After:  54.00 -> net round(45.378..) = 45.38 tax 8.62; 36.00 -> net round(33.644..) = 33.64
    # tax 2.36. The order's portions are 8.62 and 2.36, so the tax cut is 0.96 and 0.26.
    payload = make_order(
        lines=[
            LineSpec(sku="COAT-XL", quantity=1, unit_price=6000),
            LineSpec(sku="BOOK-1", quantity=1, unit_price=4000, tax_rate="0.07"),
        ],
        total_discount=1000,
    )
    assert payload["discountOnTotalPrice"]["discountedNetAmount"]["centAmount"] == 878
    config = attrs.evolve(CONFIG, discounts=DiscountPresentation.LINE_DISCOUNT)

    assert _rows(_map(payload, config)) == [
        ("COAT/XL", 1, 6000, 4538, 862, 5400, 600),
        ("BOOK/1", 1, 4000, 3364, 236, 3600, 400),
    ]


def test_net_prices_in_yen_map_to_gross_prices_for_prima() -> None:
    # JPY (0 digits), net prices, HalfUp: 3 x 333 = 999 net, tax round(99.9) = 100, gross 1099.
    # Gross per unit 1099 / 3 = 366 rest 1: 2 at 366 (732) and 1 at 367.
    # Tax 100 split 732:367 -> 66.6.. and 33.3.. -> 66 + 33, the last yen to .6: 67 and 33.
    payload = make_order(
        lines=[LineSpec(sku="TEA-G", quantity=3, unit_price=333, tax_rate="0.1")],
        currency="JPY",
        tax_included=False,
        tax_rounding=RoundingMode.HALF_UP,
    )
    sales_order = _map(payload)

    assert _rows(sales_order) == [
        ("TEA/G", 2, 366, 665, 67, 732, 0),
        ("TEA/G", 1, 367, 334, 33, 367, 0),
    ]
    assert sales_order.totals.gross == Money(1099, "JPY", 0)


def test_unit_price_level_tax_rounds_per_unit() -> None:
    # commercetools' own example: 3 x 1.08 net at 19 %, tax per unit round(0.2052) = 0.21,
    # so 0.63 tax and 3.87 gross (line level would give 0.62 and 3.86).
    payload = make_order(
        lines=[LineSpec(sku="PEN-B", quantity=3, unit_price=108)],
        tax_included=False,
        tax_calculation="UnitPriceLevel",
    )
    config = attrs.evolve(CONFIG, vat_inclusive=False)

    assert _rows(_map(payload, config)) == [("PEN/B", 3, 108, 324, 63, 387, 0)]


def test_a_high_precision_price_in_dinar_is_rounded_once_then_split_exactly() -> None:
    # KWD (3 digits): 0.12345 x 7 = 0.86415 -> HalfEven 0.864. 5 % included:
    # net round(0.864 / 1.05 = 0.82285..) = 0.823, tax 0.041.
    # 864 / 7 = 123 rest 3: 4 at 0.123 (0.492) and 3 at 0.124 (0.372).
    # Tax 41 split 492:372 -> 23.35.. + 17.64.. -> 23 + 17, the last fils to .64: 23 and 18.
    payload = make_order(
        lines=[
            LineSpec(sku="OUD-S", quantity=7, unit_price=12345, tax_rate="0.05", precise_digits=5)
        ],
        currency="KWD",
    )
    sales_order = _map(payload)

    assert _rows(sales_order) == [
        ("OUD/S", 4, 123, 469, 23, 492, 0),
        ("OUD/S", 3, 124, 354, 18, 372, 0),
    ]


def test_multiple_shipping_with_a_shipping_discount_gives_one_charge_per_shipping_key() -> None:
    # ship-0: 5.00 less 1.00 = 4.00 gross -> net round(3.361..) = 3.36, tax 0.64.
    # ship-1: 9.00 gross -> net round(7.563..) = 7.56, tax 1.44.
    payload = make_order(
        lines=[LineSpec(sku="MUG-W", quantity=1, unit_price=1200)],
        shipping=[
            ShippingSpec(key="ship-0", name="Standard", price=500, discount=100),
            ShippingSpec(key="ship-1", name="Express", price=900),
        ],
    )
    config = attrs.evolve(
        CONFIG, shipping=attrs.evolve(CONFIG.shipping, methods={"Express": "EXPRESS"})
    )
    charges = _map(payload, config).charges

    assert [(c.charge_code, c.reference, c.value, c.net, c.tax) for c in charges] == [
        ("CARR-STD", "ship-0", eur(400), eur(336), eur(64)),
        ("EXPRESS", "ship-1", eur(900), eur(756), eur(144)),
    ]


def test_a_gift_line_maps_at_zero() -> None:
    payload = make_order(
        lines=[
            LineSpec(sku="BAG-1", quantity=1, unit_price=2000),
            LineSpec(sku="GIFT-1", quantity=2, unit_price=0, gift=True),
        ]
    )

    assert _rows(_map(payload))[1] == ("GIFT/1", 2, 0, 0, 0, 0, 0)


def test_the_supply_channel_picks_the_depot_and_the_tax_rate_the_tax_code() -> None:
    payload = make_order(
        lines=[LineSpec(sku="HAT-S", quantity=1, unit_price=100, supply_channel="berlin")]
    )
    (line,) = _map(payload).lines

    assert (line.warehouse, line.tax_code, line.tax_rate) == ("BER", "S", Decimal("0.19"))
    assert line.sku == SkuCode(product="HAT", matrix=("S",))


def test_a_total_price_discount_already_spread_into_the_items_is_not_taken_twice() -> None:
    # Should commercetools report the items' taxed prices after their share of the discount:
    # 10.00 at 19 % less 1.00 is 9.00 gross, net round(7.563..) = 7.56, tax 1.44, and the order
    # says the same. The line keeps 9.00; its discount shows 1.00 against the 10.00 list price.
    payload = make_order(
        lines=[LineSpec(sku="VASE-1", quantity=1, unit_price=1000)], total_discount=100
    )
    line = payload["lineItems"][0]
    line["taxedPrice"] = payload["taxedPrice"]
    assert payload["taxedPrice"]["totalNet"]["centAmount"] == 756
    config = attrs.evolve(CONFIG, discounts=DiscountPresentation.LINE_DISCOUNT)

    assert _rows(_map(payload, config)) == [("VASE/1", 1, 1000, 756, 144, 900, 100)]


def test_a_line_taxed_per_shipping_method_at_one_rate_adds_its_portions() -> None:
    # Multiple shipping: no taxedPrice on the line, one taxed price per shipping method instead.
    payload = make_order(lines=[LineSpec(sku="LAMP-1", quantity=2, unit_price=1000)])
    line = payload["lineItems"][0]
    taxed, rate = line.pop("taxedPrice"), line.pop("taxRate")
    line["perMethodTaxRate"] = [{"shippingMethodKey": "home", "taxRate": rate}]
    line["taxedPricePortions"] = [{"shippingMethodKey": "home", "taxedPrice": taxed}]

    # 20.00 gross at 19 %: net round(16.806..) = 16.81, tax 3.19.
    assert _rows(_map(payload)) == [("LAMP/1", 2, 1000, 1681, 319, 2000, 0)]


def test_a_custom_line_can_become_a_product_line() -> None:
    payload = make_order(
        lines=[LineSpec(sku="DESK-1", quantity=1, unit_price=10000)],
        custom_lines=[CustomLineSpec(slug="assembly", quantity=1, unit_price=2500)],
    )
    config = attrs.evolve(
        CONFIG, custom_lines={"assembly": CustomLineTarget(product=SkuCode(product="SERVICE"))}
    )

    # 25.00 at 19 %: net round(21.008..) = 21.01, tax 3.99; shipped from the default depot.
    (_, service) = _map(payload, config).lines
    assert (str(service.sku), service.net, service.tax, service.warehouse) == (
        "SERVICE",
        eur(2101),
        eur(399),
        "WH1",
    )


def test_the_payment_method_custom_field_becomes_a_prima_payment_of_the_gross_total() -> None:
    payload = make_order(
        lines=[LineSpec(sku="DESK-1", quantity=1, unit_price=10000)], payment_method="card"
    )
    config = attrs.evolve(
        CONFIG,
        payments=PaymentConfig(field="paymentMethod", methods={"card": PayMethod(method="CC")}),
    )

    (payment,) = _map(payload, config).payments
    assert (payment.pay_method, payment.amount) == ("CC", eur(10000))
