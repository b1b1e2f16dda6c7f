"""Going live beside an existing integration: dry runs, shadow runs and hold mode.

- A **dry run** and a **shadow run** put orders through the very same order flow as a live run
  (eligibility, mapping and every check, the depot list, customer look-ups) on a scratch ledger
  in memory, with a Prima that answers reads for real and records writes instead of sending
  them (:class:`ShadowPrima`): nothing reaches Prima, nothing is written to commercetools, and
  the real ledger, exception queue and customer map are untouched. A dry run only reports; a
  shadow run also keeps what it would have sent in the store (``shadow_orders``), which
  ``compare_with_prima`` sets against what Prima already holds.
- **Hold mode** is a live run whose orders go to Prima with ``HoldOrder=Yes``
  (:class:`HoldingPrima`): sent exactly once, through the real ledger, and held by Prima until
  someone releases them. Each held order is listed in the store too.
"""

from __future__ import annotations

import enum
import itertools
import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from attrs import evolve, field, frozen

from ..commercetools import CommercetoolsClient, Order
from ..errors import ConfigurationError
from ..mapping import MappingConfig
from ..mapping._result import to_jsonable
from ..money import Money
from ..prima import (
    CustomerDetails,
    Depot,
    DespatchDetails,
    JournalBatch,
    JournalPostingResult,
    OrderStatusReport,
    PrimaCustomer,
    PrimaGateway,
    SalesOrder,
    SkuCode,
    StockLevel,
    SubmitResult,
)
from ..state import (
    ExceptionFilter,
    MemoryStore,
    NewOrder,
    OrderStatus,
    OrderTotals,
    ShadowRecord,
    ShadowVerdict,
    StateStore,
    customer_key_for_email,
    customer_key_for_id,
)
from ._clock import Clock
from ._config import EngineConfig, WriteBack
from ._notify import Alert
from ._tracing import span

if TYPE_CHECKING:
    from ._engine import SyncEngine

__all__ = [
    "SHADOW_CURSOR",
    "GoLiveConfig",
    "GoLiveMode",
    "HoldingPrima",
    "RehearsalReport",
    "ShadowPrima",
    "rehearse",
]

_log = logging.getLogger("ct_prima_sync.engine.golive")

#: Where shadow runs poll from, apart from the live cursor.
SHADOW_CURSOR: Final = "shadow.orders.lastModifiedAt"
#: Account codes :class:`ShadowPrima` hands out for customers it would have created.
NEW_ACCOUNT_PREFIX: Final = "(new customer "
_NO_WRITE_BACK: Final = WriteBack(
    sync_channel_key=None, custom_field=None, order_state=None, transition_state_key=None
)


class GoLiveMode(enum.StrEnum):
    """``live``: orders go to Prima. ``shadow``: ``run`` rehearses instead and sends nothing.
    ``hold``: orders go to Prima with ``HoldOrder=Yes``."""

    LIVE = "live"
    SHADOW = "shadow"
    HOLD = "hold"


@frozen(kw_only=True)
class GoLiveConfig:
    """``[golive]``: the mode ``run`` works in, and the note held orders carry in Prima."""

    mode: GoLiveMode = GoLiveMode.LIVE
    hold_narrative: str = "ct-prima-sync go-live: compare with the old integration, then release"


class ShadowPrima:
    """A :class:`~ct_prima_sync.prima.PrimaGateway` that answers reads from ``prima`` and records
    writes instead of sending them: each order "submitted" is accepted with a ``shadow:``
    reference, each customer "created" gets a placeholder account. Journals are refused."""

    def __init__(self, prima: PrimaGateway) -> None:
        self._prima = prima
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self.submitted: dict[str, SalesOrder] = {}
        self.created: list[CustomerDetails] = []

    def submit_orders(self, orders: Sequence[SalesOrder]) -> list[SubmitResult]:
        """Record the orders; each is "accepted" (nothing is sent)."""
        with self._lock:
            for order in orders:
                self.submitted[order.order_number] = order
        return [
            SubmitResult(
                order_number=o.order_number,
                accepted=True,
                prima_reference=f"shadow:{o.order_number}",
            )
            for o in orders
        ]

    def create_customer(self, details: CustomerDetails) -> PrimaCustomer:
        """Record the customer that would be created; answer a placeholder account."""
        with self._lock:
            self.created.append(details)
            number = next(self._numbers)
        return PrimaCustomer(account_code=f"{NEW_ACCOUNT_PREFIX}{number})")

    def post_journal(self, batch: JournalBatch) -> JournalPostingResult:
        """Refused: a rehearsal posts nothing."""
        raise ConfigurationError("a shadow or dry run posts no journals")

    def order_status(self, order_number: str) -> OrderStatusReport:
        """Asked of Prima."""
        return self._prima.order_status(order_number)

    def despatch_details(self, order_number: str) -> DespatchDetails:
        """Asked of Prima."""
        return self._prima.despatch_details(order_number)

    def available_to_sell(self, skus: Sequence[SkuCode]) -> list[StockLevel]:
        """Asked of Prima."""
        return self._prima.available_to_sell(skus)

    def iter_available_to_sell(self, *, chunk_size: int = 500) -> Iterator[StockLevel]:
        """Asked of Prima."""
        return self._prima.iter_available_to_sell(chunk_size=chunk_size)

    def find_customer(self, *, account_code: str = "", email: str = "") -> PrimaCustomer | None:
        """Asked of Prima."""
        return self._prima.find_customer(account_code=account_code, email=email)

    def list_depots(self) -> list[Depot]:
        """Asked of Prima."""
        return self._prima.list_depots()


