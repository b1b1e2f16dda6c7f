"""Read an order's line items, custom line items and shipping into :class:`Item` values.

Each reader checks the commercetools figures it relies on and reports what it cannot map; an item
that cannot be read at all is left out (its issue explains why), so that every other problem of
the order is still found and reported in the same pass.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..commercetools._models.line_items import CustomLineItem, LineItem
from ..commercetools._models.order import Order
from ..commercetools._models.pricing import DiscountedLineItemPriceForQuantity
from ..commercetools._models.shipping import ShippingInfo
from ..money import HighPrecisionMoney
from ._config import MappingConfig
from ._context import Item, OrderContext
from ._issues import IssueCode
from ._tax import item_tax

__all__ = ["read_custom_lines", "read_line_items", "read_shipping", "store_key"]


def store_key(order: Order) -> str | None:
    """The key of the order's store, which may name its depot."""
    return order.store.key if order.store is not None else None


def _discount_parts(
    ctx: OrderContext,
    parts: Sequence[DiscountedLineItemPriceForQuantity],
    quantity: int,
    path: str,
) -> tuple[int, int, list[str]] | None:
    """(quantity covered, total of the covered units, discount ids) of the per-unit discounts."""
    covered = total = 0
    ids: list[str] = []
    for index, part in enumerate(parts):
        here = f"{path}.discountedPricePerQuantity[{index}]"
        if part.quantity <= 0:
            ctx.report(IssueCode.INVALID_ORDER, "a discounted quantity must be positive", here)
            return None
        unit = ctx.units(part.discounted_price.value, f"{here}.discountedPrice.value")
        if unit is None:
            return None
        covered += part.quantity
        total += part.quantity * unit
        for portion in part.discounted_price.included_discounts:
            ref = portion.discount.key or portion.discount.id or ""
            if ref and ref not in ids:
                ids.append(ref)
    if covered > quantity:
        ctx.report(
            IssueCode.INVALID_ORDER,
            f"discounted quantities add up to {covered}, more than the line's {quantity}",
            f"{path}.discountedPricePerQuantity",
        )
        return None
    return covered, total, ids


def _line_total_adds_up(
    ctx: OrderContext, line: LineItem, total: int, path: str
) -> tuple[int | None, bool, list[str]] | None:
    """Check ``totalPrice`` against the unit prices; returns (list unit, discounted, ids)."""
    parts = _discount_parts(ctx, line.discounted_price_per_quantity, line.quantity, path)
    if parts is None:
        return None
    covered, covered_total, ids = parts
    value = line.price.value
    if isinstance(value, HighPrecisionMoney) or line.price_mode != "Platform":
        # The total was rounded from a precise or external price: nothing exact to check it by.
        return None, bool(covered), ids
    unit = ctx.units(value, f"{path}.price.value")
    if unit is None:
        return None
    expected = covered_total + (line.quantity - covered) * unit
    if expected != total:
        ctx.report(
            IssueCode.TOTALS_MISMATCH,
            "totalPrice differs from the unit prices times their quantities",
            f"{path}.totalPrice",
            difference=total - expected,
        )
        return None
    return unit, bool(covered), ids


def read_line_items(ctx: OrderContext, order: Order, config: MappingConfig) -> list[Item]:
    """The order's line items as items (those that can be read)."""
    items = []
    for index, line in enumerate(order.line_items):
        path = f"lineItems[{index}]"
        ok = True
        if line.quantity <= 0:
            ctx.report(IssueCode.INVALID_ORDER, "the quantity must be positive", f"{path}.quantity")
            ok = False
        attributes = {a.name: a.value for a in line.variant.attributes or ()}
        sku = config.sku.to_prima(line.sku, attributes)
        if sku is None:
            ctx.report(
                IssueCode.UNMAPPED_SKU,
                f"SKU {line.sku!r} has no Prima product: add it to [sku.table] or a [[sku.rules]] "
                "pattern",
                f"{path}.variant.sku",
            )
            ok = False
        depot = config.depots.depot_for(
            supply_channel=line.supply_channel,
            distribution_channel=line.distribution_channel,
            store_key=store_key(order),
        )
        if depot is None or not config.depots.is_valid(depot):
            channel = line.supply_channel
            named = f" (supply channel {channel.key or channel.id})" if channel else ""
            ctx.report(
                IssueCode.UNKNOWN_DEPOT,
                f"no Prima depot for this line{named}: map it in [depots]",
                f"{path}.supplyChannel" if channel else path,
            )
            ok = False
        total = ctx.units(line.total_price, f"{path}.totalPrice")
        checked = _line_total_adds_up(ctx, line, total, path) if total is not None else None
        tax = item_tax(
            ctx,
            config,
            path=path,
            total_price=total,
            tax_rate=line.tax_rate,
            taxed_price=line.taxed_price,
            per_method_tax_rate=line.per_method_tax_rate,
            taxed_price_portions=line.taxed_price_portions,
            spread_allowed=order.discount_on_total_price is not None,
            quantity=line.quantity,
        )
        if not ok or tax is None or checked is None:
            continue
        list_unit, discounted, ids = checked
        items.append(
            Item(
                path=path,
                reference=line.id,
                is_charge=False,
                quantity=line.quantity,
                net=tax.net,
                tax=tax.tax,
                gross=tax.gross,
                rate=tax.rate,
                tax_code=tax.code,
                sku=sku,
                warehouse=depot or "",
                list_unit=list_unit,
                discounted=discounted or bool(tax.spread),
                promotion=",".join(ids),
            )
        )
    return items


