"""Finance postings of one order: the journal entries its money and sales make (pure).

Rules (docs/finance.md, "What a batch contains"):

1. An entry is one balanced set of lines about one order: ``sale`` (revenue mode), ``charge:<id>``
   (settlement mode, one per successful charge), ``refund:<id>`` (a refund or chargeback: a
   reversal in both modes), ``cancel`` (revenue mode: an order cancelled after its sale, with no
   refund to reverse it). Entries are never edited: a change after posting is a new entry.
2. The ``clearing`` line(s) are the money side: their sum is the entry's ``gross`` (negative for a
   reversal); every other line together is ``-gross``, so each entry balances.
3. Settlement: each charge debits the provider's clearing account and credits debtors control;
   a refund does the opposite. Revenue: the sale credits revenue per tax code (before discount),
   shipping and charges, tax output per tax code, debits discounts (per promotion where known)
   and debits the clearing accounts of the order's payments (split by what each took, exactly);
   a refund reverses the sale in proportion, to the minor unit; a cancellation reverses what is
   left.
4. An amount whose account is not configured is a :class:`MissingAccount`, and its entry is held
   back: never a silent gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from fractions import Fraction

from attrs import frozen

from ..money import Money, allocate
from ._postings_config import AccountRole, PostingAccounts, PostingMode

__all__ = [
    "EntryLine",
    "MissingAccount",
    "PaymentMovement",
    "PostingEntry",
    "PostingSource",
    "RevenueItem",
    "build_entries",
    "reverse_entry",
]


@frozen(kw_only=True)
class PaymentMovement:
    """Money a successful payment transaction moved: positive taken (a charge), negative given
    back (a refund or chargeback). ``on`` is its business day."""

    transaction_id: str
    provider: str
    amount: Money
    on: date


@frozen(kw_only=True)
class RevenueItem:
    """One figure of the mapped sales order for the revenue mode: ``role`` revenue (``key`` the
    tax code, ``net`` before discount), shipping (``key`` the charge code), discount (``key`` the
    promotion, ``net`` the amount taken off, positive) or tax output (``key`` the tax code)."""

    role: AccountRole
    key: str
    net: Money


@frozen(kw_only=True)
class PostingSource:
    """What the postings of one order are made from, read from commercetools (and, for the
    revenue mode, the mapped sales order and the despatch date)."""

    order_id: str
    order_number: str
    currency: str
    fraction_digits: int
    gross: Money
    movements: tuple[PaymentMovement, ...] = ()
    revenue: tuple[RevenueItem, ...] = ()
    sale_on: date | None = None
    """The business day the sale is recognised (revenue mode basis); None: not yet."""
    cancelled_on: date | None = None


@frozen(kw_only=True)
class EntryLine:
    """One line of an entry: a signed amount (debit positive) on ``account`` for ``role``."""

    role: AccountRole
    key: str
    account: str
    amount: Money


@frozen(kw_only=True)
class PostingEntry:
    """A balanced set of lines about one order, posted in one batch."""

    order_id: str
    order_number: str
    entry: str
    on: date
    """The entry's basis day: the period it belongs to."""
    currency: str
    fraction_digits: int
    lines: tuple[EntryLine, ...]

    @property
    def gross(self) -> int:
        """Minor units on the money side (clearing lines): negative for a reversal."""
        return sum(line.amount.minor_units for line in self.lines if _money_side(line))

    @property
    def net(self) -> int:
        """Minor units credited to revenue, shipping and charges less discounts (revenue mode;
        the gross in settlement mode)."""
        roles = (AccountRole.REVENUE, AccountRole.SHIPPING, AccountRole.DISCOUNT)
        if not any(line.role in roles for line in self.lines):
            return self.gross
        return -sum(line.amount.minor_units for line in self.lines if line.role in roles)

    @property
    def tax(self) -> int:
        """Minor units credited to tax output (0 in settlement mode)."""
        return -sum(line.amount.minor_units for line in self.lines if line.role is AccountRole.TAX)

    @property
    def balanced(self) -> bool:
        """Whether the lines sum to zero."""
        return sum(line.amount.minor_units for line in self.lines) == 0


@frozen(kw_only=True)
class MissingAccount:
    """An amount with nowhere to go: configure ``[postings.accounts]`` for ``role``/``key``."""

    order_id: str
    order_number: str
    entry: str
    role: AccountRole
    key: str
    amount: Money


def _money_side(line: EntryLine) -> bool:
    return line.role is AccountRole.CLEARING


def _line(
    accounts: PostingAccounts, role: AccountRole, key: str, amount: Money, missing: list[str]
) -> EntryLine:
    account = accounts.account(role, key)
    if not account:
        missing.append(f"{role}|{key}")
    return EntryLine(role=role, key=key, account=account, amount=amount)


def _entry(source: PostingSource, entry: str, on: date, lines: Sequence[EntryLine]) -> PostingEntry:
    kept = tuple(line for line in lines if not line.amount.is_zero)
    return PostingEntry(
        order_id=source.order_id,
        order_number=source.order_number,
        entry=entry,
        on=on,
        currency=source.currency,
        fraction_digits=source.fraction_digits,
        lines=kept,
    )


