"""Month-end reconciliation: what commercetools, the ledger and Prima say about a period, matched
order by order into named gaps (pure).

Gap types, each with the team that owns it (docs/finance.md, "What to do for each gap"):

========================== =========== ======================================================
``orphan``                 operations  in commercetools and eligible, never reached the ledger
``not_in_prima``           operations  in the ledger, but Prima does not know the order
``unknown_to_commercetools`` ecommerce in Prima's listing or export, not in commercetools
``amount_differs``         ecommerce   commercetools' gross differs from what Prima got
``edited_after_posting``   finance     the order changed in commercetools after it was posted
``not_posted``             finance     an entry of the period is in no batch
``missing_reversal``       finance     cancelled or refunded in commercetools, no reversal
``batch_mismatch``         finance     a posted batch's total differs from its members
========================== =========== ======================================================
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from typing import Final

from attrs import field, frozen

from ..money import Money

__all__ = [
    "GAP_OWNERS",
    "BatchCheck",
    "CurrencyTotals",
    "Gap",
    "GapType",
    "PrimaListedOrder",
    "ReconciledOrder",
    "Reconciliation",
    "match_orders",
]


class GapType(enum.StrEnum):
    """The kinds of difference reconciliation names (see the module docstring)."""

    ORPHAN = "orphan"
    NOT_IN_PRIMA = "not_in_prima"
    UNKNOWN_TO_COMMERCETOOLS = "unknown_to_commercetools"
    AMOUNT_DIFFERS = "amount_differs"
    EDITED_AFTER_POSTING = "edited_after_posting"
    NOT_POSTED = "not_posted"
    MISSING_REVERSAL = "missing_reversal"
    BATCH_MISMATCH = "batch_mismatch"


#: Who acts on each gap type.
GAP_OWNERS: Final = {
    GapType.ORPHAN: "operations",
    GapType.NOT_IN_PRIMA: "operations",
    GapType.UNKNOWN_TO_COMMERCETOOLS: "ecommerce",
    GapType.AMOUNT_DIFFERS: "ecommerce",
    GapType.EDITED_AFTER_POSTING: "finance",
    GapType.NOT_POSTED: "finance",
    GapType.MISSING_REVERSAL: "finance",
    GapType.BATCH_MISMATCH: "finance",
}


@frozen(kw_only=True)
class ReconciledOrder:
    """Everything known about one commercetools order of the period, in minor units.

    ``expected`` are the entries its postings make as it stands now whose day is in or before
    the period, ``(entry, gross)``; ``batched`` the entries in batches, ``(entry, gross)``.
    ``reversal_due``: cancelled, or refunded by its payment state or returns.
    """

    order_id: str
    order_number: str
    currency: str
    fraction_digits: int
    ct_gross: int
    eligible: bool
    ledger_gross: int | None = None
    in_prima: bool | None = None
    """Prima's answer to OrderStatus: None when it was not asked (not in the ledger)."""
    prima_gross: int | None = None
    """The gross in Prima's listing or export, when one was read and holds the order."""
    expected: tuple[tuple[str, int], ...] = ()
    batched: tuple[tuple[str, int], ...] = ()
    reversal_due: bool = False


@frozen(kw_only=True)
class PrimaListedOrder:
    """One order of Prima's period listing or export file."""

    order_number: str
    currency: str
    gross: Money


@frozen(kw_only=True)
class BatchCheck:
    """A posted batch: what its journal posts to clearing and what its members add up to."""

    batch_id: str
    currency: str
    fraction_digits: int
    journal_gross: int
    members_gross: int


@frozen(kw_only=True)
class Gap:
    """One difference, with its owner and the amount it is off by (when it has one)."""

    type: GapType
    currency: str
    order_id: str = ""
    order_number: str = ""
    batch_id: str = ""
    difference: Money | None = None
    detail: str = ""

    @property
    def owner(self) -> str:
        """The team that acts on it."""
        return GAP_OWNERS[self.type]


@frozen(kw_only=True)
class CurrencyTotals:
    """The period's figures in one currency: what commercetools, the ledger and the postings say.

    ``expected`` is what the postings should hold for the period's orders as they stand now;
    ``posted`` what the batches hold for the same entries.
    """

    currency: str
    orders: int
    matched: int
    commercetools: Money
    ledger: Money
    expected: Money
    posted: Money

    @property
    def balanced(self) -> bool:
        """Whether the postings hold exactly what they should."""
        return self.expected == self.posted


@frozen(kw_only=True)
class Reconciliation:
    """The period's totals per currency and every gap, order by order."""

    totals: tuple[CurrencyTotals, ...]
    gaps: tuple[Gap, ...] = ()
    not_run: tuple[str, ...] = field(default=())
    """Checks that could not run (with why), e.g. "in Prima, unknown to commercetools"."""

    @property
    def balanced(self) -> bool:
        """No gaps and every currency balanced."""
        return not self.gaps and all(t.balanced for t in self.totals)


def _money(units: int, currency: str, digits: int) -> Money:
    return Money.of(units, currency, digits)


