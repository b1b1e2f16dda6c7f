"""Sending the stock plan's writes: a bounded pool of writers over the one commercetools client.

Rules:

1. A quantity is always set (``changeQuantity`` with the version read), never added or removed,
   so a write that is sent twice cannot apply twice.
2. The figure sent is the target plus the reservations the entry held when it was read. A 409
   therefore reads the entry again and decides the figure afresh (:func:`replan_change`); when
   the fresh read shows the entry already right, nothing more is sent.
3. An entry deleted between the read and the write is created again (with the target: a new
   entry holds no reservations) when missing entries are created, else it is reported.
4. A create that finds the entry already there (someone made it meanwhile) becomes an update
   of that entry.
5. Nothing here raises for a failed write: each write ends as a :class:`WriteResult`; only a
   crash (a ``BaseException`` from the checkpoint hook) leaves the pool.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any

from attrs import frozen

from ..commercetools import (
    ChangeQuantity,
    CommercetoolsClient,
    InventoryEntry,
    InventoryEntryDraft,
    InventoryLevel,
    InventoryUpdateAction,
    ResourceIdentifier,
    SetExpectedDelivery,
    SetRestockableInDays,
)
from ..errors import (
    CommercetoolsApiError,
    CommercetoolsError,
    ConcurrentModificationError,
    NotFoundError,
)
from ..mapping import CurrentStock, StockChange, StockConfig, replan_change
from ._stock_config import StockRunConfig
from ._stock_problems import subject_of
from ._stock_read import current_stock, delivery_date, delivery_time

__all__ = ["StockWriter", "WriteOutcome", "WriteResult"]

#: Called after each write commercetools accepted, with (step, subject); tests crash there.
Checkpoint = Callable[[str, str], None]


class WriteOutcome(enum.StrEnum):
    """How one planned write ended."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    """A fresh read (after a conflict) showed the entry already right."""
    MISSING = "missing"
    """The entry was deleted meanwhile and missing entries are not created."""
    FAILED = "failed"


@frozen(kw_only=True)
class WriteResult:
    """One write's end: ``on_stock`` is the entry's quantityOnStock afterwards (None when it
    failed or is missing); ``error`` the redacted facts of a failure."""

    change: StockChange
    outcome: WriteOutcome
    on_stock: int | None = None
    error: dict[str, Any] | None = None


class _Latest:
    """What a write with conflicts ended up sending, and the entry's quantity it last saw."""

    def __init__(self, change: StockChange, on_stock: int) -> None:
        self.change = change
        self.on_stock = on_stock


def _actions(change: StockChange) -> list[InventoryUpdateAction]:
    actions: list[InventoryUpdateAction] = []
    if change.changes_quantity:
        actions.append(ChangeQuantity(quantity=change.quantity_on_stock))
    if change.update_expected_delivery:
        actions.append(
            SetExpectedDelivery(expected_delivery=delivery_time(change.expected_delivery))
        )
    if change.update_restockable:
        actions.append(SetRestockableInDays(restockable_in_days=change.restockable_in_days))
    return actions


def _failure(error: CommercetoolsError, attempts: int | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "error": type(error).__name__,
        "correlation_id": error.correlation_id,
    }
    if isinstance(error, CommercetoolsApiError):
        detail["status_code"] = error.status_code
        detail["codes"] = list(error.codes)
    if attempts is not None:
        detail["attempts"] = attempts
    return detail


