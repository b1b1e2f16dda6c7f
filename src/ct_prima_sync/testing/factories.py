"""Factories for commercetools Order JSON whose own figures add up the way commercetools adds them.

``make_order`` builds one order from explicit specs; ``random_order`` draws a realistic one from a
seed. Both return plain ``dict`` payloads (what ``json.loads`` gives for an API response), so they
feed ``parse_order``, the fakes and the mapping alike.

How the figures are computed (the rules docs/mapping.md writes down, reproduced here so the
payloads are self-consistent; no float is used for any amount):

1. A line's total is ``sum(quantity_i * unit_i)`` over its ``discountedPricePerQuantity`` parts
   plus the undiscounted quantity at ``price.value``. A high-precision price is multiplied by the
   quantity and rounded once with ``priceRoundingMode``.
2. ``LineItemLevel`` tax rounds once on the line total; ``UnitPriceLevel`` rounds per unit price
   and multiplies by the quantity. With ``includedInPrice`` the price is gross and the net is
   rounded (``net = round(gross / (1 + rate))``); otherwise the price is net and the tax is
   rounded (``tax = round(net * rate)``). Rounding uses ``taxRoundingMode``.
3. Shipping is one more item: its price after shipping discounts is taxed like a line.
4. A discount on the total price (``discountOnTotalPrice``) is in the price basis (gross when
   prices include tax). The factory spreads it over the items by largest remainder on their
   totals, re-taxes each item at line level, and reports the order's ``taxedPrice`` after the
   discount while every item keeps its own ``taxedPrice`` before it (line items are not
   re-priced by a total-price discount).
5. ``taxedPrice.taxPortions`` add the items' tax by (rate, name); ``totalPrice`` is the sum of the
   item totals minus the total-price discount.

Tax rates appear in the JSON as numbers (``0.19``) exactly as the API writes them; the factory
computes with the exact decimal the number was written from.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from ..money import RoundingMode, default_fraction_digits
from ._order_parts import (
    COUNTRY,
    Ctx,
    CustomLineSpec,
    LineSpec,
    ShippingSpec,
    Taxed,
    UnitDiscount,
    address_json,
    apply_total_discount,
    custom_line_json,
    direct_discounts,
    discount_ref,
    line_json,
    order_taxed_json,
    shipping_info_json,
    tax_name,
)

__all__ = [
    "DEFAULT_CREATED_AT",
    "CustomLineSpec",
    "LineSpec",
    "ShippingSpec",
    "UnitDiscount",
    "make_order",
    "make_payment",
    "random_order",
    "tax_name",
]

#: Numbers the calls without a seed: each gets ids of its own, repeatably within one process.
_CALLS: Final = itertools.count(1)
#: When factory orders were placed unless told otherwise.
DEFAULT_CREATED_AT: Final = datetime(2026, 11, 20, 10, 15, 30, tzinfo=UTC)


def _source(seed: int | None, factory: str) -> random.Random:
    """The random source of one factory call: from ``seed``, or (None) one no other call shares."""
    if seed is None:
        return random.Random(f"{factory}-unseeded-{next(_CALLS)}")
    return random.Random(seed)


def _stamp(moment: datetime) -> str:
    if moment.utcoffset() is None:
        raise ValueError("created_at needs a UTC offset")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_TAX_RATES: Final = ("0.19", "0.07", "0.2", "0.0", "0.1", "0.055", "0.21")
_MODES: Final = tuple(RoundingMode)


def make_order(
    *,
    lines: Sequence[LineSpec] = (),
    custom_lines: Sequence[CustomLineSpec] = (),
    shipping: ShippingSpec | Sequence[ShippingSpec] | None = None,
    currency: str = "EUR",
    tax_included: bool = True,
    tax_rounding: RoundingMode = RoundingMode.HALF_EVEN,
    price_rounding: RoundingMode = RoundingMode.HALF_EVEN,
    tax_calculation: str = "LineItemLevel",
    total_discount: int = 0,
    total_discount_id: str = "cart-discount-total",
    discount_shipping_in_total: bool = False,
    total_discount_in_items: bool = False,
    order_number: str | None = None,
    customer_email: str = "customer@example.com",
    customer_id: str | None = None,
    store_key: str | None = None,
    payment_method: str | None = None,
    seed: int | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """A commercetools Order JSON payload whose totals add up as commercetools computes them.

    ``shipping`` as one spec gives single shipping (``shippingInfo``); as a sequence it gives
    multiple shipping (``shipping[]``, one entry per spec, every line item shipped with the first
    key). ``total_discount`` minor units (in the price basis) are taken off the total price; a
    discount id starting with ``direct`` appears as a direct discount. With
    ``total_discount_in_items`` the items' own ``taxedPrice`` are after their share of it (the
    other way commercetools may show it); by default they are before.

    Every call without a ``seed`` gives an order of its own (its own ``id``, line item ids and,
    unless ``order_number`` is given, ``ORD-`` and the id's first eight digits as its number);
    with a ``seed`` the order is the same every time. ``created_at`` (default
    :data:`DEFAULT_CREATED_AT`) is its ``createdAt`` and ``lastModifiedAt``: pass a fake
    clock's ``now()`` so that the engine sees it as just placed.
    """
    digits = default_fraction_digits(currency)
    ctx = Ctx(
        currency=currency,
        digits=digits,
        included=tax_included,
        tax_rounding=tax_rounding,
        price_rounding=price_rounding,
        unit_level=tax_calculation == "UnitPriceLevel",
        rng=_source(seed, "make_order"),
    )
    line_items: list[dict[str, Any]] = []
    items: list[tuple[int, Taxed, bool]] = []  # (total, taxed, is shipping)
    for spec in lines:
        line, total, taxed = line_json(ctx, spec)
        line_items.append(line)
        items.append((total, taxed, False))
    custom_items: list[dict[str, Any]] = []
    for custom_spec in custom_lines:
        custom, total, taxed = custom_line_json(ctx, custom_spec)
        custom_items.append(custom)
        items.append((total, taxed, False))

    order_id = ctx.ident()
    placed = _stamp(created_at or DEFAULT_CREATED_AT)
    order: dict[str, Any] = {
        "id": order_id,
        "version": 1,
        "createdAt": placed,
        "lastModifiedAt": placed,
        "orderNumber": order_number or f"ORD-{order_id[:8]}",
        "customerEmail": customer_email,
        "orderState": "Open",
        "origin": "Customer",
        "taxMode": "Platform",
        "taxRoundingMode": str(tax_rounding),
        "priceRoundingMode": str(price_rounding),
        "taxCalculationMode": tax_calculation,
        "inventoryMode": "None",
        "lineItems": line_items,
        "customLineItems": custom_items,
        "shippingAddress": address_json(ctx.rng),
        "billingAddress": address_json(ctx.rng),
        "refusedGifts": [],
        "syncInfo": [],
        "shipping": [],
        "country": COUNTRY,
    }
    if customer_id is not None:
        order["customerId"] = customer_id
    if store_key is not None:
        order["store"] = {"typeId": "store", "key": store_key}

    shipping_taxed: list[Taxed] = []
    if isinstance(shipping, ShippingSpec):
        order["shippingMode"] = "Single"
        info, total, taxed = shipping_info_json(ctx, shipping)
        order["shippingInfo"] = info
        items.append((total, taxed, True))
        shipping_taxed.append(taxed)
    elif shipping:
        order["shippingMode"] = "Multiple"
        for ship in shipping:
            info, total, taxed = shipping_info_json(ctx, ship)
            order["shipping"].append(
                {
                    "shippingKey": ship.key,
                    "shippingInfo": info,
                    "shippingAddress": address_json(ctx.rng, key=ship.key),
                }
            )
            items.append((total, taxed, True))
            shipping_taxed.append(taxed)
        first = shipping[0].key
        for line in line_items:
            line["shippingDetails"] = {
                "targets": [
                    {"addressKey": first, "quantity": line["quantity"], "shippingMethodKey": first}
                ],
                "valid": True,
            }
        order["itemShippingAddresses"] = [s["shippingAddress"] for s in order["shipping"]]
    else:
        order["shippingMode"] = "Single"

    if shipping_taxed:
        order["taxedShippingPrice"] = order_taxed_json(ctx, shipping_taxed)

    after = apply_total_discount(ctx, items, total_discount, discount_shipping_in_total)
    if total_discount_in_items:
        infos = [order["shippingInfo"]] if "shippingInfo" in order else []
        infos += [entry["shippingInfo"] for entry in order["shipping"]]
        for shown, taxed in zip([*line_items, *custom_items, *infos], after, strict=True):
            shown["taxedPrice"] = ctx.taxed_json(taxed)
    order["taxedPrice"] = order_taxed_json(ctx, after)
    basis_after = sum(t.gross if ctx.included else t.net for t in after)
    order["totalPrice"] = ctx.money(basis_after)
    if total_discount:
        before = [taxed for _, taxed, _ in items]
        net_cut = sum(t.net for t in before) - sum(t.net for t in after)
        gross_cut = sum(t.gross for t in before) - sum(t.gross for t in after)
        order["discountOnTotalPrice"] = {
            "discountedAmount": ctx.money(total_discount),
            "includedDiscounts": [
                {
                    "discount": discount_ref(total_discount_id),
                    "discountedAmount": ctx.money(total_discount),
                }
            ],
            "discountedNetAmount": ctx.money(net_cut),
            "discountedGrossAmount": ctx.money(gross_cut),
        }
    direct = direct_discounts(ctx, lines, total_discount_id if total_discount else None)
    if direct:
        order["directDiscounts"] = direct
    if payment_method is not None:
        order["paymentInfo"] = {"payments": [{"typeId": "payment", "id": ctx.ident()}]}
        order["custom"] = {
            "type": {"typeId": "type", "id": "order-payment"},
            "fields": {"paymentMethod": payment_method},
        }
    return order


def random_order(
    seed: int,
    *,
    currency: str | None = None,
    line_count: int | None = None,
    tax_included: bool | None = None,
    multiple_shipping: bool | None = None,
    total_discount_in_items: bool = False,
) -> dict[str, Any]:
    """A realistic random order (lines with split-quantity discounts, mixed tax rates, custom
    lines, single or multiple shipping with discounts, a total-price discount), deterministic for
    ``seed``. Unset arguments are drawn too; ``total_discount_in_items`` as for
    :func:`make_order`."""
    rng = random.Random(seed)
    currency = currency or rng.choice(("EUR", "EUR", "JPY", "KWD"))
    digits = default_fraction_digits(currency)
    scale = 10**digits
    count = line_count if line_count is not None else rng.randint(1, 10)
    included = rng.random() < 0.6 if tax_included is None else tax_included
    rates = rng.sample(_TAX_RATES, rng.randint(1, 3))
    lines = []
    for index in range(count):
        quantity = rng.randint(1, 7)
        unit = rng.randint(scale // 10 or 1, 300 * scale) if rng.random() > 0.05 else 0
        discounts: list[UnitDiscount] = []
        if unit and rng.random() < 0.4:
            split = rng.randint(1, quantity)
            amount = rng.randint(1, unit)
            kind = "direct-1" if rng.random() < 0.2 else f"cart-discount-{rng.randint(1, 3)}"
            discounts.append(UnitDiscount(quantity=split, amount=amount, discount_id=kind))
        precise = None
        if not discounts and unit and rng.random() < 0.1:
            precise = digits + rng.randint(1, 3)
            unit = unit * 10 ** (precise - digits) + rng.randrange(10 ** (precise - digits))
        lines.append(
            LineSpec(
                sku=f"SKU-{rng.randint(1, 999):03d}-{index}",
                quantity=quantity,
                unit_price=unit,
                tax_rate=rng.choice(rates),
                discounts=tuple(discounts),
                supply_channel=rng.choice((None, "channel-berlin", "channel-hamburg")),
                precise_digits=precise,
                gift=unit == 0,
            )
        )
    custom = [
        CustomLineSpec(
            slug="gift-wrap", quantity=rng.randint(1, 2), unit_price=rng.randint(1, 5 * scale)
        )
        for _ in range(rng.random() < 0.2)
    ]
    multi = rng.random() < 0.25 if multiple_shipping is None else multiple_shipping
    ship_specs = [
        ShippingSpec(
            key=f"ship-{n}",
            name=rng.choice(("Standard", "Express", "Click & Collect")),
            price=rng.randint(0, 10 * scale),
            tax_rate=rng.choice(rates),
        )
        for n in range(rng.randint(2, 3) if multi else 1)
    ]
    ship_specs = [
        ShippingSpec(
            key=s.key,
            name=s.name,
            price=s.price,
            tax_rate=s.tax_rate,
            discount=rng.randint(0, s.price) if rng.random() < 0.2 else 0,
        )
        for s in ship_specs
    ]
    subtotal = sum(
        ln.quantity * ln.unit_price // 10 ** ((ln.precise_digits or digits) - digits)
        - sum(d.quantity * d.amount for d in ln.discounts)
        for ln in lines
    )
    total_discount = rng.randint(1, subtotal // 4) if subtotal >= 4 and rng.random() < 0.3 else 0
    return make_order(
        lines=lines,
        custom_lines=custom,
        shipping=ship_specs if multi else ship_specs[0],
        currency=currency,
        tax_included=included,
        tax_rounding=rng.choice(_MODES),
        price_rounding=rng.choice(_MODES),
        tax_calculation=rng.choice(("LineItemLevel", "UnitPriceLevel")),
        total_discount=total_discount,
        total_discount_id="direct-total" if rng.random() < 0.3 else "cart-discount-total",
        order_number=f"ORD-{seed}",
        customer_email=f"customer{seed}@example.com",
        customer_id=f"customer-{seed % 97}" if rng.random() < 0.7 else None,
        total_discount_in_items=total_discount_in_items,
        seed=seed,
    )


def make_payment(
    amount: int,
    *,
    currency: str = "EUR",
    method: str = "card",
    interface: str = "stripe",
    transactions: Sequence[tuple[str, int, str]] = (("Authorization", -1, "Success"),),
    payment_id: str | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """A commercetools Payment JSON of ``amount`` minor units planned, paid by ``method`` through
    ``interface``, with ``transactions`` as (type, amount, state) (an amount of -1 stands for the
    planned amount). Every call without a ``seed`` gives a payment of its own id; with one, the
    same payment every time."""
    rng = _source(seed, "make_payment")
    digits = default_fraction_digits(currency)

    def money(units: int) -> dict[str, Any]:
        return {
            "type": "centPrecision",
            "currencyCode": currency,
            "centAmount": units,
            "fractionDigits": digits,
        }

    return {
        "id": payment_id or f"payment-{rng.getrandbits(48):012x}",
        "version": 1,
        "createdAt": "2026-11-20T10:15:00.000Z",
        "lastModifiedAt": "2026-11-20T10:15:20.000Z",
        "amountPlanned": money(amount),
        "paymentMethodInfo": {"paymentInterface": interface, "method": method},
        "paymentStatus": {},
        "transactions": [
            {
                "id": f"tx-{index}-{rng.getrandbits(32):08x}",
                "timestamp": f"2026-11-20T10:15:{10 + index:02d}.000Z",
                "type": kind,
                "amount": money(amount if units == -1 else units),
                "interactionId": f"psp-{kind.lower()}-{index}",
                "state": state,
            }
            for index, (kind, units, state) in enumerate(transactions)
        ],
        "interfaceInteractions": [],
    }
