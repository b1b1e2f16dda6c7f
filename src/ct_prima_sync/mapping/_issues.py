"""Why an order cannot be mapped: issues with a stable code, an owner and a field path.

An issue is data, not an exception: the mapping collects every issue of an order and reports them
together, so whoever fixes the order sees all of it at once. Codes are stable strings that
monitoring, the exception queue and runbooks can rely on. Messages name the commercetools field
and the setting to change; they never carry personal data (names, e-mail addresses, addresses).
"""

from __future__ import annotations

import enum
from typing import Final

from attrs import Factory, field, frozen

from ..money import Money

__all__ = ["IssueCode", "IssueOwner", "MappingIssue"]


class IssueOwner(enum.StrEnum):
    """Who fixes it: ecommerce (catalogue, shop setup), operations (warehouses), finance (tax,
    currencies, totals)."""

    ECOMMERCE = "ecommerce"
    OPERATIONS = "operations"
    FINANCE = "finance"


class IssueCode(enum.StrEnum):
    """Stable issue codes."""

    UNMAPPED_SKU = "UNMAPPED_SKU"
    UNKNOWN_DEPOT = "UNKNOWN_DEPOT"
    UNMAPPED_SHIPPING_METHOD = "UNMAPPED_SHIPPING_METHOD"
    UNMAPPED_CARRIER = "UNMAPPED_CARRIER"
    UNMAPPED_CUSTOM_LINE = "UNMAPPED_CUSTOM_LINE"
    UNMAPPED_TAX_RATE = "UNMAPPED_TAX_RATE"
    TAX_RATE_MISMATCH = "TAX_RATE_MISMATCH"
    UNMAPPED_PAYMENT_METHOD = "UNMAPPED_PAYMENT_METHOD"
    PAYMENT_MISMATCH = "PAYMENT_MISMATCH"
    UNSUPPORTED_TAX_SETUP = "UNSUPPORTED_TAX_SETUP"
    UNSUPPORTED_DISCOUNT = "UNSUPPORTED_DISCOUNT"
    UNRECOGNISED_FIELD = "UNRECOGNISED_FIELD"
    CURRENCY_NOT_ALLOWED = "CURRENCY_NOT_ALLOWED"
    TOTALS_MISMATCH = "TOTALS_MISMATCH"
    INVALID_ORDER = "INVALID_ORDER"

    @property
    def owner(self) -> IssueOwner:
        """Who usually fixes an issue of this code."""
        return _OWNERS[self]


_OWNERS: Final[dict[IssueCode, IssueOwner]] = {
    IssueCode.UNMAPPED_SKU: IssueOwner.ECOMMERCE,
    IssueCode.UNKNOWN_DEPOT: IssueOwner.OPERATIONS,
    IssueCode.UNMAPPED_SHIPPING_METHOD: IssueOwner.OPERATIONS,
    IssueCode.UNMAPPED_CARRIER: IssueOwner.OPERATIONS,
    IssueCode.UNMAPPED_CUSTOM_LINE: IssueOwner.ECOMMERCE,
    IssueCode.UNMAPPED_TAX_RATE: IssueOwner.FINANCE,
    IssueCode.TAX_RATE_MISMATCH: IssueOwner.FINANCE,
    IssueCode.UNMAPPED_PAYMENT_METHOD: IssueOwner.FINANCE,
    IssueCode.PAYMENT_MISMATCH: IssueOwner.FINANCE,
    IssueCode.UNSUPPORTED_TAX_SETUP: IssueOwner.FINANCE,
    IssueCode.UNSUPPORTED_DISCOUNT: IssueOwner.ECOMMERCE,
    IssueCode.UNRECOGNISED_FIELD: IssueOwner.ECOMMERCE,
    IssueCode.CURRENCY_NOT_ALLOWED: IssueOwner.FINANCE,
    IssueCode.TOTALS_MISMATCH: IssueOwner.FINANCE,
    IssueCode.INVALID_ORDER: IssueOwner.ECOMMERCE,
}


@frozen(kw_only=True)
class MappingIssue:
    """One reason an order cannot become a Prima sales order.

    ``path`` is the commercetools field (``lineItems[2].variant.sku``); ``difference`` is set for
    TOTALS_MISMATCH (what the mapped figures minus commercetools' figure came to) and
    TAX_RATE_MISMATCH (the item's tax minus what its rate gives) and PAYMENT_MISMATCH (what the
    payments cover minus the order's gross).
    """

    code: IssueCode
    message: str
    path: str = ""
    difference: Money | None = None
    owner: IssueOwner = field(default=Factory(lambda self: self.code.owner, takes_self=True))

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"{self.code}{where}: {self.message}"
