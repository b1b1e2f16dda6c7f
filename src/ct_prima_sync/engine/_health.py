"""The health of every flow, from the state store alone: what ``health`` prints, what the
metrics expose, and what monitoring alerts on.

The figures are read from the store (each flow's run record, the ledger, the exception queue),
never from the memory of one process, so every worker, cron job and dashboard sees the same.
The judgement is a pure function of those figures and :class:`HealthPolicy`:

1. A flow that is enabled and never ran is failing; one that is not enabled is judged only once
   it has run (``enabled = false`` switches it off entirely). Orders are enabled by default.
2. A flow whose last successful run is older than its ``stale_after_seconds`` is failing, and so
   is the order flow when the oldest order waiting for Prima has waited longer than that.
3. A flow whose last run failed, whose run started long ago and never finished, or (orders) that
   has orders stuck in progress with an expired lease, or orders in Prima whose write-back to
   commercetools failed and waits for a retry, is a warning. Orders in Prima are never in the
   backlog or "not in Prima", whatever their write-back: ``write_back_pending`` counts those.
4. An exception open longer than the escalation age fails the whole report.

The report's status is the worst of all, with every reason spelled out.
"""

from __future__ import annotations

import enum
from collections import Counter
from datetime import datetime
from typing import Any, Final

from attrs import evolve, field, fields, frozen

from ..errors import ConfigurationError
from ..state import (
    ExceptionFilter,
    FlowRunRecord,
    OrderRecord,
    OrderStatus,
    Owner,
    StateStore,
)
from ._flow_runs import KNOWN_FLOWS

__all__ = [
    "FlowExpectation",
    "FlowHealth",
    "HealthPolicy",
    "HealthReport",
    "HealthStatus",
    "health_report",
]

S = OrderStatus
#: Orders the sync still has to move towards Prima. Not ``submitted``: that order is in Prima,
#: only its write-back to commercetools is left (:func:`write_backs_pending`).
WAITING: Final = (
    S.NEW,
    S.CLAIMED,
    S.MAPPED,
    S.CUSTOMER_RESOLVED,
    S.SUBMITTING,
    S.FAILED,
)
#: Orders Prima does not hold yet (waiting ones without a reference, and those waiting for a
#: person in the exception queue).
NOT_IN_PRIMA: Final = (
    S.NEW,
    S.CLAIMED,
    S.MAPPED,
    S.CUSTOMER_RESOLVED,
    S.SUBMITTING,
    S.FAILED,
    S.EXCEPTED,
)
IN_PROGRESS: Final = (S.CLAIMED, S.MAPPED, S.CUSTOMER_RESOLVED, S.SUBMITTING, S.SUBMITTED)

#: Per flow: enabled unless the settings say otherwise, and how old a last success may be.
_DEFAULTS: Final[dict[str, tuple[bool, float]]] = {
    "orders": (True, 3600.0),
    "stock": (False, 3600.0),
    "dispatch": (False, 3600.0),
    "postings": (False, 26 * 3600.0),
    "shadow": (False, 3600.0),
    "retention": (False, 2 * 86400.0),
}


class HealthStatus(enum.StrEnum):
    """``ok``; ``warning`` (look soon); ``failing`` (act now: ``health`` exits 1); ``off`` (a
    flow that is not enabled and never ran)."""

    OK = "ok"
    WARNING = "warning"
    FAILING = "failing"
    OFF = "off"


_RANK: Final = {
    HealthStatus.OFF: 0,
    HealthStatus.OK: 0,
    HealthStatus.WARNING: 1,
    HealthStatus.FAILING: 2,
}


def _positive_or_none(_instance: object, attribute: Any, value: float | None) -> None:
    if value is not None and not value > 0:
        raise ConfigurationError(f"{attribute.name} must be positive, got {value!r}")


@frozen(kw_only=True)
class FlowExpectation:
    """``[health.<flow>]``: whether the flow is expected to run (None: the default, orders yes,
    others only once they have run) and how old its last success may be (None: the default)."""

    enabled: bool | None = None
    stale_after_seconds: float | None = field(default=None, validator=_positive_or_none)


