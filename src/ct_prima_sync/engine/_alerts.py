"""Alerts to the owners of exceptions: NEW when first seen in a run, ESCALATED when they recur
or grow old."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ..errors import AlertDeliveryError
from ..state import ExceptionFilter, ExceptionRecord, StateStore
from ._config import EngineConfig
from ._notify import Alert, AlertLevel, Notifier
from ._summary import SummaryBuilder

__all__ = ["alert_owners"]

_log = logging.getLogger("ct_prima_sync.engine")

_ALERTS_CHECKED = "alerts.checkedAt"


def alert_owners(
    store: StateStore,
    notifier: Notifier,
    *,
    config: EngineConfig,
    now: datetime,
    run_started: datetime,
    summary: SummaryBuilder | None = None,
) -> list[ExceptionRecord]:
    """Alert owners: NEW for exceptions first seen in this run, ESCALATED for those that
    reached ``escalate_after_occurrences`` in this run or grew older than the escalation age
    since the previous check. Returns the exceptions this run touched. A notifier that fails
    is logged and counted (in ``summary``: ``alerts_failed``); the run goes on."""
    threshold = config.escalate_after_occurrences
    age = timedelta(seconds=config.retry.escalate_after_seconds)
    checked = store.get_cursor(_ALERTS_CHECKED)
    since = datetime.fromisoformat(checked.value) if checked else run_started
    touched = []
    for record in store.list_exceptions(ExceptionFilter()):
        this_run = record.last_seen >= run_started
        if this_run:
            touched.append(record)
        if this_run and record.occurrences == 1:
            level = AlertLevel.NEW
        elif (this_run and record.occurrences == threshold) or (
            since < record.first_seen + age <= now
        ):
            level = AlertLevel.ESCALATED
        else:
            continue
        alert = Alert(
            owner=record.owner,
            level=level,
            kind=record.kind,
            exception_id=record.exception_id,
            order_id=record.order_id,
            occurrences=record.occurrences,
            message=_describe(record),
            order_number=_order_number(store, record),
        )
        try:
            notifier.notify(alert)
        except Exception as error:  # a failing notifier never breaks a run
            if summary is not None:
                summary.count("alerts_failed")
            if not isinstance(error, AlertDeliveryError):  # RoutingNotifier logged it
                _log.error(
                    "alert not delivered: %s",
                    type(error).__name__,
                    extra={"exception_id": alert.exception_id, "owner": str(alert.owner)},
                )
        else:
            if summary is not None:
                summary.count("alerts_sent")
    store.set_cursor(_ALERTS_CHECKED, now.isoformat(), now=now)
    return touched


def _order_number(store: StateStore, record: ExceptionRecord) -> str | None:
    number = record.detail.get("order_number") if isinstance(record.detail, dict) else None
    if isinstance(number, str) and number:
        return number
    if record.order_id:
        order = store.get_order(record.order_id)
        return order.order_number if order is not None else None
    return None


def _describe(record: ExceptionRecord) -> str:
    number = record.detail.get("order_number") if isinstance(record.detail, dict) else None
    if number:
        subject = f"order {number}"
    elif record.order_id:
        subject = f"order id {record.order_id}"
    elif record.subject:
        subject = record.subject
    else:
        subject = "every order waiting"
    hint = record.detail.get("message") or record.detail.get("request_error") or ""
    return f"{subject}: {record.kind}" + (f" ({hint})" if hint else "")
