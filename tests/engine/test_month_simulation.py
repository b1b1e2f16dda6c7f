"""A month of trading simulated with the fakes, closed every day and reconciled at month end.

Two currencies, cancellations with refunds, partial refunds, a Prima outage, an order placed on
the last evening and paid after midnight, a promotion and a zero-value order: the month balances
to the cent. Then four gaps are planted (an orphan the engine never saw, an amount edited after
posting, an order only Prima has, a refund without a reversal) and reconciliation reports each by
its type, and nothing else.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ct_prima_sync.engine import (
    EngineConfig,
    FakeClock,
    PostingsConfig,
    SyncEngine,
    read_prima_export,
)
from ct_prima_sync.mapping import GapType, MappingConfig, PostingAccounts, PostingPeriod
from ct_prima_sync.state import open_store
from ct_prima_sync.testing import FakePrima, PrimaFault, PrimaFaultKind
from ct_prima_sync.testing.factories import LineSpec, ShippingSpec, make_order, make_payment
from ct_prima_sync.testing.scenario import (
    SCENARIO_MAPPING_TOML,
    build_scenario,
    connect_commercetools,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOVEMBER = PostingPeriod.month(2026, 11)
ACCOUNTS = PostingAccounts(debtors_control="1100", clearing={"stripe": "1210", "paypal": "1220"})
MAPPING = MappingConfig.from_toml(
    SCENARIO_MAPPING_TOML.replace('currencies = ["EUR"]', 'currencies = ["EUR", "GBP"]')
    + '\n[[taxes.codes]]\nrate = "0.20"\ncode = "S20"\n'
)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Month:
    """The shop, Prima and the engine, with the expected money per currency kept alongside."""

    def __init__(self, tmp_path: Path, orders_per_day: int) -> None:
        self.rng = random.Random(2026)
        self.clock = FakeClock(datetime(2026, 10, 31, 23, 0, tzinfo=UTC))
        self.scenario = build_scenario(orders=0, seed=13, clock=self.clock.now)
        self.fake = self.scenario.commercetools
        self.prima = FakePrima(self.scenario.world, sleep=lambda _s: None)
        self.skus = ["-".join((s.product, *s.matrix)) for s in self.scenario.world.skus()]
        self.store = open_store("memory://")
        self.ct = connect_commercetools(self.fake, sleep=lambda _s: None)
        self.directory = tmp_path / "postings"
        self.engine = SyncEngine(
            commercetools=self.ct,
            prima=self.prima,
            store=self.store,
            mapping=MAPPING,
            config=EngineConfig(
                worker_id="month", initial_cursor=datetime(2026, 10, 30, tzinfo=UTC)
            ),
            clock=self.clock,
            postings=PostingsConfig(
                timezone="Europe/Berlin", directory=str(self.directory), accounts=ACCOUNTS
            ),
        )
        self.per_day = orders_per_day
        self.count = 0
        self.orders: list[dict[str, Any]] = []
        #: currency -> minor units of money moved in November (charges less refunds)
        self.moved: dict[str, int] = {}
        self.seed = 0

    def _seed(self) -> int:
        self.seed += 1
        return self.seed

    def place(
        self,
        at: datetime,
        *,
        currency: str = "EUR",
        unit_price: int | None = None,
        discount: int = 0,
        paid_at: datetime | None = None,
        provider: str = "stripe",
    ) -> dict[str, Any]:
        """An order placed at ``at`` and paid (charged in full) at ``paid_at`` (default: a
        minute later)."""
        self.count += 1
        price = unit_price if unit_price is not None else self.rng.randint(500, 9000)
        order = make_order(
            lines=[
                LineSpec(
                    sku=self.rng.choice(self.skus),
                    quantity=self.rng.randint(1, 3),
                    unit_price=price,
                    tax_rate="0.19" if currency == "EUR" else "0.20",
                )
            ],
            shipping=ShippingSpec(key="standard", name="Standard", price=0 if price == 0 else 495),
            currency=currency,
            total_discount=discount,
            order_number=f"M-{self.count:05d}",
            customer_email=f"buyer{self.count % 97}@example.com",
            seed=self._seed(),
        )
        order["createdAt"] = _stamp(at)
        order["lastModifiedAt"] = _stamp(at + timedelta(seconds=1))
        created = self.fake.add_order(order)
        gross = created["totalPrice"]["centAmount"]
        if gross:
            self.pay(created, gross, "Charge", paid_at or at + timedelta(minutes=1), provider)
        self.orders.append(created)
        return created

    def pay(
        self, order: dict[str, Any], units: int, kind: str, at: datetime, provider: str = "stripe"
    ) -> None:
        """A successful ``kind`` transaction of ``units`` at ``at`` on the order."""
        currency = order["totalPrice"]["currencyCode"]
        payment = make_payment(
            units,
            currency=currency,
            interface=provider,
            transactions=[(kind, units, "Success")],
            seed=self._seed(),
        )
        payment["transactions"][0]["timestamp"] = _stamp(at)
        self.fake.add_payment(payment, order_id=order["id"])
        if at.astimezone(BERLIN).date() in NOVEMBER:
            sign = 1 if kind == "Charge" else -1
            self.moved[currency] = self.moved.get(currency, 0) + sign * units

    def trade(self, day: date) -> None:
        """A day's orders, between 08:00 and 21:00 in Berlin."""
        for n in range(self.per_day):
            at = datetime(day.year, day.month, day.day, 8, tzinfo=BERLIN) + timedelta(
                minutes=self.rng.randint(0, 13 * 60)
            )
            self.place(
                at,
                currency="GBP" if n % 4 == 3 else "EUR",
                provider="paypal" if n % 3 == 0 else "stripe",
            )

    def close(self, day: date) -> None:
        """After the day: the order run, then the day's postings."""
        self.clock.advance(
            (
                datetime(day.year, day.month, day.day, 23, 30, tzinfo=BERLIN) - self.clock.now()
            ).total_seconds()
        )
        self.engine.sync_orders()
        self.clock.advance(3600)
        summary = self.engine.post_batches(period=day.isoformat())
        assert summary.stopped is None, summary
        assert all(b.status == "posted" for b in summary.batches), summary

    def cancel_with_refund(self, order: dict[str, Any], at: datetime) -> None:
        """Cancelled in commercetools, its money refunded."""
        self.fake.update_order(
            order["id"], [{"action": "changeOrderState", "orderState": "Cancelled"}]
        )
        self.pay(order, order["totalPrice"]["centAmount"], "Refund", at)


