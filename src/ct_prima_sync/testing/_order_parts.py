"""The pieces of commercetools Order JSON the factories assemble (internal).

See :mod:`ct_prima_sync.testing.factories` for the rules the figures follow. Integer arithmetic
only: the factories are used by benchmarks that build many orders.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from attrs import field, frozen

from ..money import RoundingMode, allocate

__all__ = [
    "COUNTRY",
    "Ctx",
    "CustomLineSpec",
    "LineSpec",
    "ShippingSpec",
    "Taxed",
    "UnitDiscount",
    "address_json",
    "apply_total_discount",
    "custom_line_json",
    "direct_discounts",
    "discount_ref",
    "line_json",
    "order_taxed_json",
    "round_div",
    "shipping_info_json",
    "tax_name",
]

COUNTRY: Final = "DE"


@frozen(kw_only=True)
class UnitDiscount:
    """``quantity`` units of a line sold ``amount`` minor units below the unit price."""

    quantity: int
    amount: int
    discount_id: str = "cart-discount-1"


@frozen(kw_only=True)
class LineSpec:
    """One line item. ``unit_price`` is in minor units; with ``precise_digits`` set it is a
    high-precision amount with that many fraction digits instead."""

    sku: str
    quantity: int
    unit_price: int
    tax_rate: str = "0.19"
    tax_name: str = ""
    discounts: tuple[UnitDiscount, ...] = ()
    supply_channel: str | None = None
    precise_digits: int | None = None
    gift: bool = False


@frozen(kw_only=True)
class CustomLineSpec:
    """One custom line item (a fee or service) with ``unit_price`` minor units per unit."""

    slug: str
    quantity: int
    unit_price: int
    tax_rate: str = "0.19"
    tax_name: str = ""


@frozen(kw_only=True)
class ShippingSpec:
    """One shipping method. ``key`` is the shipping key (multiple shipping) and the method key;
    ``discount`` minor units come off ``price``."""

    key: str
    name: str
    price: int
    tax_rate: str = "0.19"
    tax_name: str = ""
    discount: int = 0


def round_div(numerator: int, denominator: int, mode: RoundingMode) -> int:
    """``numerator / denominator`` rounded with ``mode`` (integers only: the factory is hot)."""
    quotient, remainder = divmod(abs(numerator), denominator)
    twice = 2 * remainder
    if twice > denominator or (
        twice == denominator
        and (mode is RoundingMode.HALF_UP or (mode is RoundingMode.HALF_EVEN and quotient % 2 == 1))
    ):
        quotient += 1
    return quotient if numerator >= 0 else -quotient


@functools.cache
def _rate_parts(rate_text: str) -> tuple[int, int]:
    exact = Fraction(Decimal(rate_text))
    return exact.numerator, exact.denominator


@frozen
class Taxed:
    """An item's taxed figures in minor units, with its rate as written and its name."""

    net: int
    gross: int
    rate_text: str
    name: str

    @property
    def tax(self) -> int:
        return self.gross - self.net


@frozen(kw_only=True)
class Ctx:
    """What every piece of one order shares: currency, price basis, rounding, the seeded rng."""

    currency: str
    digits: int
    included: bool
    tax_rounding: RoundingMode
    price_rounding: RoundingMode
    unit_level: bool
    rng: random.Random = field(eq=False)

    def money(self, units: int) -> dict[str, Any]:
        return {
            "type": "centPrecision",
            "currencyCode": self.currency,
            "centAmount": units,
            "fractionDigits": self.digits,
        }

    def ident(self) -> str:
        bits = self.rng.getrandbits(128)
        text = f"{bits:032x}"
        return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:]}"

    def tax(self, groups: Sequence[tuple[int, int]], rate_text: str, name: str) -> Taxed:
        """Tax ``groups`` of (quantity, unit amount in the price basis) at one rate."""
        name = name or tax_name(rate_text)
        rate = _rate_parts(rate_text)
        total = sum(q * u for q, u in groups)
        if self.unit_level:
            other = sum(q * self._other(u, rate) for q, u in groups)
        else:
            other = self._other(total, rate)
        if self.included:
            return Taxed(other, total, rate_text, name)
        return Taxed(total, total + other, rate_text, name)

    def _other(self, amount: int, rate: tuple[int, int]) -> int:
        # Gross prices: the rounded figure is the net; net prices: the rounded figure is the tax.
        num, den = rate
        if self.included:
            return round_div(amount * den, den + num, self.tax_rounding)
        return round_div(amount * num, den, self.tax_rounding)

    def taxed_json(self, taxed: Taxed) -> dict[str, Any]:
        return {
            "totalNet": self.money(taxed.net),
            "totalGross": self.money(taxed.gross),
            "totalTax": self.money(taxed.tax),
            "taxPortions": [
                {
                    "rate": float(taxed.rate_text),
                    "amount": self.money(taxed.tax),
                    "name": taxed.name,
                }
            ],
        }

    def tax_rate_json(self, rate_text: str, name: str) -> dict[str, Any]:
        name = name or tax_name(rate_text)
        return {
            "id": f"tax-{rate_text}",
            "name": name,
            "amount": float(rate_text),
            "includedInPrice": self.included,
            "country": COUNTRY,
            "subRates": [],
        }


