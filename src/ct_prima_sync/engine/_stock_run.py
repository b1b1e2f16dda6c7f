"""One stock run as ``SyncEngine.sync_stock`` calls it: the singleton lock, renewed while the run
lasts; the summary; and the run's record for ``health`` and the metrics (the ``stock`` flow's
runs, a ``ct_prima_sync.run`` span). The run itself is :class:`StockFlow`'s.

A dry run takes no lock and records no run: it writes nothing anywhere. A run that finds the lock
held does nothing and records no end (the run holding it is the record). A run that stopped early
(a system did not answer, a read failed, the lock was lost, a stop request) or whose writes failed
is recorded as failed, with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Final

from ..state import StateStore
from ._clock import Clock
from ._flow_runs import track_flow_run
from ._locks import LeaseLock
from ._stock_config import StockRunConfig
from ._stock_flow import StockFlow
from ._stock_summary import StockRunStatus, StockRunSummary, StockSummaryBuilder
from ._tracing import span

__all__ = ["STOCK_LOCK", "run_stock", "stock_failure"]

_log = logging.getLogger("ct_prima_sync.engine.stock")

#: The store lock that makes the stock run a singleton.
STOCK_LOCK: Final = "stock"


def run_stock(
    flow: StockFlow,
    *,
    store: StateStore,
    clock: Clock,
    config: StockRunConfig,
    holder: str,
    skus: Iterable[str] | None,
    dry_run: bool,
    catalogue: bool | None,
) -> StockRunSummary:
    """One stock run of ``flow`` (see the module docstring); ``holder`` owns the lock."""
    if dry_run:
        return _locked_run(flow, None, clock, config, skus=skus, dry_run=True, catalogue=catalogue)
    lock = LeaseLock(store, STOCK_LOCK, holder=holder, ttl_seconds=config.lock_seconds, clock=clock)
    with (
        track_flow_run(store, "stock", clock=clock) as record,
        span("ct_prima_sync.run", flow="stock", worker=holder) as run_span,
    ):
        result = _locked_run(
            flow, lock, clock, config, skus=skus, dry_run=False, catalogue=catalogue
        )
        if result.status is StockRunStatus.ALREADY_RUNNING:
            record.skip()
            return result
        counts = {
            name: value
            for name, value in result.as_dict().items()
            if isinstance(value, int) and not isinstance(value, bool)
        }
        record.add(counts)
        run_span.set(**counts, status=str(result.status))
        failure = stock_failure(result)
        if failure is not None:
            record.fail(failure)
            run_span.error(failure)
    return result


def stock_failure(result: StockRunSummary) -> str | None:
    """Why ``result`` counts as a failed run of the stock flow, or None (free of personal data:
    only kinds and counts)."""
    if result.status is StockRunStatus.INCOMPLETE:
        return f"{result.outage or 'STOCK_RUN_FAILED'}: the stock run stopped early"
    if result.status is StockRunStatus.LOCK_LOST:
        return "LOCK_LOST: another stock run took the lock over"
    if result.status is StockRunStatus.STOPPED:
        return "stopped: on request, after the chunk in hand"
    if result.failed:
        return f"STOCK_WRITE_FAILED: {result.failed} inventory writes failed"
    return None


def _locked_run(
    flow: StockFlow,
    lock: LeaseLock | None,
    clock: Clock,
    config: StockRunConfig,
    *,
    skus: Iterable[str] | None,
    dry_run: bool,
    catalogue: bool | None,
) -> StockRunSummary:
    summary = StockSummaryBuilder(clock.now(), dry_run=dry_run)
    if lock is not None and not lock.acquire():
        summary.status = StockRunStatus.ALREADY_RUNNING
        _log.info("stock run already running elsewhere; nothing done")
        return summary.build_stock(clock.now())
    renewed = {"at": clock.now()}
    every = timedelta(seconds=config.lock_seconds / 3)

    def keep_alive() -> None:
        now = clock.now()
        if lock is not None and now - renewed["at"] >= every:
            lock.renew()
            renewed["at"] = now

    try:
        flow.run(summary, skus=skus, catalogue=catalogue, keep_alive=keep_alive)
    finally:
        if lock is not None:
            lock.release()
    result = summary.build_stock(clock.now())
    _log.info("stock run finished", extra={"summary": result.as_dict()})
    return result
