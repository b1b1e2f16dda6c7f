"""The stock flow: Prima's available-to-sell reaches commercetools inventory (design invariant 4).

A run, under the store's ``stock`` lease lock (one run at a time, renewed while it lasts):

1. resolves the supply channels the mapping sends each depot's stock to;
2. lists the SKUs commercetools sells (every SKU with an entry in those channels, or the SKUs
   asked for) and, for each chunk of them, reads their entries (chunked predicates), ingests
   orders, reads pending, reads Prima's ATS for them (``MultiAvailableToSell``), plans (pure),
   pushes the changes and records them (``_stock_chunk``). Each chunk is read afresh when its
   turn comes: only the SKU list lives for the whole run;
3. on its own slower schedule (``catalogue_every_seconds``) reads Prima's whole catalogue
   (``ProductAvailableToSell``, streamed) to find stock commercetools has no entry for, and
   runs those SKUs through step 2, creating their entries.

A system that does not answer stops the run: what was pushed stays pushed, the rest waits for the
next run, and the outage is the one open PRIMA_UNAVAILABLE / CT_UNAVAILABLE exception (shared
with the order run; a later run both systems answer closes it). Any other failed read (a refusal,
an unreadable reply) is a STOCK_RUN_FAILED exception. A failed write is counted and raised as a
STOCK_WRITE_FAILED exception; the run goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Final

from ..commercetools import CommercetoolsClient
from ..commercetools._query import chunked
from ..errors import (
    CommercetoolsError,
    CommercetoolsTransportError,
    ConfigurationError,
    PrimaError,
    PrimaUnavailableError,
    RateLimitedError,
    ServiceUnavailableError,
)
from ..mapping import StockConfig
from ..prima import PrimaGateway
from ..state import StateStore
from ._breaker import resolve_outages
from ._clock import Clock
from ._locks import LockLostError
from ._problems import ProblemKind
from ._stock_chunk import ChunkRunner
from ._stock_config import StockRunConfig
from ._stock_problems import RUN_SUBJECT, StockProblemKind, StockProblems, record_outage
from ._stock_push import StockWriter
from ._stock_read import StockChannels, entries_of, managed_skus, resolve_channels
from ._stock_summary import StockRunStatus, StockSummaryBuilder

__all__ = ["CATALOGUE_CURSOR", "StockFlow"]

_log = logging.getLogger("ct_prima_sync.engine.stock")

#: The cursor holding when the whole catalogue was last checked.
CATALOGUE_CURSOR: Final = "stock.catalogueCheckedAt"

Checkpoint = Callable[[str, str], None]


def _no_checkpoint(_step: str, _subject: str) -> None:
    return None


class StockFlow:
    """Runs stock runs for one engine (the engine takes the lock and builds the summary)."""

    def __init__(
        self,
        *,
        ct: CommercetoolsClient,
        prima: PrimaGateway,
        store: StateStore,
        stock: StockConfig,
        config: StockRunConfig,
        clock: Clock,
        ingest: Callable[[bool], int],
        checkpoint: Checkpoint | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self._ct = ct
        self._prima = prima
        self._store = store
        self._stock = stock
        self._config = config
        self._clock = clock
        self._ingest = ingest
        self._checkpoint = checkpoint or _no_checkpoint
        self._should_stop = should_stop

    def run(
        self,
        summary: StockSummaryBuilder,
        *,
        skus: Iterable[str] | None,
        catalogue: bool | None,
        keep_alive: Callable[[], None],
    ) -> None:
        """One run into ``summary``; ``keep_alive`` renews the run's lock (raises
        :class:`LockLostError` when it was lost)."""
        wanted = None if skus is None else _skus(skus)
        dry_run = summary.dry_run
        problems = StockProblems(self._store, self._clock, summary, record=not dry_run)
        writer: StockWriter | None = None
        stage = "inventory"
        try:
            channels = resolve_channels(self._ct, self._stock.depots)
            writer = (
                None
                if dry_run
                else StockWriter(
                    ct=self._ct, stock=self._stock, run=self._config, checkpoint=self._checkpoint
                )
            )
            runner = self._runner(summary, channels, problems, writer, keep_alive)
            self._chunks_of(runner, channels, wanted or managed_skus(self._ct, channels))
            if wanted is None:
                problems.covered_all([StockProblemKind.DEPOT_UNPUBLISHED])
            if self._catalogue_due(catalogue, wanted):
                stage = "catalogue"
                self._catalogue(runner, channels, problems, summary)
            problems.covered_all([StockProblemKind.RUN_FAILED])
            if not dry_run:
                self._answered(prima=runner.asked_prima)
        except PrimaUnavailableError as error:
            self._down(summary, ProblemKind.PRIMA_UNAVAILABLE, stage, error)
        except (CommercetoolsTransportError, ServiceUnavailableError, RateLimitedError) as error:
            self._down(summary, ProblemKind.CT_UNAVAILABLE, stage, error)
        except (PrimaError, CommercetoolsError) as error:
            summary.status = StockRunStatus.INCOMPLETE
            summary.error = f"{type(error).__name__}: {error}"
            problems.found(
                StockProblemKind.RUN_FAILED,
                RUN_SUBJECT,
                stage=stage,
                error=type(error).__name__,
                message=f"the stock run stopped early: {error}",
            )
            _log.warning("stock run stopped early", extra={"error": type(error).__name__})
        except LockLostError:
            summary.status = StockRunStatus.LOCK_LOST
            _log.warning("stock run lost its lock to another run; stopped")
        except _StopRequestedError:
            summary.status = StockRunStatus.STOPPED
            _log.info("stock run stopped on request after the chunk in hand")
        finally:
            if writer is not None:
                writer.close()

    def _runner(
        self,
        summary: StockSummaryBuilder,
        channels: StockChannels,
        problems: StockProblems,
        writer: StockWriter | None,
        keep_alive: Callable[[], None],
    ) -> ChunkRunner:
        polls = {"done": 0}

        def ingest() -> int:
            first = polls["done"] == 0
            polls["done"] += 1
            return self._ingest(first)

        return ChunkRunner(
            store=self._store,
            prima=self._prima,
            stock=self._stock,
            run=self._config,
            clock=self._clock,
            channels=channels,
            problems=problems,
            summary=summary,
            writer=writer,
            ingest=ingest,
            keep_alive=keep_alive,
            checkpoint=self._checkpoint,
        )

    def _down(
        self, summary: StockSummaryBuilder, kind: ProblemKind, stage: str, error: Exception
    ) -> None:
        """A system did not answer: the run stops, and the outage is the one open exception of
        that system's kind (the order run's, when it already recorded it)."""
        system = "Prima" if kind is ProblemKind.PRIMA_UNAVAILABLE else "commercetools"
        summary.status = StockRunStatus.INCOMPLETE
        summary.outage = kind.value
        summary.error = f"{type(error).__name__}: {error}"
        summary.problem(kind.value)
        _log.warning("stock run stopped: %s did not answer", system, extra={"stage": stage})
        if summary.dry_run:
            return
        record_outage(
            self._store,
            kind,
            detail={
                "message": f"{system} did not answer the stock run ({stage}); it stopped, and "
                "the next run after it answers again carries on",
                "system": system,
                "stage": stage,
                "error": type(error).__name__,
            },
            now=self._clock.now(),
        )

    def _answered(self, *, prima: bool) -> None:
        """Both systems answered a whole run: an outage recorded earlier is over."""
        now = self._clock.now()
        resolve_outages(self._store, ProblemKind.CT_UNAVAILABLE, now=now)
        if prima:
            resolve_outages(self._store, ProblemKind.PRIMA_UNAVAILABLE, now=now)

    def _chunks_of(self, runner: ChunkRunner, channels: StockChannels, skus: list[str]) -> None:
        size = self._config.chunk_size
        for start in range(0, len(skus), size):
            if self._should_stop():
                raise _StopRequestedError
            part = skus[start : start + size]
            levels = entries_of(self._ct, channels, part, self._config.query_chunk_size)
            runner.chunk(levels, asked=part)

    def _catalogue_due(self, catalogue: bool | None, skus: list[str] | None) -> bool:
        if catalogue is not None:
            return catalogue
        every = self._config.catalogue_every_seconds
        if skus is not None or not every:
            return False
        checked = self._store.get_cursor(CATALOGUE_CURSOR)
        if checked is None:
            return True
        return self._clock.now() - datetime.fromisoformat(checked.value) >= timedelta(seconds=every)

    def _catalogue(
        self,
        runner: ChunkRunner,
        channels: StockChannels,
        problems: StockProblems,
        summary: StockSummaryBuilder,
    ) -> None:
        """Prima's whole catalogue, streamed: SKUs with stock in a depot whose channel has no
        entry go through the chunk pipeline, which creates their entries (or reports them).
        Prima SKUs no commercetools SKU maps to, and depots no channel receives, are reported
        here."""
        depots = self._stock.depots
        default = depots.default or ""
        missing: dict[str, None] = {}
        rows = 0
        runner.asked_prima = True
        for batch in chunked(self._prima.iter_available_to_sell(), self._config.chunk_size):
            rows += len(batch)
            by_sku: dict[str, set[str]] = {}
            for row in batch:
                depot = row.depot or default
                channel = depots.channel_for(depot)
                sku = self._stock.skus.to_commercetools(row.sku)
                if sku is None:
                    problems.found(
                        StockProblemKind.NOT_IN_COMMERCETOOLS,
                        str(row.sku),
                        prima_sku=str(row.sku),
                        message="no commercetools SKU maps to this Prima SKU: add a sku table "
                        "entry or a rule template",
                    )
                elif channel is None:
                    problems.found(
                        StockProblemKind.DEPOT_UNPUBLISHED,
                        depot,
                        depot=depot,
                        message="Prima reports stock in this depot but no supply channel "
                        "receives it: add it to depots.stock_channels",
                    )
                else:
                    by_sku.setdefault(sku, set()).add(channel)
            existing = {
                (level.sku, channels.name_of(level))
                for level in entries_of(
                    self._ct, channels, list(by_sku), self._config.query_chunk_size
                )
            }
            for sku, wanted in by_sku.items():
                if any((sku, channel) not in existing for channel in wanted):
                    missing[sku] = None
        summary.catalogue_rows = rows
        _log.info("stock catalogue read", extra={"rows": rows, "missing_skus": len(missing)})
        self._chunks_of(runner, channels, list(missing))
        problems.covered_all(
            [StockProblemKind.NOT_IN_COMMERCETOOLS, StockProblemKind.DEPOT_UNPUBLISHED]
        )
        if not runner.dry_run:
            now = self._clock.now()
            self._store.set_cursor(CATALOGUE_CURSOR, now.isoformat(), now=now)


class _StopRequestedError(Exception):
    """``request_stop`` was called: leave between two chunks."""


def _skus(skus: Iterable[str]) -> list[str]:
    if isinstance(skus, str):
        raise ConfigurationError("skus must be a list of SKUs, not one string")
    found = list(dict.fromkeys(skus))
    for sku in found:
        if not isinstance(sku, str) or not sku:
            raise ConfigurationError("skus must be non-empty strings")
    return found