def read_custom_lines(ctx: OrderContext, order: Order, config: MappingConfig) -> list[Item]:
    """The order's custom line items, as product lines or charges as configured."""
    items = []
    for index, custom in enumerate(order.custom_line_items):
        path = f"customLineItems[{index}]"
        target = config.custom_lines.get(custom.slug)
        if target is None and custom.key is not None:
            target = config.custom_lines.get(custom.key)
        ok = True
        if target is None:
            ctx.report(
                IssueCode.UNMAPPED_CUSTOM_LINE,
                f"custom line {custom.slug!r} is neither a product nor a charge: add it to "
                "[custom_lines]",
                f"{path}.slug",
            )
            ok = False
        if custom.quantity <= 0:
            ctx.report(IssueCode.INVALID_ORDER, "the quantity must be positive", f"{path}.quantity")
            ok = False
        depot = ""
        if target is not None and target.product is not None:
            found = config.depots.depot_for(store_key=store_key(order))
            if found is None:
                ctx.report(
                    IssueCode.UNKNOWN_DEPOT,
                    "no Prima depot for this custom line: set depots.default",
                    path,
                )
                ok = False
            depot = found or ""
        total = ctx.units(custom.total_price, f"{path}.totalPrice")
        list_unit, discounted, ids = _custom_discounts(ctx, custom, path)
        tax = item_tax(
            ctx,
            config,
            path=path,
            total_price=total,
            tax_rate=custom.tax_rate,
            taxed_price=custom.taxed_price,
            per_method_tax_rate=custom.per_method_tax_rate,
            taxed_price_portions=custom.taxed_price_portions,
            spread_allowed=order.discount_on_total_price is not None,
            quantity=custom.quantity,
        )
        if not ok or tax is None or target is None:
            continue
        items.append(
            Item(
                path=path,
                reference=custom.id,
                is_charge=target.charge is not None,
                quantity=custom.quantity,
                net=tax.net,
                tax=tax.tax,
                gross=tax.gross,
                rate=tax.rate,
                tax_code=tax.code,
                sku=target.product,
                charge_code=target.charge or "",
                warehouse=depot,
                list_unit=list_unit,
                discounted=discounted or bool(tax.spread),
                promotion=",".join(ids),
            )
        )
    return items


def _custom_discounts(
    ctx: OrderContext, custom: CustomLineItem, path: str
) -> tuple[int | None, bool, list[str]]:
    parts = _discount_parts(ctx, custom.discounted_price_per_quantity, custom.quantity, path)
    if parts is None:
        return None, False, []
    covered, _, ids = parts
    money = custom.money
    unit = None if isinstance(money, HighPrecisionMoney) else money.minor_units
    if unit is not None and (money.currency, money.fraction_digits) != (ctx.currency, ctx.digits):
        unit = None
    return unit, bool(covered), ids


def read_shipping(ctx: OrderContext, order: Order, config: MappingConfig) -> list[Item]:
    """The order's shipping (single or multiple) as charges."""
    entries: list[tuple[str, str | None, ShippingInfo]] = []
    if order.shipping_info is not None:
        entries.append(("shippingInfo", order.shipping_key, order.shipping_info))
    for index, shipping in enumerate(order.shipping):
        entries.append(
            (f"shipping[{index}].shippingInfo", shipping.shipping_key, shipping.shipping_info)
        )
    items = []
    for path, key, info in entries:
        method = info.shipping_method
        names = tuple(
            name
            for name in (
                method.key if method else None,
                method.id if method else None,
                info.shipping_method_name,
            )
            if name
        )
        code = config.shipping.code_for(shipping_key=key, method_names=names)
        carrier = config.shipping.carrier_for(shipping_key=key, method_names=names)
        if carrier is None and config.shipping.uses_carriers:
            ctx.report(
                IssueCode.UNMAPPED_CARRIER,
                f"shipping method {info.shipping_method_name!r}"
                + (f" (shipping key {key!r})" if key else "")
                + " has no Prima carrier: give it one in [shipping.methods] or [shipping.keys]",
                f"{path}.shippingMethod",
            )
        if code is None:
            ctx.report(
                IssueCode.UNMAPPED_SHIPPING_METHOD,
                f"shipping method {info.shipping_method_name!r}"
                + (f" (shipping key {key!r})" if key else "")
                + " has no Prima charge code: add it to [shipping.methods] or [shipping.keys]",
                path,
            )
        price = ctx.units(info.price, f"{path}.price")
        list_unit = price
        total = price
        discounted = False
        ids: list[str] = []
        if info.discounted_price is not None:
            total = ctx.units(info.discounted_price.value, f"{path}.discountedPrice.value")
            discounted = True
            ids = [
                p.discount.key or p.discount.id or ""
                for p in info.discounted_price.included_discounts
            ]
        tax = item_tax(
            ctx,
            config,
            path=path,
            total_price=total,
            tax_rate=info.tax_rate,
            taxed_price=info.taxed_price,
            spread_allowed=order.discount_on_total_price is not None,
        )
        if code is None or tax is None:
            continue
        items.append(
            Item(
                path=path,
                reference=key or "shipping",
                is_charge=True,
                is_shipping=True,
                carrier=None if carrier is None else (carrier.carrier, carrier.service),
                quantity=1,
                net=tax.net,
                tax=tax.tax,
                gross=tax.gross,
                rate=tax.rate,
                tax_code=tax.code,
                charge_code=code,
                list_unit=list_unit,
                discounted=discounted or bool(tax.spread),
                promotion=",".join(i for i in ids if i),
            )
        )
    return items