@pytest.fixture
def month(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Month]:
    simulated = Month(tmp_path, orders_per_day=request.param)
    yield simulated
    simulated.ct.close()
    simulated.store.close()


def _simulate(month: Month) -> dict[str, Any]:
    planted: dict[str, Any] = {}
    for day_number in range(1, 31):
        day = date(2026, 11, day_number)
        month.trade(day)
        if day_number == 3:
            noon = datetime(2026, 11, 3, 12, tzinfo=BERLIN)
            planted["promotion"] = month.place(noon, discount=300)
            planted["zero"] = month.place(noon, unit_price=0)
        if day_number == 10:  # Prima is down all day: orders wait and go tomorrow
            month.prima.faults.script(None, *[PrimaFault(kind=PrimaFaultKind.SERVER_ERROR)] * 500)
        if day_number == 11:
            month.prima.faults.clear()
        if day_number in (12, 20):  # cancellations of earlier orders, refunded in full
            for order in month.orders[day_number : day_number + 3]:
                month.cancel_with_refund(order, datetime(2026, 11, day_number, 15, tzinfo=BERLIN))
        if day_number in (14, 25):  # partial refunds
            for order in month.orders[day_number * 2 : day_number * 2 + 2]:
                part = order["totalPrice"]["centAmount"] // 3
                month.pay(order, part, "Refund", datetime(2026, 11, day_number, 16, tzinfo=BERLIN))
        if day_number == 30:  # placed at 23:50, paid after midnight: December's money
            planted["late"] = month.place(
                datetime(2026, 11, 30, 23, 50, tzinfo=BERLIN),
                paid_at=datetime(2026, 12, 1, 0, 20, tzinfo=BERLIN),
            )
        if day_number == 10:
            month.clock.advance(
                (datetime(2026, 11, 10, 23, 30, tzinfo=BERLIN) - month.clock.now()).total_seconds()
            )
            month.engine.sync_orders()  # Prima does not answer
            month.prima.faults.clear()
            month.clock.advance(3600)
            assert month.engine.post_batches(period=day.isoformat()).stopped is None
            continue
        month.close(day)
    month.close(date(2026, 12, 1))
    return planted


def _batches_total(month: Month, currency: str) -> int:
    total = 0
    for batch in month.store.list_batches(kind="settlement"):
        period = PostingPeriod.parse(batch.period)
        if batch.currency == currency and period.start in NOVEMBER:
            total += sum(m.totals.gross for m in month.store.batch_members(batch.batch_id))
    return total


