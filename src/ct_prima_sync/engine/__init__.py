"""The sync flows host applications call: ``SyncEngine`` (orders, stock, dispatch) and its
configuration and results; health, alert channels, going live (dry, shadow and hold runs) and
personal-data retention."""

from ._adaptive import AimdRate, SubmissionFlow
from ._budget import SharedBudget, request_budget
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
from ._dispatch_summary import DispatchSummary
from ._engine import SyncEngine
from ._flow_runs import KNOWN_FLOWS, FlowRun, track_flow_run
from ._golive import GoLiveConfig, GoLiveMode, HoldingPrima, RehearsalReport, ShadowPrima
from ._golive_compare import Comparison, ComparisonReport, Difference, compare_with_prima
from ._health import FlowExpectation, FlowHealth, HealthPolicy, HealthReport, HealthStatus
from ._locks import LeaseLock, LockBusyError, LockLostError
from ._notify import Alert, AlertLevel, LoggingNotifier, Notifier, RoutingNotifier
from ._order_flow import Outcome
from ._problems import Problem, ProblemKind
from ._retention import RetentionPolicy, forget_customer, purge_personal_data, scrub_detail
from ._stock_config import StockIngest, StockRunConfig
from ._stock_problems import StockProblemKind
from ._stock_summary import ChangeReason, StockRunStatus, StockRunSummary
from ._summary import RunSummary
from ._tracing import tracing_available
from ._verify import VerifyReport

__all__ = [
    "KNOWN_FLOWS",
    "AimdRate",
    "Alert",
    "AlertLevel",
    "AlertRoutes",
    "ChangeReason",
    "Clock",
    "Comparison",
    "ComparisonReport",
    "CustomerPolicy",
    "Difference",
    "DispatchSummary",
    "EligibilityRules",
    "EmailNotifier",
    "EngineConfig",
    "FakeClock",
    "FlowExpectation",
    "FlowHealth",
    "FlowRun",
    "GoLiveConfig",
    "GoLiveMode",
    "HealthPolicy",
    "HealthReport",
    "HealthStatus",
    "HoldingPrima",
    "LeaseLock",
    "LockBusyError",
    "LockLostError",
    "LoggingNotifier",
    "Notifier",
    "Outcome",
    "OwnerRoute",
    "Problem",
    "ProblemKind",
    "RehearsalReport",
    "RetentionPolicy",
    "RetryBackoff",
    "RoutingNotifier",
    "RunSummary",
    "ShadowPrima",
    "SharedBudget",
    "SmtpConfig",
    "SmtpSecurity",
    "StockIngest",
    "StockProblemKind",
    "StockRunConfig",
    "StockRunStatus",
    "StockRunSummary",
    "SubmissionFlow",
    "SyncEngine",
    "SystemClock",
    "VerifyReport",
    "WebhookFormat",
    "WebhookNotifier",
    "WriteBack",
    "compare_with_prima",
    "forget_customer",
    "purge_personal_data",
    "request_budget",
    "scrub_detail",
    "tracing_available",
    "track_flow_run",
]
