"""The sync flows host applications call: ``SyncEngine`` and its configuration and results."""

from ._channels import (
    AlertRoutes,
    EmailNotifier,
    OwnerRoute,
    SmtpConfig,
    SmtpSecurity,
    WebhookFormat,
    WebhookNotifier,
)
from ._clock import Clock, FakeClock, SystemClock
from ._config import CustomerPolicy, EligibilityRules, EngineConfig, RetryBackoff, WriteBack
from ._engine import SyncEngine
from ._flow_runs import KNOWN_FLOWS, FlowRun, track_flow_run
from ._health import FlowExpectation, FlowHealth, HealthPolicy, HealthReport, HealthStatus
from ._locks import LeaseLock, LockBusyError, LockLostError
from ._notify import Alert, AlertLevel, LoggingNotifier, Notifier, RoutingNotifier
from ._order_flow import Outcome
from ._problems import Problem, ProblemKind
from ._summary import RunSummary
from ._tracing import tracing_available

__all__ = [
    "KNOWN_FLOWS",
    "Alert",
    "AlertLevel",
    "AlertRoutes",
    "Clock",
    "CustomerPolicy",
    "EligibilityRules",
    "EmailNotifier",
    "EngineConfig",
    "FakeClock",
    "FlowExpectation",
    "FlowHealth",
    "FlowRun",
    "HealthPolicy",
    "HealthReport",
    "HealthStatus",
    "LeaseLock",
    "LockBusyError",
    "LockLostError",
    "LoggingNotifier",
    "Notifier",
    "Outcome",
    "OwnerRoute",
    "Problem",
    "ProblemKind",
    "RetryBackoff",
    "RoutingNotifier",
    "RunSummary",
    "SmtpConfig",
    "SmtpSecurity",
    "SyncEngine",
    "SystemClock",
    "WebhookFormat",
    "WebhookNotifier",
    "WriteBack",
    "tracing_available",
    "track_flow_run",
]
