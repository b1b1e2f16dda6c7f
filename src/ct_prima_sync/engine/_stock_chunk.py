"""One chunk of a stock run: read -> ingest -> pending -> ATS -> pure plan -> push -> record.

The order of the reads is the no-race rule of docs/stock.md ("Watermarks"):

1. the inventory entries are read first (their reservations are what commercetools has counted);
2. then orders are ingested (a catch-up poll), so every order whose reservation the entries may
   hold is in the ledger;
3. then pending is read from the ledger: every order Prima has not accepted *now*;
4. only then Prima's ATS: an order Prima accepts between 3 and 4 is counted twice for this run
   (the shop undersells by it until the next run), never not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from attrs import evolve

from ..commercetools import InventoryLevel
from ..mapping import (
    DepotMap,
    StockChange,
    StockConfig,
    StockPlan,
    plan_stock_updates,
)
from ..prima import PrimaGateway, SkuCode
from ..state import StateStore, StockSnapshot, StockUpdate
from ._clock import Clock
from ._stock_config import StockRunConfig
from ._stock_problems import StockProblemKind, StockProblems, subject_of
from ._stock_push import StockWriter, WriteOutcome, WriteResult
from ._stock_read import StockChannels
from ._stock_summary import ChangeReason, StockSummaryBuilder

__all__ = ["ChunkRunner"]

_log = logging.getLogger("ct_prima_sync.engine.stock")

Key = tuple[str, str]
Checkpoint = Callable[[str, str], None]

#: What a chunk looks at for each SKU and depot it read (or asked Prima about, when creating).
_ENTRY_KINDS: Final = (
    StockProblemKind.NOT_IN_PRIMA,
    StockProblemKind.DRIFT,
    StockProblemKind.WRITE_FAILED,
    StockProblemKind.NOT_IN_COMMERCETOOLS,
)


class ChunkRunner:
    """Plans and pushes the chunks of one run; holds what the run shares between chunks."""

    def __init__(
        self,
        *,
        store: StateStore,
        prima: PrimaGateway,
        stock: StockConfig,
        run: StockRunConfig,
        clock: Clock,
        channels: StockChannels,
        problems: StockProblems,
        summary: StockSummaryBuilder,
        writer: StockWriter | None,
        ingest: Callable[[], int],
        keep_alive: Callable[[], None],
        checkpoint: Checkpoint,
    ) -> None:
        self._store = store
        self._prima = prima
        self._stock = stock
        self._run = run
        self._clock = clock
        self._channels = channels
        self._problems = problems
        self._summary = summary
        self._writer = writer
        self._ingest = ingest
        self._keep_alive = keep_alive
        self._checkpoint = checkpoint
        self._depots: DepotMap = stock.depots
        self._chunks = 0
        self.asked_prima = False
        """Whether the run has asked Prima anything (so an answer proves it is back)."""
        # channel id (None: entries without a channel) -> (the mapping's name, its depot)
        self._channel_depots: dict[str | None, tuple[str, str]] = {}
        for channel_id, name in channels.names.items():
            depot = stock.depots.depot_for_channel(name)
            if depot is not None:
                self._channel_depots[channel_id] = (name, depot)
        # The plan runs on the entries as the client read them, keyed by channel id: the same
        # configuration with the depots' channels named by id ("" for no channel).
        by_id = {
            depot: channels.ids[name] or ""
            for depot, name in stock.depots.stock_channels.items()
            if name in channels.ids
        }
        self._plan_config = evolve(stock, depots=evolve(stock.depots, stock_channels=by_id))

    @property
    def dry_run(self) -> bool:
        """Whether the run only plans."""
        return self._writer is None

    def chunk(self, levels: Sequence[InventoryLevel], *, asked: Sequence[str]) -> None:
        """Plan and push one chunk: the SKUs ``asked`` and their entries ``levels``, read just
        now. Prima stock of those SKUs without an entry is planned as a create (or reported)."""
        self._chunks += 1
        self._keep_alive()
        label = f"chunk {self._chunks}"
        # (sku, depot) -> (entry, the mapping's channel name), and the entries the plan reads.
        where = self._channel_depots
        by_key: dict[Key, InventoryLevel] = {}
        for level in levels:
            # ``level[3]``: supply_channel_id (a chunk holds thousands; attribute lookups count)
            placed = where.get(level[3])
            if placed is not None:
                by_key[level[2], placed[1]] = level
        current = list(by_key.values())
        self._summary.count("read", len(by_key))
        skus = list(dict.fromkeys(asked))
        if not skus:
            return
        self._checkpoint("stock.entries_read", label)
        if not self.dry_run:
            self._summary.count("ingested", self._ingest())
        pending = self._store.pending_stock(skus)
        self._checkpoint("stock.pending_read", label)
        to_prima = self._stock.skus.to_prima
        known: dict[tuple[str, tuple[str, ...]], str] = {}
        codes: list[SkuCode] = []
        for sku in skus:
            code = to_prima(sku)
            if code is not None and (code.product, code.matrix) not in known:
                known[(code.product, code.matrix)] = sku
                codes.append(code)
        rows = self._prima.available_to_sell(codes) if codes else []
        self.asked_prima = self.asked_prima or bool(codes)
        self._summary.count("ats_rows", len(rows))
        self._checkpoint("stock.ats_read", label)
        plan = plan_stock_updates(rows, pending, current, self._plan_config, known_skus=known)
        _log.info(
            "stock chunk planned",
            extra={"chunk": self._chunks, "entries": len(by_key), "changes": len(plan.changes)},
        )
        self._after_plan(plan, by_key=by_key, uncoded=set(skus) - set(known.values()), label=label)
        if self._problems.watching(StockProblemKind.NOT_IN_COMMERCETOOLS):
            self._problems.covered(
                [StockProblemKind.NOT_IN_COMMERCETOOLS],
                {subject_of(sku, depot) for sku in skus for depot in self._depots.stock_channels},
            )

    def _after_plan(
        self,
        plan: StockPlan,
        *,
        by_key: dict[Key, InventoryLevel],
        uncoded: set[str],
        label: str,
    ) -> None:
        ats = plan.reported
        # Prima's figures are those of the entries read and of the stock without an entry.
        keys = [*by_key, *(k for k in plan.missing_in_commercetools if k not in by_key)]
        snapshot = self._store.get_stock(keys)
        planned = {(c.sku, c.depot) for c in plan.changes}
        drift = self._compare(ats, by_key, planned, snapshot)
        self._report(plan, uncoded)
        missing = set(plan.missing_in_prima)
        for change in plan.changes:
            self._summary.reason(_reason(change, missing, drift, snapshot, ats))
        self._summary.count("planned", len(plan.changes))
        self._summary.count("unchanged", plan.unchanged)
        watching = self._problems.watching(*_ENTRY_KINDS)
        covered = {subject_of(sku, depot) for sku, depot in by_key} if watching else set()
        self._checkpoint("stock.planned", label)
        if self._writer is not None and plan.changes:
            self._keep_alive()  # a run that lost its lock must not start writing
            work = [
                (change, by_key[(change.sku, change.depot)] if not change.create else None)
                for change in plan.changes
            ]
            created: set[str] = set()
            self._writer.write_all(work, lambda result: self._on_written(result, created))
            covered |= created
        if watching:
            self._problems.covered(_ENTRY_KINDS, covered)

    def _compare(
        self,
        ats: Mapping[Key, int],
        by_key: dict[Key, InventoryLevel],
        planned: set[Key],
        snapshot: dict[Key, StockSnapshot],
    ) -> set[Key]:
        """One pass over the chunk against the snapshot: drift (returned), and, unless this is a
        dry run, the figures to record: Prima's that moved, and the figure of every entry left
        as it is (the baseline the next run's drift check compares with)."""
        tolerance = self._run.drift_tolerance
        drifted: set[Key] = set()
        updates: list[StockUpdate] = []
        record = not self.dry_run
        seen_of, ats_of = snapshot.get, ats.get
        for key, level in by_key.items():
            seen = seen_of(key)
            on_stock = level[4]  # quantity_on_stock
            available = ats_of(key)
            if seen is not None and seen.last_pushed == on_stock and seen.last_ats == available:
                continue  # the usual case: nothing moved since the last run recorded it
            last_pushed = None if seen is None else seen.last_pushed
            if last_pushed is not None and abs(on_stock - last_pushed) > tolerance:
                drifted.add(key)
                self._drifted(key, level, last_pushed)
            if not record:
                continue
            moved = available is not None and (seen is None or seen.last_ats != available)
            baseline = key not in planned and last_pushed != on_stock
            if moved or baseline:
                updates.append(
                    StockUpdate(
                        sku=key[0],
                        depot=key[1],
                        last_ats=available if moved else None,
                        last_pushed=on_stock if baseline else None,
                    )
                )
        if record:
            for key, available in ats.items():  # stock without an entry (to be created)
                if key not in by_key:
                    seen = snapshot.get(key)
                    if seen is None or seen.last_ats != available:
                        updates.append(StockUpdate(sku=key[0], depot=key[1], last_ats=available))
            if updates:
                self._store.upsert_stock(updates, now=self._clock.now())
        return drifted

    def _drifted(self, key: Key, level: InventoryLevel, last_pushed: int) -> None:
        on_stock = level.quantity_on_stock
        placed = self._channel_depots.get(level.supply_channel_id)
        self._problems.found(
            StockProblemKind.DRIFT,
            subject_of(*key),
            sku=key[0],
            depot=key[1],
            channel=placed[0] if placed else "",
            last_pushed=last_pushed,
            found=on_stock,
            difference=on_stock - last_pushed,
            message=f"quantityOnStock is {on_stock}, the stock run last set {last_pushed}: "
            "someone else writes this entry; the run puts Prima's figure back",
        )

    def _report(self, plan: StockPlan, uncoded: set[str]) -> None:
        zeroed = self._stock.zero_missing
        for sku, depot in plan.missing_in_prima:
            reason = (
                "the SKU codec has no Prima code for this SKU"
                if sku in uncoded
                else "Prima reports no stock for it"
            )
            action = "set so the shop shows 0" if zeroed else "left as it is (zero_missing off)"
            self._problems.found(
                StockProblemKind.NOT_IN_PRIMA,
                subject_of(sku, depot),
                sku=sku,
                depot=depot,
                message=f"{reason}; {action}",
            )
        if not self._stock.create_missing:
            for sku, depot in plan.missing_in_commercetools:
                self._problems.found(
                    StockProblemKind.NOT_IN_COMMERCETOOLS,
                    subject_of(sku, depot),
                    sku=sku,
                    depot=depot,
                    message="Prima has stock but commercetools has no inventory entry "
                    "(create_missing is off)",
                )
        for code in plan.unmapped_skus:
            self._problems.found(
                StockProblemKind.NOT_IN_COMMERCETOOLS,
                str(code),
                prima_sku=str(code),
                message="no commercetools SKU maps to this Prima SKU: add a sku table entry "
                "or a rule template",
            )
        for depot in plan.unpublished_depots:
            self._problems.found(
                StockProblemKind.DEPOT_UNPUBLISHED,
                depot,
                depot=depot,
                message="Prima reports stock in this depot but no supply channel receives it: "
                "add it to depots.stock_channels",
            )

    def _on_written(self, result: WriteResult, created: set[str]) -> None:
        try:
            self._record_write(result, created)
        finally:
            self._keep_alive()

    def _record_write(self, result: WriteResult, created: set[str]) -> None:
        change = result.change
        subject = subject_of(change.sku, change.depot)
        if result.outcome is WriteOutcome.FAILED:
            self._summary.count("failed")
            self._problems.found(
                StockProblemKind.WRITE_FAILED,
                subject,
                sku=change.sku,
                depot=change.depot,
                quantity_on_stock=change.quantity_on_stock,
                message="the write failed after its retries; the next run tries again",
                **(result.error or {}),
            )
            return
        if result.outcome is WriteOutcome.MISSING:
            self._summary.count("failed")
            self._problems.found(
                StockProblemKind.NOT_IN_COMMERCETOOLS,
                subject,
                sku=change.sku,
                depot=change.depot,
                message="the inventory entry was deleted in commercetools during the run "
                "(create_missing is off)",
            )
            return
        self._summary.count(str(result.outcome))
        if result.outcome is WriteOutcome.CREATED:
            created.add(subject)
        if result.on_stock is not None:
            self._store.upsert_stock(
                [StockUpdate(sku=change.sku, depot=change.depot, last_pushed=result.on_stock)],
                now=self._clock.now(),
            )


def _reason(
    change: StockChange,
    missing: set[Key],
    drift: set[Key],
    snapshot: dict[Key, StockSnapshot],
    ats: Mapping[Key, int],
) -> ChangeReason:
    key = (change.sku, change.depot)
    if change.create:
        return ChangeReason.CREATED
    if key in missing:
        return ChangeReason.NOT_IN_PRIMA
    if key in drift:
        return ChangeReason.DRIFT
    seen = snapshot.get(key)
    if seen is None or seen.last_ats is None:
        return ChangeReason.FIRST_SYNC
    if seen.last_ats != ats.get(key):
        return ChangeReason.ATS_CHANGED
    return ChangeReason.SOLD
