"""The state one order's mapping shares between its steps: currency, price basis, issues.

Internal. Amounts inside the mapping are ``int`` minor units of the order's currency; every
commercetools amount enters through :meth:`OrderContext.units`, which refuses another currency.
"""

from __future__ import annotations

from decimal import Decimal

from attrs import define, field, frozen

from ..money import HighPrecisionMoney, Money, RoundingMode
from ..prima import SkuCode
from ._issues import IssueCode, MappingIssue

__all__ = ["Item", "OrderContext"]


@define
class OrderContext:
    """Per-order facts and the issues found so far."""

    currency: str
    digits: int
    ct_gross: bool
    """True when commercetools prices include tax (the price basis of totals and discounts)."""
    tax_rounding: RoundingMode
    unit_level: bool = False
    """True for ``taxCalculationMode: UnitPriceLevel`` (tax rounded per unit, not per line)."""
    tax_given: bool = False
    """True when the order's tax amounts came from outside (``taxMode: ExternalAmount``)."""
    taxes_required: bool = True
    """False for a cart not yet taxed: an item without a tax rate or taxed price is no issue."""
    issues: list[MappingIssue] = field(factory=list)

    def report(
        self, code: IssueCode, message: str, path: str = "", difference: int | None = None
    ) -> None:
        """Record an issue (``difference`` in minor units for TOTALS_MISMATCH)."""
        diff = None if difference is None else self.money(difference)
        self.issues.append(MappingIssue(code=code, message=message, path=path, difference=diff))

    def money(self, units: int) -> Money:
        """``units`` minor units of the order's currency."""
        return Money(units, self.currency, self.digits)

    def units(self, amount: Money | HighPrecisionMoney | None, path: str) -> int | None:
        """The minor units of a commercetools amount, or ``None`` (reported) when it is missing
        or in another currency than the order."""
        if amount is None:
            self.report(IssueCode.INVALID_ORDER, "the amount is missing", path)
            return None
        money = amount.to_money() if isinstance(amount, HighPrecisionMoney) else amount
        if money.currency != self.currency or money.fraction_digits != self.digits:
            self.report(
                IssueCode.INVALID_ORDER,
                f"amount in {money.currency} with {money.fraction_digits} fraction digits on an "
                f"order in {self.currency} with {self.digits}",
                path,
            )
            return None
        return money.minor_units


@frozen(kw_only=True)
class Item:
    """A commercetools line item, custom line item or shipping, reduced to what Prima needs.

    ``net``, ``tax`` and ``gross`` are after item-level discounts and before order-level ones.
    ``list_unit`` is the unit price before any discount in commercetools' price basis, or
    ``None`` when there is no single one (high-precision or external prices).
    """

    path: str
    reference: str
    is_charge: bool
    quantity: int
    net: int
    tax: int
    gross: int
    rate: Decimal
    tax_code: str = ""
    sku: SkuCode | None = None
    charge_code: str = ""
    warehouse: str = ""
    list_unit: int | None = None
    discounted: bool = False
    promotion: str = ""
    is_shipping: bool = False
    carrier: tuple[str, str] | None = None
    """Shipping only: the Prima (carrier, service), when the configuration maps one."""

    def basis(self, gross: bool) -> int:
        """The item's total in a price basis."""
        return self.gross if gross else self.net
