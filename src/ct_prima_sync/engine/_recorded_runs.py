"""The dispatch, postings and shadow runs, each recorded in the store as a run of its flow
(``health``, metrics); the engine builds the run and hands it here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..mapping import PostingPeriod
from ..state import StateStore
from ._clock import Clock
from ._dispatch_run import DispatchRun
from ._dispatch_summary import DispatchSummary
from ._flow_runs import track_flow_run
from ._golive import RehearsalReport
from ._postings_run import PostingRun, PostingSummary
from ._tracing import span

__all__ = ["record_dispatch", "record_postings", "record_shadow"]


def record_dispatch(
    run: DispatchRun,
    *,
    store: StateStore,
    clock: Clock,
    alert: Callable[[datetime], object],
    finished: Callable[[], None],
) -> DispatchSummary:
    """Run ``run`` as a run of the ``dispatch`` flow, in its own span; ``finished`` is called
    once it returns, ``alert`` (with the run's start) unless another worker had the run."""
    with (
        track_flow_run(store, "dispatch", clock=clock) as flow_run,
        span("ct_prima_sync.run", flow="dispatch") as run_span,
    ):
        try:
            summary = run.run()
        finally:
            finished()
        if summary.skipped:  # another worker is running dispatch: its run is the record
            flow_run.skip()
            return summary
        alert(summary.started_at)
        counts = {
            k: v
            for k, v in summary.as_dict().items()
            if isinstance(v, int) and not isinstance(v, bool) and k != "open"
        }
        flow_run.add(counts)
        run_span.set(**counts, stopped=summary.stopped)
        if summary.stopped is not None:
            flow_run.fail(f"{summary.stopped}: the dispatch run stopped early")
            run_span.error(summary.stopped)
    return summary


def record_postings(
    run: PostingRun, period: PostingPeriod, *, store: StateStore, clock: Clock
) -> PostingSummary:
    """Close ``period`` with ``run`` as a run of the ``postings`` flow (skipped when another
    worker is closing one)."""
    with track_flow_run(store, "postings", clock=clock) as flow_run:
        summary = run.run(period)
        if summary.stopped == "running":
            flow_run.skip()
            return summary
        flow_run.add(
            {
                "orders_read": summary.orders_read,
                "entries_batched": summary.entries_batched,
                "batches_posted": summary.posted,
            }
        )
        if summary.stopped is not None:
            flow_run.fail(f"{summary.stopped}: the postings run stopped early")
    return summary


def record_shadow(
    go: Callable[[], RehearsalReport], *, store: StateStore, clock: Clock
) -> RehearsalReport:
    """Rehearse (``go``) as a run of the ``shadow`` flow and keep its results in the store for
    ``compare_with_prima``."""
    with track_flow_run(store, "shadow", clock=clock) as run:
        report = go()
        store.put_shadow_orders(report.records)
        run.add(report.counts())
        if report.stopped is not None:
            run.fail(f"{report.stopped}: the shadow run stopped early")
        return report
