"""Alert channels that reach people where they read messages: a webhook (JSON, as Slack,
Mattermost and Teams incoming webhooks take it) and e-mail over SMTP; and :class:`AlertRoutes`,
the per-owner routing the settings file's ``[alerts]`` describes.

Each alert is sent once per channel: no retries, since a receiver that answered an error may
still have posted it. A failure raises (see ``_notify``: logged, counted, the run goes on); a
channel that failed ``pause_after`` times in a row is skipped for ``pause_seconds``, so an
unreachable receiver cannot slow a run with many alerts. What is sent: the owner, the kind, the
order number, the exception id and how often it was seen, and the exception's one-line reason;
never personal data. Webhook URLs and SMTP passwords are secrets, never shown in a ``repr``.
"""

from __future__ import annotations

import enum
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any, Final

import httpx
from attrs import field, frozen

from ..errors import AlertDeliveryError, ConfigurationError
from ..state import Owner
from ._notify import Alert, AlertLevel, LoggingNotifier, Notifier, RoutingNotifier

__all__ = [
    "AlertRoutes",
    "EmailNotifier",
    "OwnerRoute",
    "SmtpConfig",
    "SmtpSecurity",
    "WebhookFormat",
    "WebhookNotifier",
    "alert_subject",
    "alert_text",
]

_PAUSE_AFTER: Final = 3
_PAUSE_SECONDS: Final = 60.0


def alert_subject(alert: Alert) -> str:
    """One line: ``[ct-prima-sync] new UNMAPPED_SKU for ecommerce: order WEB-1001``."""
    level = "ESCALATED" if alert.level is AlertLevel.ESCALATED else "new"
    subject = f"order {alert.order_number}" if alert.order_number else "no single order"
    return f"[ct-prima-sync] {level} {alert.kind} for {alert.owner}: {subject}"


def alert_text(alert: Alert) -> str:
    """The alert for people: what, which order, how often, and the commands that show more."""
    lines = [
        alert_subject(alert).removeprefix("[ct-prima-sync] "),
        f"Owner: {alert.owner}",
        f"Kind: {alert.kind}",
        f"Order: {alert.order_number or alert.order_id or '(every order waiting)'}",
        f"Exception: #{alert.exception_id}, seen {alert.occurrences} time(s)",
        f"Reason: {alert.message}",
        f"Look: ct-prima-sync exceptions --owner {alert.owner}"
        + (f"; ct-prima-sync order {alert.order_number}" if alert.order_number else ""),
    ]
    return "\n".join(lines)


class _Pause:
    """Skips a channel for a while after several failures in a row."""

    def __init__(self, after: int, seconds: float, clock: Callable[[], float]) -> None:
        self._after = after
        self._seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._until = 0.0

    def check(self, channel: str) -> None:
        with self._lock:
            if self._clock() < self._until:
                raise AlertDeliveryError(
                    f"{channel} paused after {self._after} failures in a row", failed=[channel]
                )

    def record(self, *, ok: bool) -> None:
        with self._lock:
            if ok:
                self._failures = 0
                return
            self._failures += 1
            if self._failures >= self._after:
                self._until = self._clock() + self._seconds
                self._failures = 0


class WebhookFormat(enum.StrEnum):
    """``slack``: ``{"text": ...}``, what Slack, Mattermost and Teams incoming webhooks read;
    ``json``: the same text plus every field of the alert, for receivers of your own."""

    SLACK = "slack"
    JSON = "json"