@frozen(kw_only=True)
class HealthPolicy:
    """What ``health`` expects of each flow (``[health]`` in the settings file). Defaults: orders
    enabled, stale after 1 h; stock, dispatch and shadow 1 h and postings 26 h once they run;
    retention (the purge) 2 days, enabled when ``[retention]`` is set."""

    orders: FlowExpectation = FlowExpectation()
    stock: FlowExpectation = FlowExpectation()
    dispatch: FlowExpectation = FlowExpectation()
    postings: FlowExpectation = FlowExpectation()
    shadow: FlowExpectation = FlowExpectation()
    retention: FlowExpectation = FlowExpectation()

    def expectation(self, flow: str) -> tuple[bool | None, float]:
        """(enabled: True, False or None for "judged once it ran", stale after seconds)."""
        default_enabled, default_stale = _DEFAULTS.get(flow, (False, 3600.0))
        chosen: FlowExpectation = getattr(self, flow, FlowExpectation())
        enabled = chosen.enabled
        if enabled is None and default_enabled:
            enabled = True
        return enabled, chosen.stale_after_seconds or default_stale

    def enabling(self, *flows: str) -> HealthPolicy:
        """This policy with ``flows`` enabled where the settings leave it open."""
        changes = {
            name: evolve(getattr(self, name), enabled=True)
            for name in flows
            if name in {f.name for f in fields(HealthPolicy)}
            and getattr(self, name).enabled is None
        }
        return evolve(self, **changes)