class HoldingPrima(ShadowPrima):
    """A live :class:`~ct_prima_sync.prima.PrimaGateway` for hold mode: every order goes to
    ``prima`` with ``HoldOrder=Yes`` and ``narrative``, and each one Prima accepts is listed in
    ``store`` (``sent_held``) for the go-live report. Everything else is ``prima``'s own."""

    def __init__(
        self, prima: PrimaGateway, *, store: StateStore, clock: Clock, narrative: str
    ) -> None:
        super().__init__(prima)
        self._store = store
        self._clock = clock
        self._narrative = narrative

    def submit_orders(self, orders: Sequence[SalesOrder]) -> list[SubmitResult]:
        """Send the orders held; list the accepted ones."""
        held = [evolve(o, hold=True, hold_narrative=self._narrative) for o in orders]
        results = self._prima.submit_orders(held)
        accepted = {r.order_number for r in results if r.accepted}
        records = [
            ShadowRecord(
                order_id=o.external_id or o.order_number,
                order_number=o.order_number,
                mode=str(GoLiveMode.HOLD),
                verdict=ShadowVerdict.SENT_HELD,
                totals=_totals(o),
                lines=len(o.lines),
                recorded_at=self._clock.now(),
            )
            for o in held
            if o.order_number in accepted
        ]
        try:
            self._store.put_shadow_orders(records)
        except Exception:  # the orders are in Prima; the ledger records them next
            _log.exception("could not list the held orders", extra={"orders": len(records)})
        return results

    def create_customer(self, details: CustomerDetails) -> PrimaCustomer:
        """Created in Prima (hold mode is live)."""
        return self._prima.create_customer(details)

    def post_journal(self, batch: JournalBatch) -> JournalPostingResult:
        """Posted to Prima."""
        return self._prima.post_journal(batch)


def _totals(order: SalesOrder) -> OrderTotals:
    gross = order.totals.gross
    return OrderTotals(
        currency=gross.currency,
        fraction_digits=gross.fraction_digits,
        net=order.totals.net.minor_units,
        tax=order.totals.tax.minor_units,
        gross=gross.minor_units,
    )


class _Silent:
    """Alerts of a rehearsal go nowhere: its exceptions are reported, not queued."""

    def notify(self, alert: Alert) -> None:
        return None


@frozen(kw_only=True)
class RehearsalReport:
    """What a dry or shadow run found: one record per order, and why it stopped early (if it
    did: ``PRIMA_UNAVAILABLE``, ``CT_UNAVAILABLE``, ``requested``)."""

    mode: str
    started_at: datetime
    finished_at: datetime
    records: tuple[ShadowRecord, ...] = field(repr=False)
    stopped: str | None = None

    def counts(self) -> dict[str, int]:
        """Orders per verdict, and how many would need a new Prima customer."""
        counts = Counter(str(r.verdict) for r in self.records)
        return {
            "would_send": counts[str(ShadowVerdict.WOULD_SEND)],
            "would_except": counts[str(ShadowVerdict.WOULD_EXCEPT)],
            "not_checked": counts[str(ShadowVerdict.NOT_CHECKED)],
            "new_customers": sum(r.new_customer for r in self.records),
        }

    def kinds(self) -> dict[str, int]:
        """Exception kinds the orders would raise, with counts."""
        return dict(sorted(Counter(k for r in self.records for k in r.kinds).items()))

    def as_dict(self, *, orders: bool = False) -> dict[str, Any]:
        """A JSON-able form (``orders``: one entry per order too, without payloads)."""
        result: dict[str, Any] = {
            "mode": self.mode,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            **self.counts(),
            "kinds": self.kinds(),
            "stopped": self.stopped,
            "sent": 0,
        }
        if orders:
            result["orders"] = [
                {
                    "order_number": r.order_number,
                    "order_id": r.order_id,
                    "verdict": str(r.verdict),
                    "kinds": list(r.kinds),
                    "gross": None if r.totals is None else _amount(r.totals),
                    "currency": None if r.totals is None else r.totals.currency,
                    "lines": r.lines,
                    "new_customer": r.new_customer,
                }
                for r in self.records
            ]
        return result


