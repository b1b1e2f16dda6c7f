"""The sync flows host applications call: ``SyncEngine`` (orders, stock, dispatch) and its
configuration and results."""

from ._clock import Clock, FakeClock, SystemClock
from ._config import CustomerPolicy, EligibilityRules, EngineConfig, RetryBackoff, WriteBack
from ._dispatch_summary import DispatchSummary
from ._engine import SyncEngine
from ._locks import LeaseLock, LockBusyError, LockLostError
from ._notify import Alert, AlertLevel, LoggingNotifier, Notifier, RoutingNotifier
from ._order_flow import Outcome
from ._problems import Problem, ProblemKind
from ._queue import HealthReport
from ._stock_config import StockIngest, StockRunConfig
from ._stock_problems import StockProblemKind
from ._stock_summary import ChangeReason, StockRunStatus, StockRunSummary
from ._summary import RunSummary

__all__ = [
    "Alert",
    "AlertLevel",
    "ChangeReason",
    "Clock",
    "CustomerPolicy",
    "DispatchSummary",
    "EligibilityRules",
    "EngineConfig",
    "FakeClock",
    "HealthReport",
    "LeaseLock",
    "LockBusyError",
    "LockLostError",
    "LoggingNotifier",
    "Notifier",
    "Outcome",
    "Problem",
    "ProblemKind",
    "RetryBackoff",
    "RoutingNotifier",
    "RunSummary",
    "StockIngest",
    "StockProblemKind",
    "StockRunConfig",
    "StockRunStatus",
    "StockRunSummary",
    "SyncEngine",
    "SystemClock",
    "WriteBack",
]