def _settlement(source: PostingSource, accounts: PostingAccounts) -> list[PostingEntry]:
    entries = []
    for movement in source.movements:
        if movement.amount.is_zero:
            continue
        missing: list[str] = []
        kind = "charge" if movement.amount.minor_units > 0 else "refund"
        lines = [
            _line(accounts, AccountRole.CLEARING, movement.provider, movement.amount, missing),
            _line(accounts, AccountRole.DEBTORS, "", -movement.amount, missing),
        ]
        entries.append(_entry(source, f"{kind}:{movement.transaction_id}", movement.on, lines))
    return entries


def _sale_lines(source: PostingSource, accounts: PostingAccounts) -> list[EntryLine]:
    missing: list[str] = []
    lines: list[EntryLine] = []
    for item in source.revenue:
        sign = 1 if item.role is AccountRole.DISCOUNT else -1
        lines.append(_line(accounts, item.role, item.key, item.net * sign, missing))
    credited = -sum(line.amount.minor_units for line in lines)
    takers = [m for m in source.movements if m.amount.minor_units > 0]
    if not takers:
        lines.insert(
            0, _line(accounts, AccountRole.CLEARING, "", source.gross.with_units(credited), missing)
        )
        return lines
    by_provider: dict[str, int] = {}
    for movement in takers:
        by_provider[movement.provider] = (
            by_provider.get(movement.provider, 0) + movement.amount.minor_units
        )
    providers = sorted(by_provider)
    parts = allocate(credited, [by_provider[p] for p in providers])
    money = [
        _line(accounts, AccountRole.CLEARING, p, source.gross.with_units(part), missing)
        for p, part in zip(providers, parts, strict=True)
    ]
    return money + lines


def reverse_entry(
    entry: PostingEntry, *, name: str, on: date, share: Fraction = Fraction(1)
) -> PostingEntry:
    """The reversal of ``share`` of ``entry`` (1: all of it) as a new entry ``name`` on ``on``.

    Every line is negated in proportion; the non-money lines are rounded by largest remainder so
    that they sum exactly to minus the rounded money side: the reversal balances, and a full
    reversal is exactly minus the entry.
    """
    money = [line for line in entry.lines if _money_side(line)]
    other = [line for line in entry.lines if not _money_side(line)]
    money_parts = _scaled([-line.amount.minor_units for line in money], share)
    other_parts = _split(-sum(money_parts), [-line.amount.minor_units for line in other])
    lines = [
        EntryLine(
            role=line.role, key=line.key, account=line.account, amount=line.amount.with_units(part)
        )
        for line, part in zip([*money, *other], [*money_parts, *other_parts], strict=True)
    ]
    kept = tuple(line for line in lines if not line.amount.is_zero)
    return PostingEntry(
        order_id=entry.order_id,
        order_number=entry.order_number,
        entry=name,
        on=on,
        currency=entry.currency,
        fraction_digits=entry.fraction_digits,
        lines=kept,
    )


def _scaled(values: Sequence[int], share: Fraction) -> list[int]:
    if share == 1:
        return list(values)
    return _split(round(sum(values) * share), values)


def _split(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` over signed ``weights`` in proportion, parts summing to ``total`` exactly."""
    if not weights:
        return []
    weight_sum = sum(weights)
    if weight_sum == 0:
        return [0] * len(weights)
    shares = [Fraction(total * w, weight_sum) for w in weights]
    parts = [s.numerator // s.denominator for s in shares]  # floors: they sum to at most total
    leftover = total - sum(parts)
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - parts[i]), i))
    for index in order[:leftover]:
        parts[index] += 1
    return parts


def _revenue(source: PostingSource, accounts: PostingAccounts) -> list[PostingEntry]:
    if source.sale_on is None:
        return []
    sale = _entry(source, "sale", source.sale_on, _sale_lines(source, accounts))
    if not sale.lines:
        return []
    entries = [sale]
    left = sale.gross
    for movement in source.movements:
        if movement.amount.minor_units >= 0 or left <= 0:
            continue
        refund = min(-movement.amount.minor_units, left)
        entries.append(
            reverse_entry(
                sale,
                name=f"refund:{movement.transaction_id}",
                on=max(movement.on, sale.on),
                share=Fraction(refund, sale.gross),
            )
        )
        left -= refund
    if source.cancelled_on is not None and left > 0:
        entries.append(
            reverse_entry(
                sale,
                name="cancel",
                on=max(source.cancelled_on, sale.on),
                share=Fraction(left, sale.gross),
            )
        )
    return entries


def build_entries(
    source: PostingSource, *, mode: PostingMode, accounts: PostingAccounts
) -> tuple[list[PostingEntry], list[MissingAccount]]:
    """Every entry the order makes in ``mode`` as it stands, and the amounts that have no account.

    An entry with a missing account is left out (its :class:`MissingAccount` says why); the rest
    are returned in a stable order. Zero entries (a zero-value order) make nothing.
    """
    built = (
        _settlement(source, accounts)
        if mode is PostingMode.SETTLEMENT
        else _revenue(source, accounts)
    )
    entries: list[PostingEntry] = []
    missing: list[MissingAccount] = []
    for entry in built:
        if not entry.lines:
            continue
        gaps = [line for line in entry.lines if not line.account]
        missing += [
            MissingAccount(
                order_id=entry.order_id,
                order_number=entry.order_number,
                entry=entry.entry,
                role=line.role,
                key=line.key,
                amount=line.amount,
            )
            for line in gaps
        ]
        if not gaps:
            entries.append(entry)
    return entries, missing
