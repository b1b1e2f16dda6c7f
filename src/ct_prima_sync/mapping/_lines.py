"""Prima order lines and charges from items, in the configured price basis and discount shape.

Rules (docs/mapping.md, "Prices and lines"):

* A line's ``net``, ``tax`` and ``gross`` are the item's figures after every discount, so lines
  and charges always add up to commercetools' totals whatever the presentation.
* Unit price basis, discounts folded: when the line total is not a whole number of minor units per
  unit, the line becomes two Prima lines, ``q1`` units at ``p`` and ``q2`` units at ``p + 1``
  minor unit (``q1 * p + q2 * (p + 1)`` is the total exactly); its tax is split over the two by
  largest remainder. Both carry the commercetools line id.
* ``line_discount`` / ``discount_lines``: ``Price`` is the list price (converted to Prima's basis
  with the order's tax rounding when the bases differ) and the difference to the line total is the
  discount (or a separate negative line). A line without any discount, or one whose converted list
  price would give a negative discount, is folded instead.
* Charges (shipping, custom lines as charges) are always after their discounts.
"""

from __future__ import annotations

from fractions import Fraction

from ..money import allocate, round_fraction
from ..prima import SalesOrderCharge, SalesOrderLine, SkuCode
from ._config import DiscountPresentation, MappingConfig, PriceBasis
from ._context import Item, OrderContext
from ._discounts import Cut

__all__ = ["build_lines"]


def build_lines(
    ctx: OrderContext, config: MappingConfig, items: list[Item], cuts: list[Cut]
) -> tuple[list[SalesOrderLine], list[SalesOrderCharge]]:
    """Prima lines and charges for the items after their order-level discount cuts."""
    lines: list[SalesOrderLine] = []
    charges: list[SalesOrderCharge] = []
    for item, cut in zip(items, cuts, strict=True):
        net, tax = item.net - cut.net, item.tax - cut.tax
        gross = net + tax
        if item.is_charge:
            charges.append(
                SalesOrderCharge(
                    charge_code=item.charge_code,
                    value=ctx.money(gross if config.vat_inclusive else net),
                    net=ctx.money(net),
                    tax=ctx.money(tax),
                    gross=ctx.money(gross),
                    tax_code=item.tax_code,
                    tax_rate=item.rate,
                    reference=item.reference,
                )
            )
            continue
        pre_unit = _list_unit(ctx, config, item, cut)
        if pre_unit is None:
            _folded(ctx, config, item, (net, tax, gross), lines)
        else:
            _with_discount(
                ctx,
                config=config,
                item=item,
                figures=(net, tax, gross),
                pre_unit=pre_unit,
                lines=lines,
            )
    return lines, charges


def _basis(config: MappingConfig, figures: tuple[int, int, int]) -> int:
    net, _, gross = figures
    return gross if config.vat_inclusive else net


def _list_unit(ctx: OrderContext, config: MappingConfig, item: Item, cut: Cut) -> int | None:
    """The list unit price in Prima's basis, or ``None`` when the line is to be folded."""
    if config.discounts is DiscountPresentation.FOLDED or item.list_unit is None:
        return None
    if not item.discounted and cut == Cut():
        return None
    if ctx.ct_gross == config.vat_inclusive:
        unit = item.list_unit
    elif config.vat_inclusive:
        unit = round_fraction(item.list_unit * (1 + Fraction(item.rate)), ctx.tax_rounding)
    else:
        unit = round_fraction(item.list_unit / (1 + Fraction(item.rate)), ctx.tax_rounding)
    after = (item.gross - cut.gross) if config.vat_inclusive else (item.net - cut.net)
    # No discount left in Prima's basis (or a negative one after conversion): fold the line.
    return unit if unit * item.quantity > after else None


def _line(
    ctx: OrderContext,
    item: Item,
    lines: list[SalesOrderLine],
    *,
    quantity: int,
    price: int,
    figures: tuple[int, int, int],
    discount: int = 0,
    sku_override: SkuCode | None = None,
) -> None:
    net, tax, gross = figures
    sku = item.sku if sku_override is None else sku_override
    assert sku is not None  # items without a SKU never reach here (they raised an issue)
    lines.append(
        SalesOrderLine(
            line_number=len(lines) + 1,
            sku=sku,
            quantity=quantity,
            price=ctx.money(price),
            net=ctx.money(net),
            tax=ctx.money(tax),
            gross=ctx.money(gross),
            warehouse=item.warehouse,
            tax_code=item.tax_code,
            tax_rate=item.rate,
            discount=ctx.money(discount),
            promotion=item.promotion,
            line_reference=item.reference,
        )
    )


def _folded(
    ctx: OrderContext,
    config: MappingConfig,
    item: Item,
    figures: tuple[int, int, int],
    lines: list[SalesOrderLine],
) -> None:
    total = _basis(config, figures)
    quantity = item.quantity
    if config.price_basis is PriceBasis.LINE:
        _line(ctx, item, lines, quantity=quantity, price=total, figures=figures)
        return
    unit, remainder = divmod(total, quantity)
    if remainder == 0:
        _line(ctx, item, lines, quantity=quantity, price=unit, figures=figures)
        return
    # q1 units at unit, q2 units at unit + 1: exact, and the two prices differ by one minor unit.
    parts = [(quantity - remainder, unit), (remainder, unit + 1)]
    bases = [q * p for q, p in parts]
    weights: list[int | Fraction] = [abs(b) for b in bases]
    if not any(weights):
        weights = [q for q, _ in parts]
    taxes = allocate(figures[1], weights)
    for (q, p), basis, tax in zip(parts, bases, taxes, strict=True):
        split = (basis - tax, tax, basis) if config.vat_inclusive else (basis, tax, basis + tax)
        _line(ctx, item, lines, quantity=q, price=p, figures=split)


def _with_discount(
    ctx: OrderContext,
    *,
    config: MappingConfig,
    item: Item,
    figures: tuple[int, int, int],
    pre_unit: int,
    lines: list[SalesOrderLine],
) -> None:
    quantity = item.quantity
    pre_total = pre_unit * quantity
    discount = pre_total - _basis(config, figures)
    price = pre_unit if config.price_basis is PriceBasis.UNIT else pre_total
    if config.discounts is DiscountPresentation.LINE_DISCOUNT:
        _line(ctx, item, lines, quantity=quantity, price=price, figures=figures, discount=discount)
        return
    rate = 1 + Fraction(item.rate)
    if config.vat_inclusive:
        pre_net = round_fraction(pre_total / rate, ctx.tax_rounding)
        pre = (pre_net, pre_total - pre_net, pre_total)
    else:
        pre_tax = round_fraction(pre_total * (rate - 1), ctx.tax_rounding)
        pre = (pre_total, pre_tax, pre_total + pre_tax)
    _line(ctx, item, lines, quantity=quantity, price=price, figures=pre)
    if discount:
        rest = (figures[0] - pre[0], figures[1] - pre[1], figures[2] - pre[2])
        _line(
            ctx,
            item,
            lines,
            quantity=1,
            price=-discount,
            figures=rest,
            sku_override=config.discount_sku,
        )