def tax_name(rate_text: str) -> str:
    """The tax rate name the factories use when a spec names none (``"VAT 19%"``)."""
    percent = Decimal(rate_text) * 100
    return f"VAT {percent.normalize():f}%"


def discount_ref(discount_id: str) -> dict[str, str]:
    """A cart-discount reference, or a direct-discount one for ids starting with ``direct``."""
    type_id = "direct-discount" if discount_id.startswith("direct") else "cart-discount"
    return {"typeId": type_id, "id": discount_id}


def line_json(ctx: Ctx, spec: LineSpec) -> tuple[dict[str, Any], int, Taxed]:
    """A line item: its JSON, its total in the price basis and its taxed figures."""
    if spec.precise_digits is not None:
        extra = spec.precise_digits - ctx.digits
        cent = round_div(spec.unit_price, 10**extra, ctx.price_rounding)
        value: dict[str, Any] = {
            "type": "highPrecision",
            "currencyCode": ctx.currency,
            "centAmount": cent,
            "preciseAmount": spec.unit_price,
            "fractionDigits": spec.precise_digits,
        }
        base_total = round_div(spec.unit_price * spec.quantity, 10**extra, ctx.price_rounding)
        # commercetools taxes a high-precision line on its rounded total; one group keeps it so.
        groups: list[tuple[int, int]] = [(1, base_total)]
        parts: list[dict[str, Any]] = []
    else:
        value = ctx.money(spec.unit_price)
        groups = []
        parts = []
        covered = 0
        for disc in spec.discounts:
            unit = spec.unit_price - disc.amount
            groups.append((disc.quantity, unit))
            covered += disc.quantity
            parts.append(
                {
                    "quantity": disc.quantity,
                    "discountedPrice": {
                        "value": ctx.money(unit),
                        "includedDiscounts": [
                            {
                                "discount": discount_ref(disc.discount_id),
                                "discountedAmount": ctx.money(disc.amount),
                            }
                        ],
                    },
                }
            )
        if spec.quantity - covered:
            groups.append((spec.quantity - covered, spec.unit_price))
    taxed = ctx.tax(groups, spec.tax_rate, spec.tax_name)
    total = sum(q * u for q, u in groups)
    line: dict[str, Any] = {
        "id": ctx.ident(),
        "productId": ctx.ident(),
        "productKey": f"product-{spec.sku}",
        "name": {"en": f"Product {spec.sku}"},
        "productType": {"typeId": "product-type", "id": "product-type-1"},
        "variant": {"id": 1, "sku": spec.sku, "attributes": []},
        "price": {"id": ctx.ident(), "value": value},
        "quantity": spec.quantity,
        "discountedPricePerQuantity": parts,
        "totalPrice": ctx.money(total),
        "taxRate": ctx.tax_rate_json(spec.tax_rate, spec.tax_name),
        "taxedPrice": ctx.taxed_json(taxed),
        "taxedPricePortions": [],
        "perMethodTaxRate": [],
        "state": [{"quantity": spec.quantity, "state": {"typeId": "state", "id": "initial"}}],
        "priceMode": "Platform",
        "lineItemMode": "GiftLineItem" if spec.gift else "Standard",
    }
    if spec.supply_channel is not None:
        line["supplyChannel"] = {"typeId": "channel", "id": spec.supply_channel}
    return line, total, taxed


def custom_line_json(ctx: Ctx, spec: CustomLineSpec) -> tuple[dict[str, Any], int, Taxed]:
    """A custom line item: its JSON, its total and its taxed figures."""
    taxed = ctx.tax([(spec.quantity, spec.unit_price)], spec.tax_rate, spec.tax_name)
    total = spec.quantity * spec.unit_price
    line = {
        "id": ctx.ident(),
        "name": {"en": spec.slug.replace("-", " ").title()},
        "money": ctx.money(spec.unit_price),
        "slug": spec.slug,
        "quantity": spec.quantity,
        "totalPrice": ctx.money(total),
        "taxRate": ctx.tax_rate_json(spec.tax_rate, spec.tax_name),
        "taxedPrice": ctx.taxed_json(taxed),
        "taxedPricePortions": [],
        "perMethodTaxRate": [],
        "discountedPricePerQuantity": [],
        "state": [{"quantity": spec.quantity, "state": {"typeId": "state", "id": "initial"}}],
        "priceMode": "Standard",
    }
    return line, total, taxed