class StockWriter:
    """Writes planned changes with at most ``concurrency`` in flight; ``close`` when done."""

    def __init__(
        self,
        *,
        ct: CommercetoolsClient,
        stock: StockConfig,
        run: StockRunConfig,
        checkpoint: Checkpoint,
    ) -> None:
        self._ct = ct
        self._stock = stock
        self._run = run
        self._checkpoint = checkpoint
        # One writer needs no hand-offs: with concurrency 1 the caller's thread writes.
        self._pool = (
            ThreadPoolExecutor(max_workers=run.concurrency, thread_name_prefix="ct-prima-stock")
            if run.concurrency > 1
            else None
        )

    def close(self) -> None:
        """Stop the pool; writes not yet started are dropped (the next run plans them again)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def write_all(
        self,
        work: Iterable[tuple[StockChange, InventoryLevel | None]],
        on_result: Callable[[WriteResult], None],
    ) -> None:
        """Send every write; ``on_result`` sees each result in the caller's thread."""
        if self._pool is None:
            for change, level in work:
                on_result(self.write(change, level))
            return
        futures: list[Future[WriteResult]] = [
            self._pool.submit(self.write, change, level) for change, level in work
        ]
        for future in as_completed(futures):
            on_result(future.result())

    def write(self, change: StockChange, level: InventoryLevel | None) -> WriteResult:
        """One planned write: ``level`` is the entry as read (None to create it)."""
        try:
            result = self._create(change) if level is None else self._update(change, level)
        except ConcurrentModificationError as error:
            return WriteResult(
                change=change,
                outcome=WriteOutcome.FAILED,
                error=_failure(error, attempts=self._run.max_write_attempts),
            )
        except CommercetoolsError as error:
            return WriteResult(change=change, outcome=WriteOutcome.FAILED, error=_failure(error))
        if result.outcome in (WriteOutcome.CREATED, WriteOutcome.UPDATED):
            self._checkpoint("stock.pushed", subject_of(change.sku, change.depot))
        return result

    def _fresh(self, entry: InventoryEntry, channel: str) -> CurrentStock:
        return CurrentStock(
            entry.sku,
            channel,
            entry.quantity_on_stock,
            entry.available_quantity,
            delivery_date(entry.expected_delivery),
            entry.restockable_in_days,
        )

    def _update(self, change: StockChange, level: InventoryLevel) -> WriteResult:
        latest = _Latest(change, level.quantity_on_stock)

        def decide_again(fresh: InventoryEntry) -> list[InventoryUpdateAction]:
            latest.on_stock = fresh.quantity_on_stock
            again = replan_change(change, self._fresh(fresh, change.channel), self._stock)
            if again is None:
                return []
            latest.change = again
            return _actions(again)

        try:
            entry = self._ct.inventory.update_resolving_conflicts(
                level.id,
                level.version,
                _actions(change),
                reread=decide_again,
                max_attempts=self._run.max_write_attempts,
                retry_ambiguous=True,
            )
        except NotFoundError:
            if not self._stock.create_missing:
                return WriteResult(change=change, outcome=WriteOutcome.MISSING)
            target = change.target
            return self._create(
                change._replace(
                    quantity_on_stock=target, expected_available=target, current_on_stock=None
                )
            )
        if entry is None:
            return WriteResult(
                change=latest.change, outcome=WriteOutcome.UNCHANGED, on_stock=latest.on_stock
            )
        return WriteResult(
            change=latest.change, outcome=WriteOutcome.UPDATED, on_stock=entry.quantity_on_stock
        )

    def _create(self, change: StockChange) -> WriteResult:
        channel_id = change.channel or None  # the plan names channels by id
        draft = InventoryEntryDraft(
            sku=change.sku,
            quantity_on_stock=change.quantity_on_stock,
            supply_channel=None
            if channel_id is None
            else ResourceIdentifier.channel(id=channel_id),
            expected_delivery=(
                delivery_time(change.expected_delivery) if change.update_expected_delivery else None
            ),
            restockable_in_days=change.restockable_in_days if change.update_restockable else None,
        )
        try:
            created = self._ct.inventory.create(draft)
        except CommercetoolsApiError as error:
            if "DuplicateField" not in error.codes:
                raise
            return self._update_existing(change)
        return WriteResult(
            change=change, outcome=WriteOutcome.CREATED, on_stock=created.quantity_on_stock
        )

    def _update_existing(self, change: StockChange) -> WriteResult:
        """A create found the entry there already (rule 4): update that entry instead."""
        channel_id = change.channel or None
        where = "sku = :sku and " + (
            "supplyChannel is not defined" if channel_id is None else "supplyChannel(id = :channel)"
        )
        variables: dict[str, Any] = {"sku": change.sku}
        if channel_id is not None:
            variables["channel"] = channel_id
        found = list(self._ct.inventory.levels(where, variables=variables))
        if not found:  # not visible to queries yet: the next run finds it
            return WriteResult(
                change=change,
                outcome=WriteOutcome.FAILED,
                error={"error": "DuplicateField", "hint": "created meanwhile, not visible yet"},
            )
        level = found[0]
        again = replan_change(change, current_stock(level, change.channel), self._stock)
        if again is None:
            return WriteResult(
                change=change, outcome=WriteOutcome.UNCHANGED, on_stock=level.quantity_on_stock
            )
        return self._update(again, level)
