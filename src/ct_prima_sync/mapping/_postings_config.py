"""What the finance postings need to know: the mode, the account codes and the period.

Plain, frozen values (``[postings]`` in the settings file, docs/finance.md). No I/O.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Final

from attrs import field, frozen

from ..errors import ConfigurationError

__all__ = ["AccountRole", "PostingAccounts", "PostingMode", "PostingPeriod"]


class PostingMode(enum.StrEnum):
    """What a batch posts.

    ``settlement`` (the default): the money taken, per payment provider and currency, from the
    provider's clearing account against the debtors control account; Prima invoices the orders
    itself, so revenue and VAT are not posted twice. ``revenue``: a summary journal of revenue per
    tax code, shipping and charges, discounts and tax output, against the clearing accounts, for
    installations where Prima does not invoice web orders.
    """

    SETTLEMENT = "settlement"
    REVENUE = "revenue"


class AccountRole(enum.StrEnum):
    """What a journal line posts to; ``clearing`` is the money side of every entry."""

    CLEARING = "clearing"
    DEBTORS = "debtors_control"
    REVENUE = "revenue"
    SHIPPING = "shipping"
    DISCOUNT = "discounts"
    TAX = "tax_output"


@frozen(kw_only=True)
class PostingAccounts:
    """``[postings.accounts]``: the account codes from the chart of accounts.

    ``clearing`` is per payment provider (the ``paymentInterface`` of the commercetools payment,
    ``"*"`` for any other provider, ``""`` for orders without a payment); ``revenue`` and
    ``tax_output`` per Prima tax code (``"*"`` for any other code); ``promotions`` per promotion
    (discount code or cart discount key) where discounts post to their own account, else
    ``discounts``; ``shipping`` for shipping and other charges. A code left out where an amount
    needs one is a finance exception, never a silent gap.
    """

    debtors_control: str = ""
    clearing: Mapping[str, str] = field(factory=dict)
    revenue: Mapping[str, str] = field(factory=dict)
    shipping: str = ""
    discounts: str = ""
    promotions: Mapping[str, str] = field(factory=dict)
    tax_output: Mapping[str, str] = field(factory=dict)

    def account(self, role: AccountRole, key: str = "") -> str:
        """The account code for ``role`` (and provider, tax code or promotion ``key``); ``""``
        when the configuration has none."""
        match role:
            case AccountRole.CLEARING:
                return _keyed(self.clearing, key)
            case AccountRole.DEBTORS:
                return self.debtors_control
            case AccountRole.REVENUE:
                return _keyed(self.revenue, key)
            case AccountRole.SHIPPING:
                return self.shipping
            case AccountRole.DISCOUNT:
                return self.promotions.get(key, "") or self.discounts
            case AccountRole.TAX:
                return _keyed(self.tax_output, key)


def _keyed(table: Mapping[str, str], key: str) -> str:
    if key in table:
        return table[key]
    return table.get("*", "")


_MONTH: Final = re.compile(r"^(\d{4})-(\d{2})$")
_DAY: Final = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@frozen(order=True)
class PostingPeriod:
    """Business days ``[start, end)`` in the business's timezone; ``label`` names it in batch
    ids (``2026-11-03`` for a day, ``2026-11`` for a month, ``2026-11-01..2026-11-15`` else)."""

    start: date
    end: date

    def __attrs_post_init__(self) -> None:
        if not self.start < self.end:
            raise ConfigurationError(f"a period must end after it starts ({self.start})")

    @classmethod
    def day(cls, day: date) -> PostingPeriod:
        """The one business day ``day``."""
        return cls(day, day + timedelta(days=1))

    @classmethod
    def month(cls, year: int, month: int) -> PostingPeriod:
        """The calendar month ``year-month``."""
        start = date(year, month, 1)
        end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return cls(start, end)

    @classmethod
    def parse(cls, text: str) -> PostingPeriod:
        """``2026-11`` (a month), ``2026-11-03`` (a day) or ``2026-11-01..2026-11-15`` (both
        days included). Raises :class:`ConfigurationError` saying what is expected."""
        value = text.strip()
        try:
            if m := _MONTH.match(value):
                return cls.month(int(m[1]), int(m[2]))
            if _DAY.match(value):
                return cls.day(date.fromisoformat(value))
            first, sep, last = value.partition("..")
            if sep and _DAY.match(first) and _DAY.match(last):
                return cls(date.fromisoformat(first), date.fromisoformat(last) + timedelta(days=1))
        except ValueError:
            pass
        raise ConfigurationError(
            f"period {text!r} is not a month (2026-11), a day (2026-11-03) or a range of days "
            "(2026-11-01..2026-11-15)"
        )

    @property
    def last_day(self) -> date:
        """The last business day in the period: the batch's posting date."""
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        """The period as batch ids and reports name it."""
        if self.end == self.start + timedelta(days=1):
            return self.start.isoformat()
        if self == PostingPeriod.month(self.start.year, self.start.month):
            return self.start.strftime("%Y-%m")
        return f"{self.start.isoformat()}..{self.last_day.isoformat()}"

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end