class WebhookNotifier:
    """POSTs each alert as JSON to ``url``; any answer but 2xx is a failure."""

    channel = "webhook"

    def __init__(
        self,
        url: str,
        *,
        format: WebhookFormat = WebhookFormat.SLACK,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ConfigurationError("a webhook URL must start with https:// or http://")
        self._url = url
        self._format = WebhookFormat(format)
        self._client = httpx.Client(timeout=timeout, transport=transport)
        self._pause = _Pause(_PAUSE_AFTER, _PAUSE_SECONDS, clock)

    def __repr__(self) -> str:
        return f"WebhookNotifier(format={self._format.value!r})"  # the URL is a secret

    def payload(self, alert: Alert) -> dict[str, Any]:
        """The JSON body for ``alert``."""
        body: dict[str, Any] = {"text": alert_text(alert)}
        if self._format is WebhookFormat.JSON:
            body.update(
                level=str(alert.level),
                owner=str(alert.owner),
                kind=alert.kind,
                order_number=alert.order_number,
                order_id=alert.order_id,
                exception_id=alert.exception_id,
                occurrences=alert.occurrences,
                reason=alert.message,
            )
        return body

    def notify(self, alert: Alert) -> None:
        """POST the alert; raises :class:`AlertDeliveryError` unless the receiver took it."""
        self._pause.check(self.channel)
        try:
            response = self._client.post(self._url, json=self.payload(alert))
        except httpx.HTTPError as error:
            self._pause.record(ok=False)
            raise AlertDeliveryError(
                f"webhook unreachable ({type(error).__name__})", failed=[self.channel]
            ) from None
        if not response.is_success:
            self._pause.record(ok=False)
            raise AlertDeliveryError(
                f"webhook answered HTTP {response.status_code}", failed=[self.channel]
            )
        self._pause.record(ok=True)

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()


class SmtpSecurity(enum.StrEnum):
    """``starttls`` (port 587, the default), ``tls`` (implicit TLS, port 465) or ``none``
    (a relay on a trusted network, port 25)."""

    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


def _port(_instance: object, _attribute: object, value: int) -> None:
    if not 0 < value < 65536:
        raise ConfigurationError(f"port must be between 1 and 65535, got {value}")


@frozen(kw_only=True)
class SmtpConfig:
    """How alert e-mail leaves: the SMTP server, its security, the login and the sender."""

    host: str
    sender: str
    port: int = field(default=587, validator=_port)
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 10.0


class EmailNotifier:
    """Sends each alert as one plain-text e-mail to ``recipients`` over SMTP."""

    channel = "email"

    def __init__(
        self,
        smtp: SmtpConfig,
        recipients: tuple[str, ...],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not recipients:
            raise ConfigurationError("an e-mail route needs at least one recipient")
        self._smtp = smtp
        self._recipients = recipients
        self._pause = _Pause(_PAUSE_AFTER, _PAUSE_SECONDS, clock)

    def __repr__(self) -> str:
        return f"EmailNotifier(host={self._smtp.host!r}, recipients={len(self._recipients)})"

    def message(self, alert: Alert) -> EmailMessage:
        """The e-mail for ``alert``."""
        message = EmailMessage()
        message["Subject"] = alert_subject(alert)
        message["From"] = self._smtp.sender
        message["To"] = ", ".join(self._recipients)
        message["X-Ct-Prima-Sync-Exception"] = str(alert.exception_id)
        message.set_content(alert_text(alert) + "\n")
        return message

    def notify(self, alert: Alert) -> None:
        """Send the e-mail; raises :class:`AlertDeliveryError` when the server did not take it."""
        self._pause.check(self.channel)
        smtp = self._smtp
        try:
            if smtp.security is SmtpSecurity.TLS:
                server: smtplib.SMTP = smtplib.SMTP_SSL(
                    smtp.host, smtp.port, timeout=smtp.timeout, context=ssl.create_default_context()
                )
            else:
                server = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
            with server:
                if smtp.security is SmtpSecurity.STARTTLS:
                    server.starttls(context=ssl.create_default_context())
                if smtp.username:
                    server.login(smtp.username, smtp.password)
                server.send_message(self.message(alert))
        except (OSError, smtplib.SMTPException) as error:
            self._pause.record(ok=False)
            raise AlertDeliveryError(
                f"e-mail not sent ({type(error).__name__})", failed=[self.channel]
            ) from None
        self._pause.record(ok=True)


def _webhook_url(_instance: object, _attribute: object, value: str) -> None:
    if value and not value.startswith(("https://", "http://")):
        raise ConfigurationError("webhook_url must start with https:// or http://")


@frozen(kw_only=True)
class OwnerRoute:
    """Where one owner's alerts go: a webhook, e-mail recipients, and (``log``) the log too."""

    webhook_url: str = field(default="", repr=False, validator=_webhook_url)
    webhook_format: WebhookFormat = WebhookFormat.SLACK
    email: tuple[str, ...] = ()
    log: bool = True


def _check_routes(instance: AlertRoutes, _attribute: Any, _value: SmtpConfig | None) -> None:
    for owner in Owner:
        route = instance.route(owner)
        if route is None:
            continue
        if route.email and instance.smtp is None:
            raise ConfigurationError(f"{owner} sends e-mail: add [alerts.smtp] (the server)")
        if not (route.email or route.webhook_url or route.log):
            raise ConfigurationError(
                f"{owner} sends alerts nowhere: give webhook_url_env, email or log = true"
            )


@frozen(kw_only=True)
class AlertRoutes:
    """Notifier routing per owner (``[alerts]`` in the settings file): an owner without a route
    is told in the log only. ``webhook_timeout`` bounds each webhook call."""

    smtp: SmtpConfig | None = field(default=None, validator=_check_routes)
    finance: OwnerRoute | None = None
    operations: OwnerRoute | None = None
    ecommerce: OwnerRoute | None = None
    webhook_timeout: float = 5.0

    def route(self, owner: Owner) -> OwnerRoute | None:
        """The route of ``owner``, if one is set."""
        route: OwnerRoute | None = getattr(self, Owner(owner).value)
        return route

    def notifier(self, *, transport: httpx.BaseTransport | None = None) -> RoutingNotifier:
        """A :class:`RoutingNotifier` sending each owner's alerts where its route says."""
        logger = LoggingNotifier()
        routes: dict[Owner, list[Notifier]] = {}
        for owner in Owner:
            route = self.route(owner)
            if route is None:
                continue
            channels: list[Notifier] = [logger] if route.log else []
            if route.webhook_url:
                channels.append(
                    WebhookNotifier(
                        route.webhook_url,
                        format=route.webhook_format,
                        timeout=self.webhook_timeout,
                        transport=transport,
                    )
                )
            if route.email and self.smtp is not None:
                channels.append(EmailNotifier(self.smtp, route.email))
            routes[owner] = channels
        return RoutingNotifier(routes, default=logger)
