"""Alerts to the people who own a problem: a small protocol, a logging notifier, routing.

Channels that reach people where they read messages (a webhook, e-mail) are in ``_channels``.
Delivery rule: a channel that fails raises; :class:`RoutingNotifier` still tries the owner's
other channels, logs each failure with the alert's fields, and then raises one
:class:`~ct_prima_sync.errors.AlertDeliveryError`; the engine counts it and carries on, so a
failing notifier never breaks a run.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

from attrs import frozen

from ..errors import AlertDeliveryError, CtPrimaSyncError
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
    order_number: str | None = None


class Notifier(Protocol):
    """Receives alerts; hosts plug in e-mail, chat or paging. May raise when delivery failed:
    the engine logs and counts it and the run goes on."""

    def notify(self, alert: Alert) -> None:
        """Deliver one alert."""
        ...


def alert_fields(alert: Alert) -> dict[str, object]:
    """The alert's structured fields, for log lines and JSON bodies."""
    return {
        "alert_level": str(alert.level),
        "owner": str(alert.owner),
        "kind": alert.kind,
        "exception_id": alert.exception_id,
        "order_id": alert.order_id,
        "order_number": alert.order_number,
        "occurrences": alert.occurrences,
    }


class LoggingNotifier:
    """Logs each alert as a warning (escalations as errors) with structured ``extra`` fields."""

    channel = "log"

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
            extra=alert_fields(alert),
        )


def _channel(notifier: Notifier) -> str:
    return str(getattr(notifier, "channel", type(notifier).__name__))


class RoutingNotifier:
    """Sends each alert to its owner's notifiers (one, or several channels), or to ``default``
    (the log) for owners without a route. Every channel is tried; failures are logged and raised
    together as one :class:`~ct_prima_sync.errors.AlertDeliveryError` naming the channels."""

    def __init__(
        self,
        routes: Mapping[Owner, Notifier | Sequence[Notifier]],
        default: Notifier | None = None,
    ) -> None:
        self._routes: dict[Owner, tuple[Notifier, ...]] = {
            Owner(owner): (tuple(route) if isinstance(route, Sequence) else (route,))
            for owner, route in routes.items()
        }
        self._default = default or LoggingNotifier()

    def close(self) -> None:
        """Close the channels that hold connections (webhooks)."""
        seen: set[int] = set()
        for channel in (self._default, *(c for route in self._routes.values() for c in route)):
            close = getattr(channel, "close", None)
            if close is not None and id(channel) not in seen:
                seen.add(id(channel))
                close()

    def channels(self, owner: Owner) -> tuple[Notifier, ...]:
        """The notifiers an alert for ``owner`` goes to."""
        return self._routes.get(Owner(owner), (self._default,))

    def notify(self, alert: Alert) -> None:
        """Deliver to each of the owner's notifiers."""
        failed: list[str] = []
        for notifier in self.channels(alert.owner):
            try:
                notifier.notify(alert)
            except Exception as error:  # one channel failing must not keep the others silent
                reason = str(error) if isinstance(error, CtPrimaSyncError) else type(error).__name__
                failed.append(f"{_channel(notifier)} ({reason})")
                _log.error(
                    "alert not delivered by %s: %s",
                    _channel(notifier),
                    reason,
                    extra={**alert_fields(alert), "channel": _channel(notifier)},
                )
        if failed:
            raise AlertDeliveryError(
                f"alert #{alert.exception_id} not delivered by " + ", ".join(failed), failed=failed
            )