def _check_month(month: Month) -> None:
    planted = _simulate(month)
    late = planted["late"]

    report = month.engine.reconcile("2026-11")

    assert report.errors == ()
    assert report.result is not None
    assert report.result.gaps == (), report.result.gaps
    assert report.balanced
    totals = {t.currency: t for t in report.result.totals}
    assert set(totals) == {"EUR", "GBP"}
    for currency, moved in month.moved.items():
        assert totals[currency].posted.minor_units == moved, currency
        assert totals[currency].expected.minor_units == moved, currency
        assert _batches_total(month, currency) == moved, currency
    december = month.store.list_batches(kind="settlement", period="2026-12-01")
    assert [b.batch_id for b in december] == ["settlement-2026-12-01-EUR-001"]
    assert [m.order_id for m in month.store.batch_members(december[0].batch_id)] == [late["id"]]
    assert report.result.not_run, "no Prima listing: the unknown-to-commercetools check says so"

    # -- plant the gaps -------------------------------------------------------------------------
    orphan = month.place(datetime(2026, 11, 15, 10, tzinfo=BERLIN))  # the cursor is long past it
    edited = month.orders[40]
    month.fake.edit_order(edited["id"], _add_to_gross(500))
    refunded = month.orders[70]
    month.fake.edit_order(refunded["id"], _refunded_return)
    export = month.directory.parent / "prima-export.csv"
    lines = ["order_number,order_date,currency,gross"]
    for sales_order in month.scenario.world.orders():
        placed = sales_order.order
        lines.append(
            f"{placed.order_number},{placed.order_date.date().isoformat()},{placed.currency},"
            f"{placed.totals.gross.to_decimal()}"
        )
    lines.append("PRIMA-ONLY-1,2026-11-18,EUR,42.00")
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")

    found = month.engine.reconcile(
        "2026-11", prima_orders=read_prima_export(export, NOVEMBER), repair=True
    )

    assert found.result is not None
    by_type = {(g.type, g.order_number) for g in found.result.gaps}
    assert by_type == {
        (GapType.ORPHAN, orphan["orderNumber"]),
        (GapType.EDITED_AFTER_POSTING, edited["orderNumber"]),
        (GapType.UNKNOWN_TO_COMMERCETOOLS, "PRIMA-ONLY-1"),
        (GapType.MISSING_REVERSAL, refunded["orderNumber"]),
    }
    edit = next(g for g in found.result.gaps if g.type is GapType.EDITED_AFTER_POSTING)
    assert edit.difference is not None
    assert edit.difference.minor_units == 500
    assert found.repaired == (orphan["orderNumber"],)
    assert month.store.get_order(orphan["id"]) is not None


def _refunded_return(draft: dict[str, Any]) -> None:
    """A return refunded outside commercetools' payments: no refund transaction."""
    line = draft["lineItems"][0]
    draft["returnInfo"] = [
        {
            "items": [
                {
                    "id": "return-1",
                    "quantity": 1,
                    "type": "LineItemReturnItem",
                    "lineItemId": line["id"],
                    "shipmentState": "Returned",
                    "paymentState": "Refunded",
                    "createdAt": "2026-11-28T10:00:00.000Z",
                    "lastModifiedAt": "2026-11-28T10:00:00.000Z",
                }
            ]
        }
    ]


def _add_to_gross(units: int) -> Any:
    def edit(draft: dict[str, Any]) -> None:
        draft["totalPrice"]["centAmount"] += units
        draft["taxedPrice"]["totalGross"]["centAmount"] += units

    return edit


@pytest.mark.parametrize("month", [6], indirect=True)
def test_a_month_closed_daily_balances_to_the_cent_and_every_planted_gap_is_named(
    month: Month,
) -> None:
    _check_month(month)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("month", [100], indirect=True)
def test_a_month_of_three_thousand_orders_balances_to_the_cent(month: Month) -> None:
    _check_month(month)


def test_a_refund_read_before_its_day_is_closed_is_posted_when_that_day_is(
    tmp_path: Path,
) -> None:
    month = Month(tmp_path, orders_per_day=2)
    try:
        month.trade(date(2026, 11, 2))
        month.close(date(2026, 11, 2))
        refund_at = datetime(2026, 11, 3, 10, tzinfo=BERLIN)
        month.clock.advance((refund_at - month.clock.now()).total_seconds())
        month.pay(month.orders[0], 100, "Refund", refund_at)
        month.clock.advance(3600)

        catch_up = month.engine.post_batches(period="2026-11-02")  # reads it: not its day
        month.close(date(2026, 11, 3))

        assert catch_up.batches == ()
        [batch] = month.store.list_batches(kind="settlement", period="2026-11-03")
        [member] = month.store.batch_members(batch.batch_id)
        assert (member.order_id, member.totals.gross) == (month.orders[0]["id"], -100)
    finally:
        month.ct.close()
        month.store.close()
