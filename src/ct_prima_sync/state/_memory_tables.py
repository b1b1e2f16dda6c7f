"""Customer map, cursors, stock snapshot, posting batches and flow locks for the memory store."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from ..errors import DuplicateRecordError, StateError
from ._common import check_seconds
from ._records import (
    BatchMember,
    BatchStatus,
    CursorValue,
    CustomerMapping,
    PostingBatch,
    StockSnapshot,
    StockUpdate,
    utc,
)


class MemoryTablesMixin:
    """The non-ledger tables of :class:`MemoryStore`, guarded by the store's lock."""

    _lock: threading.RLock

    def _open(self) -> None:
        raise NotImplementedError

    def _init_tables(self) -> None:
        self._customers: dict[str, CustomerMapping] = {}
        self._cursors: dict[str, CursorValue] = {}
        self._stock: dict[tuple[str, str], StockSnapshot] = {}
        self._batches: dict[str, PostingBatch] = {}
        self._members: dict[str, dict[tuple[str, str], BatchMember]] = {}
        self._batch_index: dict[tuple[str, str, str], str] = {}
        self._order_entries: dict[str, set[tuple[str, str]]] = {}
        self._locks: dict[str, tuple[str, datetime]] = {}

    # -- customer map, cursors -------------------------------------------------------------------
    def put_customer(self, key: str, account_code: str, *, now: datetime) -> None:
        mapping = CustomerMapping(key=key, account_code=account_code, updated_at=utc(now, "now"))
        with self._lock:
            self._open()
            self._customers[key] = mapping

    def get_customer(self, key: str) -> CustomerMapping | None:
        with self._lock:
            self._open()
            return self._customers.get(key)

    def get_customers(self, keys: Iterable[str]) -> dict[str, CustomerMapping]:
        with self._lock:
            self._open()
            return {k: m for k in keys if (m := self._customers.get(k)) is not None}

    def rename_customer_keys(
        self, prefix: str, rename: Callable[[str], str], *, now: datetime
    ) -> int:
        now = utc(now, "now")
        with self._lock:
            self._open()
            old = sorted(k for k in self._customers if k.startswith(prefix))
            renamed = {key: new for key in old if (new := rename(key)) != key}
            for key, new_key in renamed.items():
                mapping = self._customers.pop(key)
                if new_key not in self._customers:
                    self._customers[new_key] = attrs.evolve(mapping, key=new_key, updated_at=now)
            return len(renamed)

    def set_cursor(self, name: str, value: str, *, now: datetime) -> None:
        cursor = CursorValue(name=name, value=value, updated_at=utc(now, "now"))
        with self._lock:
            self._open()
            self._cursors[name] = cursor

    def get_cursor(self, name: str) -> CursorValue | None:
        with self._lock:
            self._open()
            return self._cursors.get(name)

    # -- stock snapshot --------------------------------------------------------------------------
    def get_stock(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], StockSnapshot]:
        with self._lock:
            self._open()
            return {k: self._stock[k] for k in keys if k in self._stock}

    def upsert_stock(self, updates: Sequence[StockUpdate], *, now: datetime) -> None:
        now = utc(now, "now")
        with self._lock:
            self._open()
            for u in updates:
                old = self._stock.get((u.sku, u.depot))
                self._stock[(u.sku, u.depot)] = StockSnapshot(
                    sku=u.sku,
                    depot=u.depot,
                    last_ats=u.last_ats if u.last_ats is not None or old is None else old.last_ats,
                    last_pushed=(
                        u.last_pushed
                        if u.last_pushed is not None or old is None
                        else old.last_pushed
                    ),
                    updated_at=now,
                )

    # -- posting batches -------------------------------------------------------------------------
    def create_batch(
        self,
        batch_id: str,
        *,
        kind: str,
        now: datetime,
        period: str = "",
        currency: str = "",
        sequence: int = 0,
    ) -> PostingBatch:
        batch = PostingBatch(
            batch_id=batch_id,
            kind=kind,
            status=BatchStatus.OPEN,
            created_at=utc(now, "now"),
            closed_at=None,
            posted_at=None,
            prima_reference=None,
            period=period,
            currency=currency,
            sequence=sequence,
        )
        with self._lock:
            self._open()
            if batch_id in self._batches:
                raise DuplicateRecordError(f"batch {batch_id} already exists")
            self._batches[batch_id] = batch
            self._members[batch_id] = {}
            return batch

    def _batch(self, batch_id: str) -> PostingBatch:
        batch = self._batches.get(batch_id)
        if batch is None:
            raise StateError(f"unknown batch {batch_id}")
        return batch

    def add_to_batch(self, batch_id: str, members: Sequence[BatchMember]) -> None:
        with self._lock:
            self._open()
            batch = self._batch(batch_id)
            if batch.status is not BatchStatus.OPEN:
                raise StateError(f"batch {batch_id} is {batch.status}, not open")
            seen: set[tuple[str, str]] = set()
            for m in members:
                key = (m.order_id, m.entry)
                if (batch.kind, *key) in self._batch_index or key in seen:
                    raise DuplicateRecordError(
                        f"order {m.order_id} is already in a {batch.kind} batch"
                    )
                seen.add(key)
            for m in members:
                self._members[batch_id][(m.order_id, m.entry)] = m
                self._batch_index[(batch.kind, m.order_id, m.entry)] = batch_id
                self._order_entries.setdefault(m.order_id, set()).add((batch.kind, m.entry))

    def _move_batch(self, batch_id: str, expected: BatchStatus, **changes: Any) -> PostingBatch:
        with self._lock:
            self._open()
            batch = self._batch(batch_id)
            if batch.status is not expected:
                raise StateError(f"batch {batch_id} is {batch.status}, not {expected}")
            moved = attrs.evolve(batch, **changes)
            self._batches[batch_id] = moved
            return moved

    def close_batch(
        self, batch_id: str, *, now: datetime, journal: str | None = None
    ) -> PostingBatch:
        return self._move_batch(
            batch_id,
            BatchStatus.OPEN,
            status=BatchStatus.CLOSED,
            closed_at=utc(now, "now"),
            journal=journal,
        )

    def mark_batch_posted(self, batch_id: str, *, reference: str, now: datetime) -> PostingBatch:
        return self._move_batch(
            batch_id,
            BatchStatus.CLOSED,
            status=BatchStatus.POSTED,
            posted_at=utc(now, "now"),
            prima_reference=reference,
        )

    def get_batch(self, batch_id: str) -> PostingBatch | None:
        with self._lock:
            self._open()
            return self._batches.get(batch_id)

    def list_batches(
        self, *, kind: str | None = None, period: str | None = None
    ) -> list[PostingBatch]:
        with self._lock:
            self._open()
            return [
                b
                for _, b in sorted(self._batches.items())
                if (kind is None or b.kind == kind) and (period is None or b.period == period)
            ]

    def batch_members(self, batch_id: str) -> list[BatchMember]:
        with self._lock:
            self._open()
            return [m for _, m in sorted(self._members.get(batch_id, {}).items())]

    def batch_of(self, order_id: str, *, kind: str, entry: str = "") -> str | None:
        with self._lock:
            self._open()
            return self._batch_index.get((kind, order_id, entry))

    def entries_of(self, order_ids: Iterable[str], *, kind: str) -> list[tuple[str, BatchMember]]:
        with self._lock:
            self._open()
            found = []
            for order_id in sorted(set(order_ids)):
                for entry_kind, entry in sorted(self._order_entries.get(order_id, ())):
                    if entry_kind != kind:
                        continue
                    batch_id = self._batch_index[(kind, order_id, entry)]
                    found.append((batch_id, self._members[batch_id][(order_id, entry)]))
            return found

    # -- singleton-flow locks --------------------------------------------------------------------
    def try_lock(self, name: str, *, owner: str, ttl_seconds: float, now: datetime) -> bool:
        check_seconds(ttl_seconds, "ttl_seconds")
        now = utc(now, "now")
        with self._lock:
            self._open()
            held = self._locks.get(name)
            if held is not None and held[0] != owner and held[1] > now:
                return False
            self._locks[name] = (owner, now + timedelta(seconds=ttl_seconds))
            return True

    def unlock(self, name: str, *, owner: str) -> bool:
        with self._lock:
            self._open()
            held = self._locks.get(name)
            if held is None or held[0] != owner:
                return False
            del self._locks[name]
            return True
