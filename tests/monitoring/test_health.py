"""``health`` cannot lie: every flow is judged from the store's run records, a flow that has not
run within its staleness fails with the reason, and every figure of ``health --format json``
matches a scenario whose answers are known."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ct_prima_sync.engine import (
    FakeClock,
    FlowExpectation,
    HealthPolicy,
    HealthStatus,
    track_flow_run,
)
from ct_prima_sync.errors import PrimaUnavailableError
from ct_prima_sync.state import NewOrder, OrderTotals, StateStore
from ct_prima_sync.testing import FakePrima, PrimaFault, PrimaFaultKind
from ct_prima_sync.testing.scenario import SyncScenario

from ..cli.conftest import run_cli, run_in_process
from .conftest import KINDS, EngineFactory


def test_a_flow_that_has_not_run_within_its_staleness_is_failing_with_the_reason(
    sqlite_store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> None:
    engine = make_engine(sqlite_store)
    engine.sync_orders()
    assert engine.health().flow("orders").status is HealthStatus.OK

    clock.advance(2 * 3600)
    report = engine.health(HealthPolicy(orders=FlowExpectation(stale_after_seconds=3600)))
    assert not report.ok
    assert report.status is HealthStatus.FAILING
    assert report.flow("orders").reasons == ("no successful run for 2.0 h (stale after 60 min)",)
    assert "orders: no successful run for 2.0 h (stale after 60 min)" in report.reasons
    relaxed = engine.health(HealthPolicy(orders=FlowExpectation(stale_after_seconds=3 * 3600)))
    assert relaxed.flow("orders").status is HealthStatus.OK


def test_never_ran_fails_only_for_flows_the_settings_enable(
    sqlite_store: StateStore, make_engine: EngineFactory
) -> None:
    engine = make_engine(sqlite_store)
    assert engine.health().flow("orders").reasons == ("has never run",)
    engine.sync_orders()
    quiet = engine.health()
    assert quiet.flow("stock").status is HealthStatus.OFF
    assert quiet.ok
    expecting = engine.health(HealthPolicy(stock=FlowExpectation(enabled=True)))
    assert expecting.flow("stock").reasons == ("has never run",)
    assert not expecting.ok
    off = engine.health(HealthPolicy(orders=FlowExpectation(enabled=False)))
    assert off.flow("orders").status is HealthStatus.OFF


def test_a_flow_that_ran_once_is_judged_even_when_not_enabled(
    sqlite_store: StateStore, clock: FakeClock, make_engine: EngineFactory
) -> None:
    with track_flow_run(sqlite_store, "stock", clock=clock) as run:
        run.add({"pushed": 3})
    clock.advance(5 * 3600)
    stock = make_engine(sqlite_store).health().flow("stock")
    assert stock.status is HealthStatus.FAILING
    assert stock.reasons == ("no successful run for 5.0 h (stale after 60 min)",)
    assert stock.record is not None
    assert stock.record.totals == {"pushed": 3}


def test_a_run_stopped_by_an_outage_is_recorded_as_failed_and_warned_about(
    sqlite_store: StateStore, make_engine: EngineFactory, scenario: SyncScenario, clock: FakeClock
) -> None:
    make_engine(sqlite_store).sync_orders(max_orders=5)
    clock.advance(60)
    down = FakePrima(scenario.world, sleep=lambda _s: None)
    down.faults.script(None, *[PrimaFault(kind=PrimaFaultKind.CONNECTION_RESET)] * 1000)
    summary = make_engine(sqlite_store, prima=down).sync_orders()
    assert summary.stopped == "PRIMA_UNAVAILABLE"
    orders = make_engine(sqlite_store).health().flow("orders")
    assert orders.status is HealthStatus.WARNING
    assert orders.record is not None
    assert orders.record.consecutive_failures == 1
    assert orders.record.last_failure is not None
    assert orders.record.last_failure.startswith("PRIMA_UNAVAILABLE: the run stopped after 5")
    assert orders.reasons[0].startswith("last run failed 0 s ago: PRIMA_UNAVAILABLE")


def test_an_exception_raised_out_of_a_run_is_recorded_with_its_kind(
    sqlite_store: StateStore, clock: FakeClock
) -> None:
    with (
        pytest.raises(PrimaUnavailableError),
        track_flow_run(sqlite_store, "dispatch", clock=clock),
    ):
        raise PrimaUnavailableError("Prima did not answer", may_have_been_applied=False)
    (record,) = sqlite_store.list_flow_runs()
    assert record.last_failure == "PrimaUnavailableError: Prima did not answer"
    assert record.last_succeeded_at is None


def test_every_figure_of_health_json_matches_a_scenario_with_known_answers(
    tmp_path: Path, make_engine: EngineFactory
) -> None:
    """The run happened 30 minutes ago (by the wall clock the command reads); one order, ingested
    50 minutes ago, is stuck in progress with a lease that expired 40 minutes ago."""
    from ct_prima_sync.state import open_store

    url = f"sqlite:///{tmp_path / 'sync.db'}"
    real_now = datetime.now(UTC)
    past = FakeClock(real_now - timedelta(minutes=30))
    totals = OrderTotals(currency="EUR", fraction_digits=2, net=100, tax=19, gross=119)
    with open_store(url) as store:
        make_engine(store, engine_clock=past).sync_orders()
        report_at = past.now()
        late = real_now - timedelta(minutes=50)
        store.ingest(NewOrder(order_id="late-1", order_number="LATE-1", ct_version=1,
                              totals=totals), now=late)  # fmt: skip
        store.claim("dead-worker", lease_seconds=600, limit=1, now=late)
    result = run_cli("health", "--state", url, "--format", "json")
    assert result.returncode == 0, result.stderr
    health = json.loads(result.stdout)
    elapsed = (datetime.now(UTC) - report_at).total_seconds()

    def near(value: float, expected: float) -> None:
        assert expected - 1 <= value <= expected + elapsed + 1, (value, expected)

    assert health["ok"] is True
    assert health["status"] == "warning"
    assert health["reasons"] == [
        "orders: 1 order(s) in progress with an expired lease: the next run takes them over"
    ]
    assert health["orders_by_status"] == {
        "new": 0, "claimed": 1, "mapped": 0, "customer_resolved": 0, "submitting": 0,
        "submitted": 0, "done": 48, "failed": 0, "excepted": 12,
    }  # fmt: skip
    orders = health["flows"]["orders"]
    assert orders["status"] == "warning"
    assert orders["enabled"] is True
    assert orders["stale_after_seconds"] == 3600
    assert orders["runs"] == 1
    assert orders["failures"] == 0
    assert orders["last_counts"] == {
        "ingested": 60, "posted": 48, "already_in_prima": 0, "excepted": 12, "retrying": 0,
        "lost_lease": 0, "released": 0, "alerts_sent": 12, "alerts_failed": 0, "ignored": 0,
        "skipped_ineligible": 0, "future_dated": 0, "write_backs_done": 48,
        "write_backs_failed": 0,
    }  # fmt: skip
    assert orders["last_failure"] is None
    assert orders["last_duration_seconds"] == 0.0
    near(orders["last_success_age_seconds"], 30 * 60)
    assert orders["backlog"] == 1
    assert orders["stalled"] == 1
    assert (orders["write_back_pending"], orders["write_back_retrying"]) == (0, 0)
    assert orders["oldest_waiting"]["order_number"] == "LATE-1"
    assert orders["oldest_waiting"]["status"] == "claimed"
    near(orders["oldest_waiting"]["age_seconds"], 50 * 60)
    assert orders["oldest_not_in_prima"]["order_number"] == "LATE-1"
    near(orders["lag_seconds"], 30 * 60)
    assert orders["polled_up_to"] is not None
    for flow in ("stock", "dispatch", "postings", "shadow", "retention"):
        assert health["flows"][flow]["status"] == "off"
        assert health["flows"][flow]["runs"] == 0
    assert health["open_exceptions_by_owner"] == {"finance": 6, "operations": 4, "ecommerce": 2}
    assert health["open_exceptions_by_kind"] == KINDS
    for owner in ("finance", "operations", "ecommerce"):
        assert health["exceptions"][owner]["overdue"] == 0
        near(health["exceptions"][owner]["oldest_seconds"], 30 * 60)
    assert health["overdue_exceptions"] == 0
    assert health["escalate_after_seconds"] == 14400

    code, out, _ = run_in_process("health", "--state", url, "--escalate-after", "600")
    assert code == 1
    assert "health: FAILING" in out
    assert "exceptions: 12 open longer than 10 min (finance 6, operations 4, ecommerce 2)" in out


def test_a_dispatch_run_is_recorded_as_the_dispatch_flow(
    sqlite_store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> None:
    engine = make_engine(sqlite_store)
    engine.sync_orders()
    clock.advance(60)
    summary = engine.sync_dispatch()
    assert not summary.skipped
    dispatch = engine.health().flow("dispatch")
    assert dispatch.status is HealthStatus.OK
    assert dispatch.record is not None
    assert dispatch.record.last_counts["taken_on"] == summary.taken_on == 48
    assert "open" not in dispatch.record.last_counts  # a level, not a count