def _amount(totals: OrderTotals) -> str:
    return str(Money.of(totals.gross, totals.currency, totals.fraction_digits).to_decimal())


def rehearse(
    *,
    commercetools: CommercetoolsClient,
    prima: PrimaGateway,
    store: StateStore,
    mapping: MappingConfig,
    config: EngineConfig,
    clock: Clock,
    orders: Iterable[Order] | None = None,
    record: bool,
    max_orders: int | None = None,
) -> RehearsalReport:
    """Put orders through the order flow without sending anything (module docstring).

    ``orders`` None: the orders a run would take now (polled since the shadow cursor when
    ``record``, else since the live cursor without moving it, plus the live ledger's orders
    waiting to be sent). ``record``: keep the results in ``store`` (a shadow run) and move the
    shadow cursor; else only report (a dry run).
    """
    from ._engine import SyncEngine  # noqa: PLC0415 (the engine module uses this one)

    mode = "shadow" if record else "dry_run"
    started = clock.now()
    scratch = MemoryStore()
    shadow = ShadowPrima(prima)
    inner = SyncEngine(
        commercetools=commercetools,
        prima=shadow,
        store=scratch,
        mapping=mapping,
        config=evolve(config, write_back=_NO_WRITE_BACK),
        clock=clock,
        notifier=_Silent(),
    )
    with span("ct_prima_sync.run", flow=mode) as run_span:
        if orders is None:
            _poll_into(inner, store, scratch, config, now=clock.now(), record=record)
        else:
            for order in orders:
                inner.ingest_order(order)
        summary = inner.process_backlog(max_orders=max_orders)
        records = tuple(_records(scratch, shadow, mode, clock.now()))
        report = RehearsalReport(
            mode=mode,
            started_at=started,
            finished_at=clock.now(),
            records=records,
            stopped=summary.stopped,
        )
        run_span.set(**report.counts(), stopped=report.stopped)
    return report


def _poll_into(
    inner: SyncEngine,
    store: StateStore,
    scratch: MemoryStore,
    config: EngineConfig,
    *,
    now: datetime,
    record: bool,
) -> None:
    name = SHADOW_CURSOR if record else config.cursor_name
    cursor = store.get_cursor(name)
    if cursor is not None:
        scratch.set_cursor(config.cursor_name, cursor.value, now=now)
    if not record:  # a dry run also previews what the live ledger would send next
        waiting = store.list_orders([OrderStatus.NEW, OrderStatus.FAILED])
        scratch.ingest_many(
            [
                NewOrder(
                    order_id=r.order_id,
                    order_number=r.order_number,
                    ct_version=r.ct_version,
                    totals=r.totals,
                )
                for r in waiting
            ],
            now=now,
        )
    inner.poll_orders()
    if record:
        moved = scratch.get_cursor(config.cursor_name)
        if moved is not None:
            store.set_cursor(SHADOW_CURSOR, moved.value, now=now)


def _customer_key(order: SalesOrder) -> str | None:
    if order.customer.external_id:
        return customer_key_for_id(order.customer.external_id)
    if order.customer.email:
        return customer_key_for_email(order.customer.email)
    return None


def _payload(order: SalesOrder) -> dict[str, Any]:
    """What would be sent, as JSON-able data (a placeholder account is sent as empty)."""
    if order.customer.account_code.startswith(NEW_ACCOUNT_PREFIX):
        order = evolve(order, customer=evolve(order.customer, account_code=""))
    payload: dict[str, Any] = to_jsonable(order)
    return payload


def _records(
    scratch: MemoryStore, shadow: ShadowPrima, mode: str, now: datetime
) -> Iterator[ShadowRecord]:
    for entry in scratch.list_orders(list(OrderStatus)):
        number = entry.order_number or entry.order_id
        sent = shadow.submitted.get(number)
        kinds = tuple(
            sorted(
                {e.kind for e in scratch.list_exceptions(ExceptionFilter(order_id=entry.order_id))}
            )
        )
        if entry.status is OrderStatus.DONE and sent is not None:
            yield ShadowRecord(
                order_id=entry.order_id,
                order_number=entry.order_number,
                mode=mode,
                verdict=ShadowVerdict.WOULD_SEND,
                totals=_totals(sent),
                lines=len(sent.lines),
                new_customer=sent.customer.account_code.startswith(NEW_ACCOUNT_PREFIX),
                customer_key=_customer_key(sent),
                payload=_payload(sent),
                recorded_at=now,
            )
        else:  # held back for a person, or not judged (a system did not answer)
            yield ShadowRecord(
                order_id=entry.order_id,
                order_number=entry.order_number,
                mode=mode,
                verdict=ShadowVerdict.WOULD_EXCEPT
                if entry.status is OrderStatus.EXCEPTED
                else ShadowVerdict.NOT_CHECKED,
                kinds=kinds,
                totals=entry.totals,
                recorded_at=now,
            )
