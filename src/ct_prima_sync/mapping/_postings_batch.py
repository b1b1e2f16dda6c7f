"""Which entries a period's batches hold, and the journal each batch posts (pure).

Rules (docs/finance.md):

1. Closing a period takes every entry not yet in a batch whose basis day is before the period's
   end: an entry of an earlier period that arrived late goes into this period's batch, never
   into a posted one.
2. One batch per currency per close; its id is ``<mode>-<period>-<currency>-<sequence>``, the
   sequence one more than the period's batches so far, so ids are deterministic and never reused.
3. A batch's journal sums its members' lines per account (and tax code): one line per provider's
   clearing account that the provider's payout matches. Before anything is sent,
   :func:`check_batch` asserts that the lines balance and that the money side equals the sum of
   the members' gross, to the minor unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from attrs import frozen

from ..errors import PayloadError
from ..money import Money
from ..prima import JournalBatch, JournalLine
from ._postings import PostingEntry
from ._postings_config import AccountRole, PostingMode, PostingPeriod

__all__ = [
    "PlannedBatch",
    "batch_id",
    "build_journal",
    "check_batch",
    "journal_money_side",
    "plan_batches",
]


def batch_id(mode: PostingMode, period: PostingPeriod, currency: str, sequence: int) -> str:
    """The deterministic id of a batch: ``settlement-2026-11-03-EUR-001``."""
    return f"{mode.value}-{period.label}-{currency}-{sequence:03d}"


@frozen(kw_only=True)
class PlannedBatch:
    """A batch to create: its id, period, currency and members (entries, in a stable order)."""

    batch_id: str
    mode: PostingMode
    period: PostingPeriod
    currency: str
    sequence: int
    entries: tuple[PostingEntry, ...]

    @property
    def gross(self) -> int:
        """The members' gross, in minor units."""
        return sum(entry.gross for entry in self.entries)


def plan_batches(
    entries: Iterable[PostingEntry],
    *,
    mode: PostingMode,
    period: PostingPeriod,
    batched: Iterable[tuple[str, str]],
    sequences: Mapping[str, int],
) -> list[PlannedBatch]:
    """The batches closing ``period`` creates: the entries not in ``batched`` (``(order id,
    entry)`` pairs already in a batch) whose day is before the period's end, one batch per
    currency, numbered after ``sequences`` (the highest sequence used per currency in this
    period). Nothing to post: no batches, so closing a period again posts nothing."""
    taken = set(batched)
    due: dict[str, list[PostingEntry]] = {}
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        key = (entry.order_id, entry.entry)
        if key in taken or key in seen or entry.on >= period.end:
            continue
        seen.add(key)
        due.setdefault(entry.currency, []).append(entry)
    planned = []
    for currency in sorted(due):
        sequence = sequences.get(currency, 0) + 1
        members = tuple(sorted(due[currency], key=lambda e: (e.order_id, e.entry)))
        planned.append(
            PlannedBatch(
                batch_id=batch_id(mode, period, currency, sequence),
                mode=mode,
                period=period,
                currency=currency,
                sequence=sequence,
                entries=members,
            )
        )
    return planned


def build_journal(
    batch_id: str,
    entries: Sequence[PostingEntry],
    *,
    posting_date: date,
    currency: str,
    description: str = "",
) -> JournalBatch:
    """The journal batch of ``entries``: their lines summed per account, role and tax code, in
    a stable order (money side first); lines that sum to zero are left out."""
    sums: dict[tuple[int, str, str, str], Money] = {}
    order = list(AccountRole)
    for entry in entries:
        for line in entry.lines:
            tax_code = line.key if line.role in (AccountRole.REVENUE, AccountRole.TAX) else ""
            key = (order.index(line.role), line.account, line.role.value, tax_code)
            sums[key] = sums[key] + line.amount if key in sums else line.amount
    lines = tuple(
        JournalLine(
            account=account,
            amount=amount,
            description=_describe(role, currency),
            reference=batch_id,
            tax_code=tax_code,
        )
        for (_, account, role, tax_code), amount in sorted(sums.items())
        if not amount.is_zero
    )
    return JournalBatch(
        batch_id=batch_id,
        posting_date=posting_date,
        currency=currency,
        lines=lines,
        description=description or f"{batch_id}: {len(entries)} entries",
    )


_DESCRIPTIONS = {
    AccountRole.CLEARING: "payments clearing",
    AccountRole.DEBTORS: "debtors control",
    AccountRole.REVENUE: "sales revenue",
    AccountRole.SHIPPING: "shipping and charges",
    AccountRole.DISCOUNT: "discounts",
    AccountRole.TAX: "tax output",
}


def _describe(role: str, currency: str) -> str:
    return f"web shop {_DESCRIPTIONS[AccountRole(role)]} {currency}"


def journal_money_side(journal: JournalBatch) -> int:
    """Minor units a journal posts to the payments clearing accounts (its money side)."""
    clearing = _describe(AccountRole.CLEARING.value, journal.currency)
    return sum(line.amount.minor_units for line in journal.lines if line.description == clearing)


def check_batch(journal: JournalBatch, *, members_gross: int) -> None:
    """Refuse to post a journal that does not balance or whose money side differs from
    ``members_gross``, the sum of its members' gross as recorded
    (:class:`~ct_prima_sync.errors.PayloadError`, naming the difference)."""
    total = sum(line.amount.minor_units for line in journal.lines)
    if total != 0:
        raise PayloadError(f"batch {journal.batch_id} does not balance: off by {total} minor units")
    posted = journal_money_side(journal)
    if posted != members_gross:
        raise PayloadError(
            f"batch {journal.batch_id} posts {posted} minor units to clearing but its members "
            f"total {members_gross}"
        )