def _order_gaps(order: ReconciledOrder) -> list[Gap]:
    def gap(kind: GapType, units: int | None = None, detail: str = "") -> Gap:
        return Gap(
            type=kind,
            currency=order.currency,
            order_id=order.order_id,
            order_number=order.order_number,
            difference=None
            if units is None
            else _money(units, order.currency, order.fraction_digits),
            detail=detail,
        )

    if order.ledger_gross is None:
        return (
            [gap(GapType.ORPHAN, order.ct_gross, "never reached the ledger")]
            if order.eligible
            else []
        )
    if order.in_prima is False:
        return [gap(GapType.NOT_IN_PRIMA, order.ct_gross, "Prima does not know the order")]
    gaps = []
    posted = bool(order.batched)
    sent = order.prima_gross if order.prima_gross is not None else order.ledger_gross
    batched = dict(order.batched)
    changed = [e for e, g in order.expected if e in batched and batched[e] != g]
    if posted and (order.ct_gross != order.ledger_gross or changed):
        gaps.append(
            gap(
                GapType.EDITED_AFTER_POSTING,
                order.ct_gross - order.ledger_gross,
                f"gross now {order.ct_gross}, posted as {order.ledger_gross}",
            )
        )
    elif order.ct_gross != sent:
        gaps.append(gap(GapType.AMOUNT_DIFFERS, order.ct_gross - sent, f"Prima has {sent}"))
    missing = [(e, g) for e, g in order.expected if e not in batched]
    if missing:
        gaps.append(
            gap(
                GapType.NOT_POSTED,
                sum(g for _, g in missing),
                ", ".join(e for e, _ in missing),
            )
        )
    reversed_ = any(
        e.startswith(("refund:", "cancel")) for e, _ in (*order.expected, *order.batched)
    )
    net_posted = sum(batched.values())
    if order.reversal_due and net_posted != 0 and not reversed_:
        gaps.append(gap(GapType.MISSING_REVERSAL, -net_posted, "no refund or cancellation posted"))
    return gaps


def match_orders(
    orders: Iterable[ReconciledOrder],
    *,
    batches: Sequence[BatchCheck] = (),
    prima_listing: Sequence[PrimaListedOrder] | None = None,
    known_numbers: Iterable[str] = (),
) -> Reconciliation:
    """Match the period's orders into totals per currency and gaps.

    ``prima_listing`` is Prima's list of the period's orders (a listing request or its export
    file); None when neither is available: the "unknown to commercetools" check does not run and
    the result says so. ``known_numbers`` are order numbers commercetools knows outside the
    period (an order placed on the last evening that Prima dates the next day is not unknown).
    """
    by_currency: dict[str, dict[str, int]] = {}
    digits: dict[str, int] = {}
    gaps: list[Gap] = []
    numbers: set[str] = set(known_numbers)
    for order in orders:
        numbers.add(order.order_number)
        found = _order_gaps(order)
        gaps += found
        row = by_currency.setdefault(
            order.currency,
            {"orders": 0, "matched": 0, "ct": 0, "ledger": 0, "expected": 0, "posted": 0},
        )
        digits[order.currency] = order.fraction_digits
        row["orders"] += 1
        row["matched"] += 0 if found else 1
        row["ct"] += order.ct_gross
        row["ledger"] += order.ledger_gross or 0
        batched = dict(order.batched)
        row["expected"] += sum(g for _, g in order.expected)
        row["posted"] += sum(batched.get(e, 0) for e, _ in order.expected)
    for batch in batches:
        if batch.journal_gross != batch.members_gross:
            gaps.append(
                Gap(
                    type=GapType.BATCH_MISMATCH,
                    currency=batch.currency,
                    batch_id=batch.batch_id,
                    difference=_money(
                        batch.journal_gross - batch.members_gross,
                        batch.currency,
                        batch.fraction_digits,
                    ),
                    detail=f"journal {batch.journal_gross}, members {batch.members_gross}",
                )
            )
    not_run: tuple[str, ...] = ()
    if prima_listing is None:
        not_run = (
            "in Prima, unknown to commercetools: not run (no Prima listing request is "
            "configured and no Prima export file was given)",
        )
    else:
        gaps += [
            Gap(
                type=GapType.UNKNOWN_TO_COMMERCETOOLS,
                currency=listed.currency,
                order_number=listed.order_number,
                difference=listed.gross,
                detail="in Prima's listing, not in commercetools",
            )
            for listed in prima_listing
            if listed.order_number not in numbers
        ]
    totals = tuple(
        CurrencyTotals(
            currency=currency,
            orders=row["orders"],
            matched=row["matched"],
            commercetools=_money(row["ct"], currency, digits[currency]),
            ledger=_money(row["ledger"], currency, digits[currency]),
            expected=_money(row["expected"], currency, digits[currency]),
            posted=_money(row["posted"], currency, digits[currency]),
        )
        for currency, row in sorted(by_currency.items())
    )
    order_of = list(GapType)
    gaps.sort(key=lambda g: (order_of.index(g.type), g.currency, g.order_number, g.batch_id))
    return Reconciliation(totals=totals, gaps=tuple(gaps), not_run=not_run)
