"""Flow runs, shadow records, ledger listing and personal-data purges for the memory store."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from ._common import check_limit, check_name, json_counts, json_detail, needles
from ._ops_records import FlowRunRecord, ShadowRecord, ShadowVerdict
from ._records import CustomerMapping, ExceptionRecord, OrderRecord, OrderStatus, utc


class MemoryOpsMixin:
    """The operations tables of :class:`MemoryStore`, guarded by the store's lock."""

    _lock: threading.RLock
    _orders: dict[str, OrderRecord]
    _exceptions: dict[int, ExceptionRecord]
    _customers: dict[str, CustomerMapping]

    def _open(self) -> None:
        raise NotImplementedError

    def _init_ops(self) -> None:
        self._runs: dict[str, FlowRunRecord] = {}
        self._shadow: dict[str, ShadowRecord] = {}
        self._scrubbed: set[int] = set()

    # -- ledger listing --------------------------------------------------------------------------
    def list_orders(
        self, statuses: Collection[OrderStatus], *, limit: int | None = None
    ) -> list[OrderRecord]:
        check_limit(limit)
        wanted = {OrderStatus(s) for s in statuses}
        with self._lock:
            self._open()
            found = sorted(
                (r for r in self._orders.values() if r.status in wanted),
                key=lambda r: (r.created_at, r.order_id),
            )
        return found[:limit]

    # -- flow runs -------------------------------------------------------------------------------
    def _run(self, flow: str) -> FlowRunRecord:
        return self._runs.get(flow) or FlowRunRecord(
            flow=flow,
            last_started_at=None,
            last_finished_at=None,
            last_succeeded_at=None,
            last_failed_at=None,
            last_failure=None,
            last_duration_seconds=None,
            last_counts={},
            runs=0,
            failures=0,
            consecutive_failures=0,
            total_seconds=0.0,
            totals={},
        )

    def start_flow_run(self, flow: str, *, now: datetime) -> None:
        check_name(flow, "flow")
        now = utc(now, "now")
        with self._lock:
            self._open()
            self._runs[flow] = attrs.evolve(self._run(flow), last_started_at=now)

    def finish_flow_run(
        self,
        flow: str,
        *,
        started_at: datetime,
        now: datetime,
        failure: str | None,
        counts: Mapping[str, int],
    ) -> FlowRunRecord:
        check_name(flow, "flow")
        started, now = utc(started_at, "started_at"), utc(now, "now")
        clean: dict[str, int] = json.loads(json_counts(counts))
        seconds = max((now - started).total_seconds(), 0.0)
        failed = failure is not None
        with self._lock:
            self._open()
            old = self._run(flow)
            totals = dict(old.totals)
            for name, value in clean.items():
                if value:
                    totals[name] = totals.get(name, 0) + value
            record = attrs.evolve(
                old,
                last_started_at=old.last_started_at or started,
                last_finished_at=now,
                last_succeeded_at=old.last_succeeded_at if failed else now,
                last_failed_at=now if failed else old.last_failed_at,
                last_failure=failure if failed else old.last_failure,
                last_duration_seconds=seconds,
                last_counts=clean,
                runs=old.runs + 1,
                failures=old.failures + int(failed),
                consecutive_failures=old.consecutive_failures + 1 if failed else 0,
                total_seconds=old.total_seconds + seconds,
                totals=dict(sorted(totals.items())),
            )
            self._runs[flow] = record
            return record

    def list_flow_runs(self) -> list[FlowRunRecord]:
        with self._lock:
            self._open()
            return [self._runs[name] for name in sorted(self._runs)]

    # -- shadow records --------------------------------------------------------------------------
    def put_shadow_orders(self, records: Sequence[ShadowRecord]) -> None:
        cleaned = [
            attrs.evolve(
                r,
                verdict=ShadowVerdict(r.verdict),
                payload=None if r.payload is None else json.loads(json_detail(r.payload)),
                recorded_at=utc(r.recorded_at, "recorded_at"),
            )
            for r in records
        ]
        with self._lock:
            self._open()
            for record in cleaned:
                self._shadow[record.order_id] = record

    def list_shadow_orders(
        self, *, since: datetime | None = None, limit: int | None = None
    ) -> list[ShadowRecord]:
        check_limit(limit)
        cutoff = None if since is None else utc(since, "since")
        with self._lock:
            self._open()
            found = sorted(
                (r for r in self._shadow.values() if cutoff is None or r.recorded_at >= cutoff),
                key=lambda r: (r.order_number or r.order_id, r.order_id),
            )
        return found[:limit]

    # -- personal data ---------------------------------------------------------------------------
    def purge_shadow_payloads(
        self,
        *,
        now: datetime,
        recorded_before: datetime | None = None,
        order_ids: Collection[str] = (),
        customer_keys: Collection[str] = (),
    ) -> int:
        now = utc(now, "now")
        cutoff = None if recorded_before is None else utc(recorded_before, "recorded_before")
        ids, keys = set(order_ids), set(customer_keys)
        purged = 0
        with self._lock:
            self._open()
            for order_id, record in list(self._shadow.items()):
                if record.payload is None and record.customer_key is None:
                    continue
                if (
                    (cutoff is not None and record.recorded_at < cutoff)
                    or order_id in ids
                    or (record.customer_key is not None and record.customer_key in keys)
                ):
                    self._shadow[order_id] = attrs.evolve(
                        record, payload=None, customer_key=None, purged_at=now
                    )
                    purged += 1
        return purged

    def scrub_exceptions(
        self,
        *,
        now: datetime,
        scrub: Callable[[dict[str, Any]], dict[str, Any]],
        note: str,
        resolved_before: datetime | None = None,
        order_ids: Collection[str] = (),
        containing: Collection[str] = (),
    ) -> int:
        utc(now, "now")
        cutoff = None if resolved_before is None else utc(resolved_before, "resolved_before")
        ids, wanted = set(order_ids), needles(containing)
        scrubbed = 0
        with self._lock:
            self._open()
            for exception_id, record in sorted(self._exceptions.items()):
                if exception_id in self._scrubbed:
                    continue
                text = json_detail(record.detail).lower()
                note_text = (record.resolution_note or "").lower()
                if not (
                    (cutoff is not None and record.resolved_at is not None
                     and record.resolved_at < cutoff)
                    or (record.order_id is not None and record.order_id in ids)
                    or any(n in text or n in note_text for n in wanted)
                ):  # fmt: skip
                    continue
                clean: dict[str, Any] = json.loads(json_detail(scrub(dict(record.detail))))
                self._exceptions[exception_id] = attrs.evolve(
                    record,
                    detail=clean,
                    resolution_note=None if record.resolution_note is None else note,
                )
                self._scrubbed.add(exception_id)
                scrubbed += 1
        return scrubbed

    def _seen_again(self, exception_id: int) -> None:
        """An exception seen again carries fresh detail: it may be scrubbed again."""
        self._scrubbed.discard(exception_id)

    def forget_customer_keys(self, keys: Collection[str]) -> int:
        with self._lock:
            self._open()
            found = [key for key in set(keys) if key in self._customers]
            for key in found:
                del self._customers[key]
            return len(found)

    def compact(self) -> None:
        with self._lock:
            self._open()