@frozen(kw_only=True)
class FlowHealth:
    """One flow's health: its status with the reason, its run record and, for orders, the
    ledger's figures (``backlog``, ``oldest_waiting``, ``oldest_not_in_prima``, ``stalled``,
    ``write_back_pending``: orders in Prima whose write-back to commercetools is still to do,
    ``write_back_retrying``: those of them queued for a retry after a failure,
    ``lag_seconds``: time since commercetools was last read, ``polled_up_to``)."""

    flow: str
    status: HealthStatus
    reasons: tuple[str, ...]
    enabled: bool | None
    stale_after_seconds: float
    record: FlowRunRecord | None
    last_success_age_seconds: float | None
    figures: dict[str, Any] = field(factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able form."""
        r = self.record
        return {
            "status": str(self.status),
            "reasons": list(self.reasons),
            "enabled": self.enabled,
            "stale_after_seconds": self.stale_after_seconds,
            "last_started_at": _iso(r.last_started_at) if r else None,
            "last_succeeded_at": _iso(r.last_succeeded_at) if r else None,
            "last_success_age_seconds": self.last_success_age_seconds,
            "last_failed_at": _iso(r.last_failed_at) if r else None,
            "last_failure": r.last_failure if r else None,
            "last_duration_seconds": r.last_duration_seconds if r else None,
            "last_counts": dict(r.last_counts) if r else {},
            "runs": r.runs if r else 0,
            "failures": r.failures if r else 0,
            "consecutive_failures": r.consecutive_failures if r else 0,
            **self.figures,
        }


@frozen(kw_only=True)
class HealthReport:
    """Every flow and the exception queue at a glance, for monitoring and the ``health`` command.

    ``status`` is the worst of the flows' and the queue's; ``reasons`` says why; ``ok`` is False
    when it is failing (a flow stale or never run, an exception open past the escalation age).
    """

    checked_at: datetime
    status: HealthStatus
    reasons: tuple[str, ...]
    flows: tuple[FlowHealth, ...]
    orders_by_status: dict[str, int]
    open_exceptions_by_owner: dict[str, int]
    oldest_open_exception_seconds: float | None
    overdue_exceptions: int
    cursor: str | None
    exceptions_by_owner: dict[str, dict[str, Any]] = field(factory=dict)
    open_exceptions_by_kind: dict[str, dict[str, int]] = field(factory=dict)
    escalate_after_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True unless something needs a person's attention now."""
        return self.status is not HealthStatus.FAILING

    def flow(self, name: str) -> FlowHealth:
        """One flow's health."""
        for flow in self.flows:
            if flow.flow == name:
                return flow
        raise KeyError(name)

    def as_dict(self) -> dict[str, object]:
        """A JSON-able form."""
        return {
            "ok": self.ok,
            "status": str(self.status),
            "reasons": list(self.reasons),
            "checked_at": _iso(self.checked_at),
            "flows": {f.flow: f.as_dict() for f in self.flows},
            "orders_by_status": self.orders_by_status,
            "open_exceptions_by_owner": self.open_exceptions_by_owner,
            "exceptions": self.exceptions_by_owner,
            "open_exceptions_by_kind": self.open_exceptions_by_kind,
            "oldest_open_exception_seconds": self.oldest_open_exception_seconds,
            "overdue_exceptions": self.overdue_exceptions,
            "escalate_after_seconds": self.escalate_after_seconds,
            "cursor": self.cursor,
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round(max((now - then).total_seconds(), 0.0), 3)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _oldest(record: OrderRecord | None, now: datetime) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "order_number": record.order_number,
        "order_id": record.order_id,
        "status": str(record.status),
        "age_seconds": _age(now, record.created_at),
    }


def write_backs_pending(store: StateStore, counts: dict[OrderStatus, int] | None = None) -> int:
    """Orders in Prima whose reference is not on the commercetools order yet: ``submitted``
    ones (the write-back pass of the run that holds them, or of the next run after a crash) and
    ``done`` ones with a write-back queued for a retry. Posted as far as finance is concerned;
    never in the backlog."""
    counts = store.count_orders_by_status() if counts is None else counts
    return counts.get(S.SUBMITTED, 0) + store.count_write_backs_queued()


def order_figures(store: StateStore, *, now: datetime, cursor_name: str) -> dict[str, Any]:
    """The ledger's figures for the order flow's health."""
    counts = store.count_orders_by_status()
    waiting = store.list_orders(WAITING, limit=1)
    missing = store.list_orders(NOT_IN_PRIMA, limit=1)
    stalled = [
        r
        for r in store.list_orders(IN_PROGRESS)
        if (r.lease_expires_at is None or r.lease_expires_at <= now) and not r.prima_reference
    ]
    cursor = store.get_cursor(cursor_name)
    return {
        "backlog": sum(counts.get(s, 0) for s in WAITING),
        "write_back_pending": write_backs_pending(store, counts),
        "write_back_retrying": store.count_write_backs_queued(),
        "oldest_waiting": _oldest(waiting[0] if waiting else None, now),
        "oldest_not_in_prima": _oldest(missing[0] if missing else None, now),
        "stalled": len(stalled),
        "lag_seconds": _age(now, cursor.updated_at) if cursor else None,
        "polled_up_to": cursor.value if cursor else None,
    }


def judge_flow(
    flow: str,
    record: FlowRunRecord | None,
    *,
    enabled: bool | None,
    stale_after: float,
    now: datetime,
    figures: dict[str, Any] | None = None,
) -> FlowHealth:
    """One flow's status and reasons (the rules in the module docstring); pure."""
    figures = figures or {}
    success_age = _age(now, record.last_succeeded_at) if record else None
    failing: list[str] = []
    warnings: list[str] = []
    stale = _duration(stale_after)
    if enabled is False or (record is None and not enabled):
        status = HealthStatus.OFF
        return FlowHealth(
            flow=flow,
            status=status,
            reasons=(),
            enabled=enabled,
            stale_after_seconds=stale_after,
            record=record,
            last_success_age_seconds=success_age,
            figures=figures,
        )
    if record is None:
        failing.append("has never run")
    elif record.last_succeeded_at is None:
        failing.append(
            "has never run successfully"
            + (f" (last failure: {record.last_failure})" if record.last_failure else "")
        )
    elif success_age is not None and success_age > stale_after:
        failing.append(f"no successful run for {_duration(success_age)} (stale after {stale})")
    oldest = figures.get("oldest_waiting")
    if oldest and oldest["age_seconds"] > stale_after:
        failing.append(
            f"order {oldest['order_number'] or oldest['order_id']} has waited "
            f"{_duration(oldest['age_seconds'])} to reach Prima (stale after {stale})"
        )
    if record is not None:
        if (
            record.last_failed_at is not None
            and record.last_succeeded_at is not None
            and record.last_failed_at > record.last_succeeded_at
        ):
            warnings.append(
                f"last run failed {_duration(_age(now, record.last_failed_at) or 0)} ago: "
                f"{record.last_failure}"
            )
        started_age = _age(now, record.last_started_at) or 0.0
        if record.running and started_age > stale_after:
            warnings.append(
                f"a run started {_duration(started_age)} ago never finished (did it crash?)"
            )
    if figures.get("stalled"):
        warnings.append(
            f"{figures['stalled']} order(s) in progress with an expired lease: the next run "
            "takes them over"
        )
    if figures.get("write_back_retrying"):
        warnings.append(
            f"{figures['write_back_retrying']} order(s) in Prima wait for their write-back to "
            "commercetools after it failed (CT_WRITE_BACK_FAILED, retried; nothing is sent to "
            "Prima again)"
        )
    status = (
        HealthStatus.FAILING if failing else HealthStatus.WARNING if warnings else HealthStatus.OK
    )
    return FlowHealth(
        flow=flow,
        status=status,
        reasons=tuple(failing + warnings),
        enabled=enabled,
        stale_after_seconds=stale_after,
        record=record,
        last_success_age_seconds=success_age,
        figures=figures,
    )


def health_report(
    store: StateStore,
    *,
    now: datetime,
    escalate_after_seconds: float,
    cursor_name: str,
    policy: HealthPolicy | None = None,
) -> HealthReport:
    """Every known flow's health, the ledger's counts and the exception queue's, from ``store``."""
    policy = policy or HealthPolicy()
    records = {r.flow: r for r in store.list_flow_runs()}
    names = [*KNOWN_FLOWS, *sorted(set(records) - set(KNOWN_FLOWS))]
    flows = []
    for name in names:
        enabled, stale_after = policy.expectation(name)
        figures = (
            order_figures(store, now=now, cursor_name=cursor_name) if name == "orders" else None
        )
        flows.append(
            judge_flow(
                name,
                records.get(name),
                enabled=enabled,
                stale_after=stale_after,
                now=now,
                figures=figures,
            )
        )
    open_records = store.list_exceptions(ExceptionFilter())
    by_owner: dict[str, dict[str, Any]] = {
        str(o): {"open": 0, "oldest_seconds": None, "overdue": 0} for o in Owner
    }
    by_kind: dict[str, Counter[str]] = {}
    for record in open_records:
        age = (now - record.first_seen).total_seconds()
        entry = by_owner[str(record.owner)]
        entry["open"] += 1
        entry["oldest_seconds"] = max(entry["oldest_seconds"] or 0.0, round(age, 3))
        entry["overdue"] += age >= escalate_after_seconds
        by_kind.setdefault(str(record.owner), Counter())[record.kind] += 1
    overdue = sum(e["overdue"] for e in by_owner.values())
    reasons = [f"{f.flow}: {reason}" for f in flows for reason in f.reasons]
    worst = max((f.status for f in flows), key=lambda s: _RANK[s], default=HealthStatus.OK)
    if overdue:
        teams = ", ".join(f"{o} {e['overdue']}" for o, e in by_owner.items() if e["overdue"])
        reasons.append(
            f"exceptions: {overdue} open longer than {_duration(escalate_after_seconds)} ({teams})"
        )
        worst = HealthStatus.FAILING
    cursor = store.get_cursor(cursor_name)
    ages = [(now - r.first_seen).total_seconds() for r in open_records]
    return HealthReport(
        checked_at=now,
        status=HealthStatus.OK if worst is HealthStatus.OFF else worst,
        reasons=tuple(reasons),
        flows=tuple(flows),
        orders_by_status={str(k): v for k, v in store.count_orders_by_status().items()},
        open_exceptions_by_owner={o: e["open"] for o, e in by_owner.items()},
        oldest_open_exception_seconds=max(ages) if ages else None,
        overdue_exceptions=overdue,
        cursor=cursor.value if cursor else None,
        exceptions_by_owner=by_owner,
        open_exceptions_by_kind={o: dict(sorted(c.items())) for o, c in sorted(by_kind.items())},
        escalate_after_seconds=escalate_after_seconds,
    )
