"""Closing a period posts the money taken, once, in a batch that balances to the cent; closing it
again posts nothing; refunds are reversals in the period they happen; an amount without an
account, a file left by a crash and a Prima outage each end up where finance sees them."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ct_prima_sync.engine import PostingBasis, PostingsConfig, PostingSink, SyncEngine
from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.mapping import DispatchConfig, PostingAccounts, PostingMode
from ct_prima_sync.state import BatchStatus, ExceptionFilter, Owner, StateStore
from ct_prima_sync.testing import FakePrima, PrimaFault, PrimaFaultKind
from ct_prima_sync.testing.factories import make_payment
from ct_prima_sync.testing.scenario import SyncScenario

EngineFactory = Callable[..., SyncEngine]

ACCOUNTS = PostingAccounts(
    debtors_control="1100",
    clearing={"stripe": "1210", "paypal": "1220"},
    revenue={"*": "4000"},
    shipping="4100",
    discounts="4200",
    tax_output={"*": "2200"},
)


def _config(tmp_path: Path, **changes: Any) -> PostingsConfig:
    values: dict[str, Any] = {
        "accounts": ACCOUNTS,
        "directory": str(tmp_path / "postings"),
        "timezone": "Europe/Berlin",
    }
    values.update(changes)
    return PostingsConfig(**values)


def _pay(scenario: SyncScenario, *, provider_of: Callable[[int], str] = lambda _n: "stripe") -> int:
    """A successful charge of its gross on every good order; returns the total charged."""
    fake = scenario.commercetools
    total = 0
    for seed, order in enumerate(o for o in fake.orders() if o["orderNumber"] in scenario.good):
        gross = order["taxedPrice"]["totalGross"]["centAmount"]
        payment = make_payment(
            gross,
            interface=provider_of(seed),
            transactions=[("Authorization", gross, "Success"), ("Charge", gross, "Success")],
            seed=seed,
        )
        fake.add_payment(payment, order_id=order["id"])
        total += gross
    return total


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _engine(
    make_engine: EngineFactory, store: StateStore, config: PostingsConfig, **kw: Any
) -> SyncEngine:
    engine = make_engine(store, **kw)
    engine._postings = config
    return engine


def test_closing_a_day_posts_the_money_taken_once_per_provider_to_the_cent(
    store: StateStore, make_engine: EngineFactory, scenario: SyncScenario, tmp_path: Path
) -> None:
    charged = _pay(scenario, provider_of=lambda n: "paypal" if n % 3 == 0 else "stripe")
    engine = _engine(make_engine, store, _config(tmp_path))
    engine.sync_orders()

    summary = engine.post_batches(period="2026-11-20")

    assert summary.ok
    [outcome] = summary.batches
    assert outcome.batch_id == "settlement-2026-11-20-EUR-001"
    assert outcome.gross.minor_units == charged
    rows = _rows(tmp_path / "postings" / "journal-settlement-2026-11-20-EUR-001.csv")
    debits = {r["account"]: r["debit"] for r in rows if r["debit"]}
    credits = {r["account"]: r["credit"] for r in rows if r["credit"]}
    assert set(debits) == {"1210", "1220"}
    cents = sum(int(v.replace(".", "")) for v in debits.values())
    assert cents == charged
    assert credits == {"1100": f"{charged // 100}.{charged % 100:02d}"}
    batch = store.get_batch(outcome.batch_id)
    assert batch is not None
    assert batch.status is BatchStatus.POSTED
    assert len(store.batch_members(outcome.batch_id)) == len(scenario.good)

    again = engine.post_batches(period="2026-11-20")

    assert again.batches == ()
    assert again.entries_batched == 0
    assert len(list((tmp_path / "postings").iterdir())) == 1


def test_a_refund_is_a_reversal_in_the_period_it_happens_and_a_late_payment_goes_in_a_new_batch(
    store: StateStore, make_engine: EngineFactory, scenario: SyncScenario, tmp_path: Path
) -> None:
    _pay(scenario)
    engine = _engine(make_engine, store, _config(tmp_path))
    engine.sync_orders()
    engine.post_batches(period="2026-11-20")
    order = next(o for o in scenario.commercetools.orders() if o["orderNumber"] == scenario.good[0])
    refund = make_payment(500, transactions=[("Refund", 500, "Success")], seed=99)
    refund["transactions"][0]["timestamp"] = "2026-11-23T09:00:00.000Z"
    scenario.commercetools.add_payment(refund, order_id=order["id"])

    quiet = engine.post_batches(period="2026-11-22")
    refunded = engine.post_batches(period="2026-11-23")

    assert quiet.batches == ()
    [outcome] = refunded.batches
    assert outcome.batch_id == "settlement-2026-11-23-EUR-001"
    assert outcome.gross.minor_units == -500
    [member] = store.batch_members(outcome.batch_id)
    assert member.order_id == order["id"]
    assert member.entry.startswith("refund:")
    first = store.batch_members("settlement-2026-11-20-EUR-001")
    assert order["id"] in {m.order_id for m in first}, "the posted batch keeps its members"


def test_an_amount_without_an_account_is_a_finance_exception_and_posts_once_configured(
    store: StateStore, make_engine: EngineFactory, scenario: SyncScenario, tmp_path: Path
) -> None:
    _pay(scenario, provider_of=lambda n: "klarna" if n == 0 else "stripe")
    engine = _engine(make_engine, store, _config(tmp_path))
    engine.sync_orders()

    summary = engine.post_batches(period="2026-11-20")

    assert summary.problems == {"POSTING_ACCOUNT_MISSING": 1}
    [problem] = store.list_exceptions(ExceptionFilter(kind="POSTING_ACCOUNT_MISSING"))
    assert problem.owner is Owner.FINANCE
    assert problem.detail["flow"] == "postings"
    assert "clearing 'klarna'" in problem.detail["message"]
    [posted] = summary.batches
    assert len(store.batch_members(posted.batch_id)) == len(scenario.good) - 1

    accounts = PostingAccounts(
        debtors_control="1100", clearing={"stripe": "1210", "klarna": "1230"}
    )
    engine._postings = _config(tmp_path, accounts=accounts)
    late = engine.post_batches(period="2026-11-20")

    [outcome] = late.batches
    assert outcome.batch_id == "settlement-2026-11-20-EUR-002"
    assert outcome.entries == 1
    assert store.list_exceptions(ExceptionFilter(kind="POSTING_ACCOUNT_MISSING")) == []


def test_a_file_left_by_a_crash_is_never_rewritten_and_names_itself_to_finance(
    store: StateStore, make_engine: EngineFactory, scenario: SyncScenario, tmp_path: Path
) -> None:
    _pay(scenario)
    engine = _engine(make_engine, store, _config(tmp_path))
    engine.sync_orders()
    target = tmp_path / "postings" / "journal-settlement-2026-11-20-EUR-001.csv"
    target.parent.mkdir(parents=True)
    target.write_text("imported by Prima already\n", encoding="utf-8")

    summary = engine.post_batches(period="2026-11-20")

    [outcome] = summary.batches
    assert outcome.status == "blocked"
    assert target.read_text(encoding="utf-8") == "imported by Prima already\n"
    [problem] = store.list_exceptions(ExceptionFilter(kind="POSTING_FILE_EXISTS"))
    assert problem.owner is Owner.FINANCE
    assert str(target) in problem.detail["message"]
    assert problem.detail["flow"] == "postings"

    engine.confirm_batch_posted(outcome.batch_id)

    batch = store.get_batch(outcome.batch_id)
    assert batch is not None
    assert batch.status is BatchStatus.POSTED
    assert store.list_exceptions(ExceptionFilter(kind="POSTING_FILE_EXISTS")) == []
    assert engine.post_batches(period="2026-11-20").batches == ()


def test_a_prima_outage_leaves_the_batch_closed_and_the_next_close_sends_the_same_one(
    store: StateStore, make_engine: EngineFactory, scenario: SyncScenario, tmp_path: Path
) -> None:

    _pay(scenario)
    prima = FakePrima(scenario.world, sleep=lambda _s: None)
    engine = _engine(make_engine, store, _config(tmp_path, sink=PostingSink.JOURNAL), prima=prima)
    engine.sync_orders()
    prima.faults.script(None, PrimaFault(kind=PrimaFaultKind.SERVER_ERROR))

    down = engine.post_batches(period="2026-11-20")

    assert down.stopped == "PRIMA_UNAVAILABLE"
    batch = store.get_batch("settlement-2026-11-20-EUR-001")
    assert batch is not None
    assert batch.status is BatchStatus.CLOSED
    assert scenario.world.journals() == []

    back = engine.post_batches(period="2026-11-20")

    assert [b.batch_id for b in back.batches] == ["settlement-2026-11-20-EUR-001"]
    assert back.ok
    [journal] = scenario.world.journals()
    assert journal.batch_id == "settlement-2026-11-20-EUR-001"
    assert sum(line.amount.minor_units for line in journal.lines) == 0


def test_the_revenue_mode_posts_revenue_tax_and_shipping_that_sum_to_the_gross(
    store: StateStore, make_engine: EngineFactory, scenario: SyncScenario, tmp_path: Path
) -> None:
    charged = _pay(scenario)
    config = _config(tmp_path, mode=PostingMode.REVENUE, basis=PostingBasis.CREATED)
    engine = _engine(make_engine, store, config)
    engine.sync_orders()

    summary = engine.post_batches(period="2026-11")

    assert summary.ok, summary
    [outcome] = summary.batches
    assert outcome.batch_id == "revenue-2026-11-EUR-001"
    assert outcome.gross.minor_units == charged
    rows = _rows(tmp_path / "postings" / "journal-revenue-2026-11-EUR-001.csv")
    accounts = {r["account"] for r in rows}
    assert {"1210", "4000", "4100", "2200"} <= accounts
    debit = sum(int(r["debit"].replace(".", "")) for r in rows if r["debit"])
    credit = sum(int(r["credit"].replace(".", "")) for r in rows if r["credit"])
    assert debit == credit


@pytest.mark.parametrize("text", ["2026-11-31", "last month"])
def test_a_wrong_period_is_refused_before_anything_is_read(
    store: StateStore, make_engine: EngineFactory, tmp_path: Path, text: str
) -> None:

    engine = _engine(make_engine, store, _config(tmp_path))
    with pytest.raises(ConfigurationError, match="period"):
        engine.post_batches(period=text)


def test_the_revenue_mode_recognises_a_sale_on_the_day_prima_despatched_it(
    store: StateStore, make_engine: EngineFactory, scenario: SyncScenario, tmp_path: Path
) -> None:
    _pay(scenario)
    engine = _engine(
        make_engine,
        store,
        _config(tmp_path, mode=PostingMode.REVENUE),
        dispatch=DispatchConfig(despatch_details=True),
    )
    engine.sync_orders()
    shipped = scenario.world.orders()[0]
    scenario.world.despatch(shipped.order_number, on=date(2026, 11, 21))
    engine.sync_dispatch()

    before = engine.post_batches(period="2026-11-20")
    on_the_day = engine.post_batches(period="2026-11-21")

    assert before.batches == ()
    [outcome] = on_the_day.batches
    [member] = store.batch_members(outcome.batch_id)
    assert (member.order_id, member.entry) == (shipped.order.external_id, "sale")
    assert member.totals.gross == shipped.order.totals.gross.minor_units
    assert member.totals.net + member.totals.tax == member.totals.gross
