"""The limits an order must keep before its figures are used (INVALID_ORDER with the path).

Rules (docs/mapping.md, "Bounds"):

1. Every amount on the order, wherever it sits (prices, totals, taxed prices, discounts, shipping
   rates), is in the order's currency and fraction digits; a high-precision amount has at least
   the currency's fraction digits.
2. Amounts and quantities fit commercetools' int64 (``centAmount``, ``preciseAmount``,
   ``quantity``); quantities are never negative; tax rates (``taxRate.amount``, portions'
   ``rate``) are fractions from 0 to 1, as commercetools keeps them.
3. Line item and custom line item ids are unique: Prima lines carry them as their reference.
4. A custom line's ``money`` is positive: zero or negative money cannot become a Prima product
   line or charge (vouchers and gift cards are payments or discounts).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

import attrs

from ..commercetools._models.base import wire_name
from ..commercetools._models.order import Order
from ..money import HighPrecisionMoney, Money
from ._context import OrderContext
from ._issues import IssueCode

__all__ = ["INT64_MAX", "check_bounds"]

#: commercetools' amounts and quantities are int64.
INT64_MAX: Final = 2**63 - 1
INT64_MIN: Final = -(2**63)

_SCALARS: Final = (str, bool, type(None))
_RATES: Final = frozenset({"amount", "rate"})  # TaxRate.amount, SubRate.amount, TaxPortion.rate


# ``int`` too: the only whole numbers checked are those named ``quantity`` (see _fields).
_PLAIN: Final = (str, bool, int, float, type(None), dt.datetime, dt.date)


def _may_hold(kind: object, seen: frozenset[type] = frozenset()) -> bool:
    """Whether a value of this declared type can hold an amount, a quantity or a rate."""
    if kind is Money or kind is HighPrecisionMoney or kind is Decimal:
        return True
    if kind in _PLAIN or kind is Any:
        return False  # Any: raw JSON (attribute values, custom fields), never a model
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return False
    args = typing.get_args(kind)
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType) or origin is tuple:
        return any(_may_hold(a, seen) for a in args if a is not Ellipsis)
    if origin is not None and issubclass(origin, Mapping):
        return False  # the walk never enters mappings
    if isinstance(kind, type) and attrs.has(kind):
        return kind not in seen and any(
            a.name == "quantity" or _may_hold(a.type, seen | {kind})
            for a in _resolved(kind)
            if a.name != "extra"
        )
    return True  # Money, HighPrecisionMoney, Decimal, int, and anything unforeseen


def _resolved(cl: type) -> tuple[attrs.Attribute[Any], ...]:
    try:
        attrs.resolve_types(cl)
    except (NameError, TypeError):  # pragma: no cover - a model with unresolvable hints
        return tuple(evolve_type(a) for a in attrs.fields(cl))
    return tuple(attrs.fields(cl))


def evolve_type(a: attrs.Attribute[Any]) -> attrs.Attribute[Any]:
    """The field with its type unknown (so the walk enters it)."""
    return a.evolve(type=object)


@functools.cache
def _fields(cl: type[attrs.AttrsInstance]) -> tuple[tuple[str, str], ...]:
    """(attribute, JSON key) of the model's fields that can hold an amount, a quantity or a
    rate; ``extra`` (raw, unchecked JSON) left out."""
    return tuple(
        (a.name, wire_name(a))
        for a in _resolved(cl)
        if a.name != "extra" and (a.name == "quantity" or _may_hold(a.type))
    )


def _walk(value: object, path: str) -> list[tuple[str, object]]:
    """Every amount, ``quantity`` and tax rate below a model, with its JSON path."""
    found: list[tuple[str, object]] = []
    _collect(value, path, found)
    return found


def _collect(value: object, path: str, found: list[tuple[str, object]]) -> None:
    # One list filled by plain recursion: nested generators cost a frame per level per value,
    # and a 50-line order holds thousands of fields.
    kind = type(value)
    if kind is Money or kind is HighPrecisionMoney:
        found.append((path, value))
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            _collect(item, f"{path}[{index}]", found)
    elif attrs.has(kind):
        for name, key in _fields(kind):
            item = getattr(value, name)
            if isinstance(item, _SCALARS) or (isinstance(item, tuple) and not item):
                continue
            if isinstance(item, int):
                if name == "quantity":
                    found.append((f"{path}.{key}" if path else key, item))
                continue
            here = f"{path}.{key}" if path else key
            if name in _RATES and isinstance(item, Decimal):
                found.append((here, item))
            else:
                _collect(item, here, found)


def _check_amount(ctx: OrderContext, amount: Money | HighPrecisionMoney, path: str) -> None:
    if isinstance(amount, HighPrecisionMoney):
        units: tuple[int, ...] = (amount.cent_amount, amount.precise_amount)
    else:
        units = (amount.minor_units,)
    if any(not INT64_MIN <= u <= INT64_MAX for u in units):
        ctx.report(IssueCode.INVALID_ORDER, "the amount is beyond commercetools' int64 range", path)
        return
    if amount.currency != ctx.currency:
        ctx.report(
            IssueCode.INVALID_ORDER,
            f"amount in {amount.currency} on an order in {ctx.currency}",
            path,
        )
    elif isinstance(amount, HighPrecisionMoney):
        if amount.fraction_digits < ctx.digits:
            ctx.report(
                IssueCode.INVALID_ORDER,
                f"a high-precision amount with {amount.fraction_digits} fraction digits, fewer "
                f"than the {ctx.digits} of {ctx.currency}",
                f"{path}.fractionDigits",
            )
    elif amount.fraction_digits != ctx.digits:
        ctx.report(
            IssueCode.INVALID_ORDER,
            f"amount with {amount.fraction_digits} fraction digits on an order in {ctx.currency} "
            f"with {ctx.digits}",
            f"{path}.fractionDigits",
        )


def check_bounds(ctx: OrderContext, order: Order) -> bool:
    """Report every bound the order breaks; True when it keeps them all."""
    before = len(ctx.issues)
    for path, value in _walk(order, ""):
        if isinstance(value, int):
            if not 0 <= value <= INT64_MAX:
                ctx.report(
                    IssueCode.INVALID_ORDER,
                    "the quantity is negative or beyond commercetools' int64 range",
                    path,
                )
        elif isinstance(value, Decimal):
            if not (value.is_finite() and 0 <= value <= 1):
                ctx.report(IssueCode.INVALID_ORDER, "a tax rate is a fraction from 0 to 1", path)
        elif isinstance(value, Money | HighPrecisionMoney):
            _check_amount(ctx, value, path)
    seen: dict[str, str] = {}
    lines = [(f"lineItems[{i}]", line.id) for i, line in enumerate(order.line_items)]
    lines += [(f"customLineItems[{i}]", c.id) for i, c in enumerate(order.custom_line_items)]
    for path, line_id in lines:
        if line_id in seen:
            ctx.report(
                IssueCode.INVALID_ORDER,
                f"the line id is used twice (also at {seen[line_id]}): Prima lines carry it as "
                "their reference",
                f"{path}.id",
            )
        else:
            seen[line_id] = path
    for index, custom in enumerate(order.custom_line_items):
        money = custom.money
        value = money.precise_amount if isinstance(money, HighPrecisionMoney) else money.minor_units
        if value <= 0:
            ctx.report(
                IssueCode.INVALID_ORDER,
                "a custom line with zero or negative money cannot become a Prima line or charge "
                "(book vouchers and gift cards as payments or discounts)",
                f"customLineItems[{index}].money",
            )
    return len(ctx.issues) == before
