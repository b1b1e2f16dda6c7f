"""The Celery app: a task per subscription delivery, and the flows that Celery beat schedules.

Start the workers (as many as you like, on as many machines, all with the same settings file and
PostgreSQL state) and exactly one beat::

    celery -A sync_service.tasks worker --loglevel INFO
    celery -A sync_service.tasks beat --loglevel INFO

Everything a deployment tunes comes from the environment (docs/deploy.md, "Celery").

Why this is safe under Celery's at-least-once delivery: the tasks only ever *ask* the engine to
sync, and the engine's ledger decides. A delivery handled twice, a tick run by two workers, or a
task redelivered after its visibility timeout finds the order leased, done, or known to Prima,
and nothing reaches Prima twice.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from typing import Any, Final

from celery import Celery

from ct_prima_sync.engine import LeaseLock, LockBusyError, StockRunStatus
from ct_prima_sync.errors import StateError

from .engine import open_worker

_log = logging.getLogger("sync_service")


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {value!r}") from None
    if not seconds > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return seconds


BROKER_URL: Final = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
QUEUE: Final = os.environ.get("CT_PRIMA_SYNC_CELERY_QUEUE", "ct-prima-sync")
#: How long Redis waits for a worker to acknowledge a task before it hands the task to another
#: worker. A task still running then runs twice at once: harmless here (the ledger), but set it
#: well above the longest run (`ct-prima-sync run` prints each run's duration).
VISIBILITY_TIMEOUT: Final = _seconds("CT_PRIMA_SYNC_VISIBILITY_TIMEOUT", 3600)
#: How often each worker looks for tasks whose worker died (older than the visibility timeout)
#: and puts them back on the queue. Kombu's own default is every 100 s.
RESTORE_EVERY: Final = _seconds("CT_PRIMA_SYNC_RESTORE_EVERY", 10)
#: How often beat starts each flow.
EVERY: Final = {
    "orders": _seconds("CT_PRIMA_SYNC_ORDERS_EVERY", 120),
    "stock": _seconds("CT_PRIMA_SYNC_STOCK_EVERY", 300),
    "dispatch": _seconds("CT_PRIMA_SYNC_DISPATCH_EVERY", 600),
}
#: The order run's lock lives this long unless given back: a worker that dies holding it delays
#: the next order run by at most this much (deliveries are still handled meanwhile).
ORDERS_LOCK_SECONDS: Final = _seconds("CT_PRIMA_SYNC_ORDERS_LOCK_SECONDS", 900)
ORDERS_LOCK: Final = "celery-orders-run"

app = Celery("sync_service")
app.conf.update(
    broker_url=BROKER_URL,
    broker_connection_retry_on_startup=True,
    broker_transport_options={
        "visibility_timeout": VISIBILITY_TIMEOUT,
        "unacked_restore_interval": RESTORE_EVERY,
        "unacked_restore_throttle": 1,
    },
    task_default_queue=QUEUE,
    task_ignore_result=True,
    # Acknowledge a task after it ran, not when a worker takes it: a worker that dies mid-task
    # (killed, out of memory, its machine gone) leaves the task to be delivered again.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    # One task at a time per worker process: nothing waits behind a long run in a prefetch.
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
    beat_schedule={
        # A tick that no worker started within its period is dropped, not piled up.
        f"sync-{flow}": {
            "task": f"sync_service.sync_{flow}",
            "schedule": every,
            "options": {"expires": every},
        }
        for flow, every in EVERY.items()
    },
)


def _report(flow: str, outcome: str, started: float, **counts: Any) -> dict[str, Any]:
    """Log one line per flow task, for operators and for the example's tests."""
    line = {
        "flow": flow,
        "outcome": outcome,
        "started": started,
        "finished": time.time(),
        "pid": os.getpid(),
        **counts,
    }
    _log.info("flow-run %s", json.dumps(line, sort_keys=True, default=str))
    return line


@app.task(
    name="sync_service.handle_delivery",
    autoretry_for=(StateError,),
    retry_backoff=True,
    max_retries=10,
)
def handle_delivery(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Sync the order one subscription delivery is about (other resources are ignored).

    A delivery seen before (commercetools delivers at least once) finds its order in the ledger
    and changes nothing. Should every retry fail, the order is not lost: the scheduled order run
    polls commercetools and finds it.
    """
    started = time.time()
    with open_worker() as worker:
        summary = worker.engine.handle_message(payload)
    return _report("delivery", "ran", started, **_ints(summary.as_dict()))


@app.task(name="sync_service.sync_orders")
def sync_orders() -> dict[str, Any]:
    """One order run (poll, then the backlog), unless another worker's run holds the lock."""
    started = time.time()
    with open_worker() as worker:
        lock = LeaseLock(
            worker.store,
            ORDERS_LOCK,
            holder=worker.worker_id,
            ttl_seconds=ORDERS_LOCK_SECONDS,
            clock=worker.clock,
        )
        try:
            with lock:
                locked = time.time()
                summary = worker.engine.sync_orders()
                unlocking = time.time()  # read while still held: the next run starts after it
        except LockBusyError:
            return _report("orders", "skipped", started)
    counts = _ints(summary.as_dict())
    return _report("orders", "ran", started, locked=locked, unlocking=unlocking, **counts)


@app.task(name="sync_service.sync_stock")
def sync_stock() -> dict[str, Any]:
    """One stock run; the engine's own stock lock lets one run at a time."""
    started = time.time()
    with open_worker() as worker:
        summary = worker.engine.sync_stock()
    if summary.status is StockRunStatus.ALREADY_RUNNING:
        return _report("stock", "skipped", started)
    return _report("stock", "ran", started, status=str(summary.status))


@app.task(name="sync_service.sync_dispatch")
def sync_dispatch() -> dict[str, Any]:
    """One dispatch run; the engine's own dispatch lock lets one run at a time."""
    started = time.time()
    with open_worker() as worker:
        summary = worker.engine.sync_dispatch()
    if summary.skipped:
        return _report("dispatch", "skipped", started)
    return _report("dispatch", "ran", started, **_ints(summary.as_dict()))


def _ints(counts: Mapping[str, object]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if isinstance(v, int) and not isinstance(v, bool)}