def shipping_info_json(ctx: Ctx, spec: ShippingSpec) -> tuple[dict[str, Any], int, Taxed]:
    """A shipping info: its JSON, its total after discount and its taxed figures."""
    total = spec.price - spec.discount
    taxed = ctx.tax([(1, total)], spec.tax_rate, spec.tax_name)
    info: dict[str, Any] = {
        "shippingMethodName": spec.name,
        "price": ctx.money(spec.price),
        "shippingRate": {"price": ctx.money(spec.price), "tiers": []},
        "taxRate": ctx.tax_rate_json(spec.tax_rate, spec.tax_name),
        "taxedPrice": ctx.taxed_json(taxed),
        "shippingMethod": {"typeId": "shipping-method", "id": f"sm-{spec.key}"},
        "shippingMethodState": "MatchesCart",
        "deliveries": [],
    }
    if spec.discount:
        info["discountedPrice"] = {
            "value": ctx.money(total),
            "includedDiscounts": [
                {
                    "discount": {"typeId": "cart-discount", "id": "shipping-discount"},
                    "discountedAmount": ctx.money(spec.discount),
                }
            ],
        }
    return info, total, taxed


def address_json(rng: random.Random, key: str | None = None) -> dict[str, Any]:
    """A made-up German address (fictitious personal data)."""
    n = rng.randrange(1000)
    address: dict[str, Any] = {
        "firstName": f"Alex{n}",
        "lastName": f"Example{n}",
        "streetName": "Musterstrasse",
        "streetNumber": str(1 + n % 200),
        "postalCode": f"{10000 + n:05d}",
        "city": "Berlin",
        "country": COUNTRY,
        "email": f"alex{n}@example.com",
        "phone": f"+49 30 {n:07d}",
    }
    if key is not None:
        address["key"] = key
    return address


def apply_total_discount(
    ctx: Ctx, items: list[tuple[int, Taxed, bool]], discount: int, include_shipping: bool
) -> list[Taxed]:
    """The items' taxed figures after a total-price discount spread by largest remainder."""
    if not discount:
        return [taxed for _, taxed, _ in items]
    weights = [
        total if (include_shipping or not is_shipping) else 0 for total, _, is_shipping in items
    ]
    shares = allocate(discount, weights)
    after = []
    for (total, taxed, _), share in zip(items, shares, strict=True):
        if share:
            after.append(ctx.tax([(1, total - share)], taxed.rate_text, taxed.name))
        else:
            after.append(taxed)
    return after


def order_taxed_json(ctx: Ctx, taxed: Sequence[Taxed]) -> dict[str, Any]:
    """An order-level TaxedPrice adding the items' figures, with portions by rate and name."""
    portions: dict[tuple[str, str], int] = {}
    for item in taxed:
        key = (item.rate_text, item.name)
        portions[key] = portions.get(key, 0) + item.tax
    return {
        "totalNet": ctx.money(sum(t.net for t in taxed)),
        "totalGross": ctx.money(sum(t.gross for t in taxed)),
        "totalTax": ctx.money(sum(t.tax for t in taxed)),
        "taxPortions": [
            {"rate": float(rate), "amount": ctx.money(amount), "name": name}
            for (rate, name), amount in portions.items()
        ],
    }


def direct_discounts(
    ctx: Ctx, lines: Sequence[LineSpec], total_id: str | None
) -> list[dict[str, Any]]:
    """The ``directDiscounts`` entries for the direct discounts the specs name."""
    found: dict[str, dict[str, Any]] = {}
    for spec in lines:
        for disc in spec.discounts:
            if disc.discount_id.startswith("direct"):
                found[disc.discount_id] = {
                    "id": disc.discount_id,
                    "value": {"type": "absolute", "money": [ctx.money(disc.amount)]},
                    "target": {"type": "lineItems", "predicate": f'sku = "{spec.sku}"'},
                }
    if total_id is not None and total_id.startswith("direct"):
        found[total_id] = {
            "id": total_id,
            "value": {"type": "relative", "permyriad": 1000},
            "target": {"type": "totalPrice"},
        }
    return list(found.values())
