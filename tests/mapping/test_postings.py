"""Finance postings: every batch balances and equals the sum of its members, to the minor unit,
in both modes; a reversal is minus what it reverses; closing a period again posts nothing."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ct_prima_sync.errors import ConfigurationError, PayloadError
from ct_prima_sync.mapping import (
    AccountRole,
    PaymentMovement,
    PostingAccounts,
    PostingEntry,
    PostingMode,
    PostingPeriod,
    PostingSource,
    RevenueItem,
    build_entries,
    build_journal,
    check_batch,
    plan_batches,
    reverse_entry,
)
from ct_prima_sync.money import Money

ACCOUNTS = PostingAccounts(
    debtors_control="1100",
    clearing={"stripe": "1210", "paypal": "1220", "": "1200"},
    revenue={"*": "4000", "Z": "4010"},
    shipping="4100",
    discounts="4200",
    promotions={"BLACKFRIDAY": "4210"},
    tax_output={"*": "2200", "Z": "2210"},
)
NOV = PostingPeriod.month(2026, 11)
DAY0 = date(2026, 11, 1)


def _money(units: int, currency: str) -> Money:
    return Money.of(units, currency, 0 if currency == "JPY" else 2)


@st.composite
def sources(draw: st.DrawFn, order_id: str = "o", currency: str | None = None) -> PostingSource:
    currency = currency or draw(st.sampled_from(["EUR", "GBP", "JPY"]))
    goods = draw(
        st.lists(st.tuples(st.sampled_from(["S", "Z"]), st.integers(0, 10**6)), max_size=4)
    )
    shipping = draw(st.integers(0, 2000))
    discount = draw(st.integers(0, 5000))
    discount = min(discount, sum(n for _, n in goods))
    tax = [(code, draw(st.integers(0, 10**5))) for code in sorted({c for c, _ in goods})]
    revenue = [
        RevenueItem(role=AccountRole.REVENUE, key=c, net=_money(n, currency)) for c, n in goods
    ]
    revenue.append(
        RevenueItem(role=AccountRole.SHIPPING, key="STD", net=_money(shipping, currency))
    )
    promo = draw(st.sampled_from(["", "BLACKFRIDAY"]))
    revenue.append(
        RevenueItem(role=AccountRole.DISCOUNT, key=promo, net=_money(discount, currency))
    )
    revenue += [RevenueItem(role=AccountRole.TAX, key=c, net=_money(n, currency)) for c, n in tax]
    gross = sum(n for _, n in goods) + shipping - discount + sum(n for _, n in tax)
    providers = draw(st.lists(st.sampled_from(["stripe", "paypal"]), max_size=2))
    movements = []
    parts = [gross // max(len(providers), 1)] * len(providers)
    if parts:
        parts[0] += gross - sum(parts)
    for index, (provider, part) in enumerate(zip(providers, parts, strict=True)):
        movements.append(
            PaymentMovement(
                transaction_id=f"{order_id}-c{index}",
                provider=provider,
                amount=_money(part, currency),
                on=DAY0 + timedelta(days=draw(st.integers(0, 40))),
            )
        )
    for index in range(draw(st.integers(0, 2))):
        if not providers:
            break
        movements.append(
            PaymentMovement(
                transaction_id=f"{order_id}-r{index}",
                provider=providers[0],
                amount=_money(-draw(st.integers(0, max(gross // 2, 0))), currency),
                on=DAY0 + timedelta(days=draw(st.integers(0, 40))),
            )
        )
    cancelled = draw(st.booleans())
    return PostingSource(
        order_id=order_id,
        order_number=order_id.upper(),
        currency=currency,
        fraction_digits=0 if currency == "JPY" else 2,
        gross=_money(gross, currency),
        movements=tuple(movements),
        revenue=tuple(revenue),
        sale_on=DAY0 + timedelta(days=draw(st.integers(0, 40)))
        if draw(st.booleans()) or True
        else None,
        cancelled_on=DAY0 + timedelta(days=draw(st.integers(0, 40))) if cancelled else None,
    )


@st.composite
def order_sets(draw: st.DrawFn) -> list[PostingSource]:
    count = draw(st.integers(0, 8))
    return [draw(sources(order_id=f"o{i}")) for i in range(count)]


def _entries(orders: list[PostingSource], mode: PostingMode) -> list[PostingEntry]:
    entries = []
    for source in orders:
        built, missing = build_entries(source, mode=mode, accounts=ACCOUNTS)
        assert missing == []
        entries += built
    return entries


MODES = st.sampled_from(list(PostingMode))


@settings(max_examples=150, deadline=None)
@given(orders=order_sets(), mode=MODES)
def test_every_batch_balances_and_equals_the_sum_of_its_members(
    orders: list[PostingSource], mode: PostingMode
) -> None:
    entries = _entries(orders, mode)
    for entry in entries:
        assert entry.balanced, entry
    for planned in plan_batches(entries, mode=mode, period=NOV, batched=(), sequences={}):
        journal = build_journal(
            planned.batch_id, planned.entries, posting_date=NOV.last_day, currency=planned.currency
        )
        check_batch(journal, members_gross=planned.gross)
        assert sum(line.amount.minor_units for line in journal.lines) == 0
        members = [e for e in entries if e.currency == planned.currency and e.on < NOV.end]
        assert planned.gross == sum(e.gross for e in members)


@settings(max_examples=150, deadline=None)
@given(orders=order_sets(), mode=MODES)
def test_closing_a_period_again_posts_nothing(
    orders: list[PostingSource], mode: PostingMode
) -> None:
    entries = _entries(orders, mode)
    first = plan_batches(entries, mode=mode, period=NOV, batched=(), sequences={})
    batched = [(e.order_id, e.entry) for b in first for e in b.entries]
    sequences = {b.currency: b.sequence for b in first}
    assert plan_batches(entries, mode=mode, period=NOV, batched=batched, sequences=sequences) == []


@settings(max_examples=150, deadline=None)
@given(source=sources(), mode=MODES, share=st.fractions(0, 1))
@example(source=None, mode=PostingMode.REVENUE, share=Fraction(1, 3))
def test_the_reversal_of_a_posting_sums_to_minus_it(
    source: PostingSource | None, mode: PostingMode, share: Fraction
) -> None:
    if source is None:
        return
    for entry in _entries([source], mode):
        full = reverse_entry(entry, name="cancel", on=entry.on)
        assert full.balanced
        assert sorted((ln.account, -ln.amount.minor_units) for ln in full.lines) == sorted(
            (ln.account, ln.amount.minor_units) for ln in entry.lines
        )
        part = reverse_entry(entry, name="refund:x", on=entry.on, share=share)
        assert part.balanced
        assert abs(part.gross + entry.gross * share) <= Fraction(1, 2)


def test_a_late_entry_goes_into_the_next_batch_never_a_posted_one() -> None:
    source = PostingSource(
        order_id="late",
        order_number="LATE",
        currency="EUR",
        fraction_digits=2,
        gross=_money(1000, "EUR"),
        movements=(
            PaymentMovement(
                transaction_id="t",
                provider="stripe",
                amount=_money(1000, "EUR"),
                on=date(2026, 11, 30),
            ),
        ),
    )
    entries, _ = build_entries(source, mode=PostingMode.SETTLEMENT, accounts=ACCOUNTS)
    dec1 = PostingPeriod.day(date(2026, 12, 1))
    (planned,) = plan_batches(
        entries, mode=PostingMode.SETTLEMENT, period=dec1, batched=(), sequences={"EUR": 2}
    )
    assert planned.batch_id == "settlement-2026-12-01-EUR-003"
    assert planned.entries == tuple(entries)


def test_an_amount_without_an_account_is_reported_and_held_back() -> None:
    source = PostingSource(
        order_id="o1",
        order_number="O1",
        currency="EUR",
        fraction_digits=2,
        gross=_money(1000, "EUR"),
        movements=(
            PaymentMovement(
                transaction_id="t", provider="klarna", amount=_money(1000, "EUR"), on=DAY0
            ),
        ),
    )
    entries, missing = build_entries(source, mode=PostingMode.SETTLEMENT, accounts=ACCOUNTS)
    assert entries == []
    assert [(m.role, m.key, m.amount.minor_units) for m in missing] == [
        (AccountRole.CLEARING, "klarna", 1000)
    ]


def test_settlement_posts_one_clearing_line_per_provider_against_debtors_control() -> None:
    def order(n: int, provider: str, units: int) -> PostingSource:
        return PostingSource(
            order_id=f"o{n}",
            order_number=f"O{n}",
            currency="EUR",
            fraction_digits=2,
            gross=_money(units, "EUR"),
            movements=(
                PaymentMovement(
                    transaction_id=f"t{n}", provider=provider, amount=_money(units, "EUR"), on=DAY0
                ),
            ),
        )

    entries = _entries(
        [order(1, "stripe", 1999), order(2, "stripe", 1), order(3, "paypal", 500)],
        PostingMode.SETTLEMENT,
    )
    (planned,) = plan_batches(
        entries, mode=PostingMode.SETTLEMENT, period=NOV, batched=(), sequences={}
    )
    journal = build_journal(
        planned.batch_id, planned.entries, posting_date=NOV.last_day, currency="EUR"
    )
    assert [(line.account, str(line.amount)) for line in journal.lines] == [
        ("1210", "EUR 20.00"),
        ("1220", "EUR 5.00"),
        ("1100", "EUR -25.00"),
    ]


def test_a_journal_that_differs_from_its_members_is_refused() -> None:
    entries = _entries(
        [
            PostingSource(
                order_id="o1",
                order_number="O1",
                currency="EUR",
                fraction_digits=2,
                gross=_money(10, "EUR"),
                movements=(
                    PaymentMovement(
                        transaction_id="t", provider="stripe", amount=_money(10, "EUR"), on=DAY0
                    ),
                ),
            )
        ],
        PostingMode.SETTLEMENT,
    )
    journal = build_journal("B", entries, posting_date=DAY0, currency="EUR")
    with pytest.raises(PayloadError, match="members total 11"):
        check_batch(journal, members_gross=11)


@pytest.mark.parametrize(
    ("text", "label", "days"),
    [
        ("2026-11", "2026-11", 30),
        ("2026-11-03", "2026-11-03", 1),
        ("2026-11-01..2026-11-15", "2026-11-01..2026-11-15", 15),
        ("2026-12", "2026-12", 31),
    ],
)
def test_periods_are_months_days_or_ranges(text: str, label: str, days: int) -> None:
    period = PostingPeriod.parse(text)
    assert period.label == label
    assert (period.end - period.start).days == days


@pytest.mark.parametrize("text", ["2026-13", "November", "2026-11-31", "2026-11-05..2026-11-01"])
def test_a_wrong_period_says_what_is_expected(text: str) -> None:
    with pytest.raises(ConfigurationError, match="period"):
        PostingPeriod.parse(text)
