"""The sync flows host applications call: ``SyncEngine`` (orders, stock, dispatch, finance
postings) and its
configuration and results; health, alert channels, going live (dry, shadow and hold runs) and
personal-data retention."""

from ._adaptive import AimdRate, RateState, SharedRate, SubmissionFlow
from ._budget import SharedBudget, request_budget, shared_budget_of
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
from ._details import (
    DETAIL_TYPES,
    CommercetoolsApiDetail,
    CommercetoolsDetail,
    CustomerDetail,
    DepotDetail,
    ExceptionDetail,
    MappingIssueDetail,
    MappingIssuesDetail,
    OutageDetail,
    PayloadDetail,
    PrimaCodeDetail,
    PrimaErrorDetail,
    PrimaRejectedDetail,
    UnexpectedDetail,
    WriteBackDetail,
    detail_type,
)
from ._dispatch_summary import DispatchSummary
from ._engine import SyncEngine
from ._flow_runs import KNOWN_FLOWS, FlowRun, track_flow_run
from ._golive import GoLiveConfig, GoLiveMode, HoldingPrima, RehearsalReport, ShadowPrima
from ._golive_compare import Comparison, ComparisonReport, Difference, compare_with_prima
from ._health import FlowExpectation, FlowHealth, HealthPolicy, HealthReport, HealthStatus
from ._locks import LeaseLock, LockBusyError, LockLostError
from ._notify import Alert, AlertLevel, LoggingNotifier, Notifier, RoutingNotifier
from ._order_flow import Outcome
from ._postings_config import PostingBasis, PostingsConfig, PostingSink
from ._postings_run import BatchOutcome, PostingKind, PostingSummary
from ._problems import Problem, ProblemKind
from ._queue import KNOWN_KINDS
from ._reconcile_run import PRIMA_EXPORT_COLUMNS, ReconciliationReport, read_prima_export
from ._retention import RetentionPolicy, forget_customer, purge_personal_data, scrub_detail
from ._stock_config import StockIngest, StockRunConfig
from ._stock_problems import StockProblemKind
from ._stock_summary import ChangeReason, StockRunStatus, StockRunSummary
from ._summary import RunSummary
from ._tracing import tracing_available
from ._verify import VerifyReport

__all__ = [
    "DETAIL_TYPES",
    "KNOWN_FLOWS",
    "KNOWN_KINDS",
    "PRIMA_EXPORT_COLUMNS",
    "AimdRate",
    "Alert",
    "AlertLevel",
    "AlertRoutes",
    "BatchOutcome",
    "ChangeReason",
    "Clock",
    "CommercetoolsApiDetail",
    "CommercetoolsDetail",
    "Comparison",
    "ComparisonReport",
    "CustomerDetail",
    "CustomerPolicy",
    "DepotDetail",
    "Difference",
    "DispatchSummary",
    "EligibilityRules",
    "EmailNotifier",
    "EngineConfig",
    "ExceptionDetail",
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
    "MappingIssueDetail",
    "MappingIssuesDetail",
    "Notifier",
    "OutageDetail",
    "Outcome",
    "OwnerRoute",
    "PayloadDetail",
    "PostingBasis",
    "PostingKind",
    "PostingSink",
    "PostingSummary",
    "PostingsConfig",
    "PrimaCodeDetail",
    "PrimaErrorDetail",
    "PrimaRejectedDetail",
    "Problem",
    "ProblemKind",
    "RateState",
    "ReconciliationReport",
    "RehearsalReport",
    "RetentionPolicy",
    "RetryBackoff",
    "RoutingNotifier",
    "RunSummary",
    "ShadowPrima",
    "SharedBudget",
    "SharedRate",
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
    "UnexpectedDetail",
    "VerifyReport",
    "WebhookFormat",
    "WebhookNotifier",
    "WriteBack",
    "WriteBackDetail",
    "compare_with_prima",
    "detail_type",
    "forget_customer",
    "purge_personal_data",
    "read_prima_export",
    "request_budget",
    "scrub_detail",
    "shared_budget_of",
    "tracing_available",
    "track_flow_run",
]
