"""Alerts to the people who own a problem: a small protocol, a logging notifier, routing."""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from typing import Protocol

from attrs import frozen

from ..state import Owner

__all__ = ["Alert", "AlertLevel", "LoggingNotifier", "Notifier", "RoutingNotifier"]

_log = logging.getLogger("ct_prima_sync.alerts")


class AlertLevel(enum.StrEnum):
    """NEW: a problem was seen for the first time. ESCALATED: it has lasted too long or recurred
    too often."""

    NEW = "new"
    ESCALATED = "escalated"


@frozen(kw_only=True)
class Alert:
    """One message for an owner. ``message`` names the order number, never personal data."""

    owner: Owner
    level: AlertLevel
    kind: str
    exception_id: int
    order_id: str | None
    occurrences: int
    message: str


class Notifier(Protocol):
    """Receives alerts; hosts plug in e-mail, chat or paging. Must not raise."""

    def notify(self, alert: Alert) -> None:
        """Deliver one alert."""
        ...


class LoggingNotifier:
    """Logs each alert as a warning (escalations as errors) with structured ``extra`` fields."""

    def __init__(self, logger: logging.Logger = _log) -> None:
        self._logger = logger

    def notify(self, alert: Alert) -> None:
        """Log the alert."""
        level = logging.ERROR if alert.level is AlertLevel.ESCALATED else logging.WARNING
        self._logger.log(
            level,
            "%s for %s: %s",
            alert.kind,
            alert.owner,
            alert.message,
            extra={
                "alert_level": str(alert.level),
                "owner": str(alert.owner),
                "kind": alert.kind,
                "exception_id": alert.exception_id,
                "order_id": alert.order_id,
                "occurrences": alert.occurrences,
            },
        )


class RoutingNotifier:
    """Sends each alert to its owner's notifier, or to ``default`` for owners without one."""

    def __init__(self, routes: Mapping[Owner, Notifier], default: Notifier | None = None) -> None:
        self._routes = dict(routes)
        self._default = default or LoggingNotifier()

    def notify(self, alert: Alert) -> None:
        """Deliver to the owner's notifier."""
        self._routes.get(alert.owner, self._default).notify(alert)
