"""Hypothesis strategies for realistic commercetools orders (needs the ``hypothesis`` package).

``order_payloads()`` draws Order JSON built by :func:`~ct_prima_sync.testing.factories.make_order`,
so every drawn order's own figures add up the way commercetools computes them: many lines, mixed
tax rates, split-quantity unit discounts, high-precision prices, gift and zero-price lines, custom
lines, single and multiple shipping with shipping discounts, discounts on the total price (cart or
direct), every rounding mode, both tax calculation modes, gross and net prices, JPY/EUR/KWD.
Host applications can use them to property-test their own mapping configuration.
"""

from __future__ import annotations

from typing import Any, Final

from hypothesis import strategies as st

from ..money import RoundingMode, default_fraction_digits
from .factories import CustomLineSpec, LineSpec, ShippingSpec, UnitDiscount, make_order

__all__ = ["CURRENCIES", "TAX_RATES", "line_specs", "order_kwargs", "order_payloads"]

#: Currencies with 2, 0 and 3 fraction digits.
CURRENCIES: Final = ("EUR", "JPY", "KWD")
#: Tax rates the strategies draw from (as commercetools writes them).
TAX_RATES: Final = ("0.19", "0.07", "0.2", "0.0", "0.055", "0.21", "0.1", "0.08")


@st.composite
def _unit_price(draw: st.DrawFn, scale: int) -> int:
    price: int = draw(
        st.one_of(
            st.integers(0, 9),  # tiny prices make every rounding case show
            st.integers(0, 500 * scale),
        )
    )
    return price


@st.composite
def line_specs(draw: st.DrawFn, *, currency: str, rates: tuple[str, ...], index: int) -> LineSpec:
    """One line item: quantity, price, rate, unit discounts over split quantities or a
    high-precision price."""
    digits = default_fraction_digits(currency)
    scale = 10**digits
    quantity = draw(st.integers(1, 25))
    unit = draw(_unit_price(scale))
    precise = None
    discounts: list[UnitDiscount] = []
    if unit and draw(st.booleans()):
        extra = draw(st.integers(1, 4))
        precise = digits + extra
        unit = unit * 10**extra + draw(st.integers(0, 10**extra - 1))
    elif unit:
        left = quantity
        for n in range(draw(st.integers(0, 2))):
            if left == 0:
                break
            part = draw(st.integers(1, left))
            left -= part
            kind = draw(st.sampled_from(("cart-discount", "direct")))
            discounts.append(
                UnitDiscount(
                    quantity=part,
                    amount=draw(st.integers(1, unit)),
                    discount_id=f"{kind}-{index}-{n}",
                )
            )
    return LineSpec(
        sku=f"SKU-{index:03d}",
        quantity=quantity,
        unit_price=unit,
        tax_rate=draw(st.sampled_from(rates)),
        discounts=tuple(discounts),
        supply_channel=draw(st.sampled_from((None, "channel-berlin", "channel-hamburg"))),
        precise_digits=precise,
        gift=unit == 0,
    )


def _line_total(spec: LineSpec, digits: int) -> int:
    if spec.precise_digits is not None:
        divisor: int = 10 ** (spec.precise_digits - digits)
        return spec.quantity * spec.unit_price // divisor
    return spec.quantity * spec.unit_price - sum(d.quantity * d.amount for d in spec.discounts)


@st.composite
def order_kwargs(
    draw: st.DrawFn,
    *,
    currencies: tuple[str, ...] = CURRENCIES,
    max_lines: int = 8,
    tax_included: bool | None = None,
    min_rates: int = 1,
    min_custom_lines: int = 0,
    min_shipping: int = 0,
    total_discount: bool | None = None,
) -> dict[str, Any]:
    """The keyword arguments of :func:`~ct_prima_sync.testing.factories.make_order` for one
    consistent order (so a test can build the same order twice, differently shown)."""
    currency = draw(st.sampled_from(currencies))
    digits = default_fraction_digits(currency)
    scale = 10**digits
    rates = tuple(
        draw(st.lists(st.sampled_from(TAX_RATES), min_size=min_rates, max_size=3, unique=True))
    )
    count = draw(st.integers(1, max_lines))
    lines = [draw(line_specs(currency=currency, rates=rates, index=i)) for i in range(count)]
    custom = [
        CustomLineSpec(
            slug=draw(st.sampled_from(("gift-wrap", "insurance"))),
            quantity=draw(st.integers(1, 3)),
            unit_price=max(1, draw(_unit_price(scale))),  # commercetools money, never zero
            tax_rate=draw(st.sampled_from(rates)),
        )
        for _ in range(draw(st.integers(min_custom_lines, max(2, min_custom_lines))))
    ]
    shipping_count = draw(st.integers(min_shipping, 3))
    specs = []
    for n in range(shipping_count):
        price = draw(st.integers(0, 20 * scale))
        specs.append(
            ShippingSpec(
                key=f"ship-{n}",
                name=draw(st.sampled_from(("Standard", "Express"))),
                price=price,
                tax_rate=draw(st.sampled_from(rates)),
                discount=draw(st.integers(0, price)) if draw(st.booleans()) else 0,
            )
        )
    shipping: ShippingSpec | list[ShippingSpec] | None
    if not specs:
        shipping = None
    elif len(specs) == 1 and draw(st.booleans()):
        shipping = specs[0]
    else:
        shipping = specs
    include_shipping = draw(st.booleans())
    room = sum(_line_total(s, digits) for s in lines)
    room += sum(c.quantity * c.unit_price for c in custom)
    if include_shipping:
        room += sum(s.price - s.discount for s in specs)
    wanted = draw(st.booleans()) if total_discount is None else total_discount
    discount = draw(st.integers(1 if total_discount else 0, room)) if room and wanted else 0
    return {
        "lines": lines,
        "custom_lines": custom,
        "shipping": shipping,
        "currency": currency,
        "tax_included": draw(st.booleans()) if tax_included is None else tax_included,
        "tax_rounding": draw(st.sampled_from(tuple(RoundingMode))),
        "price_rounding": draw(st.sampled_from(tuple(RoundingMode))),
        "tax_calculation": draw(st.sampled_from(("LineItemLevel", "UnitPriceLevel"))),
        "total_discount": discount,
        "total_discount_id": draw(st.sampled_from(("cart-discount-total", "direct-total"))),
        "discount_shipping_in_total": include_shipping,
        "seed": draw(st.integers(0, 2**32)),
    }


@st.composite
def order_payloads(
    draw: st.DrawFn,
    *,
    currencies: tuple[str, ...] = CURRENCIES,
    max_lines: int = 8,
    tax_included: bool | None = None,
) -> dict[str, Any]:
    """A commercetools Order JSON payload whose figures are consistent."""
    kwargs = draw(
        order_kwargs(currencies=currencies, max_lines=max_lines, tax_included=tax_included)
    )
    return make_order(**kwargs)
