"""The metric families, built from a health report of the state store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from ..engine import Clock, HealthPolicy, HealthReport, HealthStatus, SystemClock
from ..engine._health import health_report
from ..errors import ConfigurationError
from ..state import StateStore

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import CollectorRegistry

__all__ = ["METRIC_PREFIX", "StoreCollector", "metric_families", "registry_for"]

METRIC_PREFIX: Final = "ct_prima_sync"


def prometheus() -> Any:
    """The ``prometheus_client`` module, or a ConfigurationError saying how to install it."""
    try:
        import prometheus_client  # noqa: PLC0415 (an optional extra)
    except ImportError:
        raise ConfigurationError(
            "metrics need prometheus-client: pip install 'ct-prima-sync[metrics]'"
        ) from None
    return prometheus_client


def _name(name: str) -> str:
    return f"{METRIC_PREFIX}_{name}"


def metric_families(report: HealthReport) -> list[Metric]:
    """Every metric for ``report``: flows, the order ledger, the exception queue."""
    from prometheus_client.core import (  # noqa: PLC0415 (an optional extra)
        CounterMetricFamily,
        GaugeMetricFamily,
    )

    def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Any:
        return GaugeMetricFamily(_name(name), doc, labels=list(labels))

    def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Any:
        return CounterMetricFamily(_name(name), doc, labels=list(labels))

    healthy = gauge("healthy", "1 unless health is failing (a flow stale, an exception overdue)")
    healthy.add_metric([], 0 if report.status is HealthStatus.FAILING else 1)
    status = gauge("flow_status", "1 for the flow's current health status", ("flow", "status"))
    runs = counter("flow_runs", "finished runs per flow", ("flow",))
    failures = counter("flow_failures", "failed runs per flow", ("flow",))
    seconds = counter("flow_run_seconds", "time spent in finished runs", ("flow",))
    outcomes = counter("flow_outcomes", "what each flow's runs did, added up", ("flow", "outcome"))
    success = gauge("flow_last_success_timestamp_seconds", "end of the last success", ("flow",))
    success_age = gauge("flow_last_success_age_seconds", "age of the last success", ("flow",))
    duration = gauge("flow_last_run_duration_seconds", "how long the last run took", ("flow",))
    for flow in report.flows:
        for value in HealthStatus:
            status.add_metric([flow.flow, str(value)], 1 if flow.status is value else 0)
        record = flow.record
        if record is None:
            continue
        runs.add_metric([flow.flow], record.runs)
        failures.add_metric([flow.flow], record.failures)
        seconds.add_metric([flow.flow], record.total_seconds)
        for name, total in sorted(record.totals.items()):
            outcomes.add_metric([flow.flow, name], total)
        if record.last_succeeded_at is not None:
            success.add_metric([flow.flow], record.last_succeeded_at.timestamp())
            success_age.add_metric([flow.flow], flow.last_success_age_seconds or 0.0)
        if record.last_duration_seconds is not None:
            duration.add_metric([flow.flow], record.last_duration_seconds)
    orders = gauge("orders", "orders in the ledger by status", ("status",))
    for name, count in report.orders_by_status.items():
        orders.add_metric([name], count)
    figures = report.flow("orders").figures
    backlog = gauge("order_backlog", "orders waiting to reach Prima")
    backlog.add_metric([], figures["backlog"])
    stalled = gauge("orders_stalled", "orders in progress with an expired lease")
    stalled.add_metric([], figures["stalled"])
    write_backs = gauge(
        "order_write_backs_pending",
        "orders in Prima whose reference is not on the commercetools order yet",
    )
    write_backs.add_metric([], figures.get("write_back_pending", 0))
    waiting = gauge("oldest_waiting_order_age_seconds", "age of the oldest order waiting")
    waiting.add_metric([], (figures["oldest_waiting"] or {}).get("age_seconds") or 0.0)
    missing = gauge("oldest_order_not_in_prima_age_seconds", "oldest order Prima lacks (any)")
    missing.add_metric([], (figures["oldest_not_in_prima"] or {}).get("age_seconds") or 0.0)
    lag = gauge("order_poll_lag_seconds", "time since commercetools orders were last read")
    if figures["lag_seconds"] is not None:
        lag.add_metric([], figures["lag_seconds"])
    exceptions = gauge("open_exceptions", "open exceptions by owner and kind", ("owner", "kind"))
    for owner, kinds in report.open_exceptions_by_kind.items():
        for kind, count in kinds.items():
            exceptions.add_metric([owner, kind], count)
    oldest = gauge("oldest_open_exception_age_seconds", "age of the oldest open one", ("owner",))
    overdue = gauge("overdue_exceptions", "open past the escalation age", ("owner",))
    for owner, entry in report.exceptions_by_owner.items():
        oldest.add_metric([owner], entry["oldest_seconds"] or 0.0)
        overdue.add_metric([owner], entry["overdue"])
    return [
        healthy, status, runs, failures, seconds, outcomes, success, success_age, duration,
        orders, backlog, stalled, write_backs, waiting, missing, lag, exceptions, oldest,
        overdue,
    ]  # fmt: skip


class StoreCollector:
    """A Prometheus collector that reads ``store`` at every collection (see the package
    docstring). ``policy`` and ``escalate_after_seconds`` are what ``health`` judges by."""

    def __init__(
        self,
        store: StateStore,
        *,
        policy: HealthPolicy | None = None,
        escalate_after_seconds: float = 4 * 3600.0,
        cursor_name: str = "orders.lastModifiedAt",
        clock: Clock | None = None,
    ) -> None:
        prometheus()
        self._store = store
        self._policy = policy
        self._escalate = escalate_after_seconds
        self._cursor = cursor_name
        self._clock = clock or SystemClock()

    def report(self) -> HealthReport:
        """The health report the metrics are made of."""
        return health_report(
            self._store,
            now=self._clock.now(),
            escalate_after_seconds=self._escalate,
            cursor_name=self._cursor,
            policy=self._policy,
        )

    def collect(self) -> Iterator[Metric]:
        """Every metric, read now."""
        yield from metric_families(self.report())


def registry_for(collector: StoreCollector) -> CollectorRegistry:
    """A registry holding only ``collector``'s metrics."""
    registry: CollectorRegistry = prometheus().CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry
