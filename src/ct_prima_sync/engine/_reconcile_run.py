"""Reconciling a period: read the three sides, match them (``mapping/_reconcile.py``), repair.

commercetools' side is read from commercetools itself (orders created in the period, in the
business's timezone), so an order the engine never saw is found; the ledger and the posting
batches come from the store; Prima is asked for each order's status, and its list of the
period's orders comes from a listing the host provides or Prima's own export file.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from attrs import frozen

from ..commercetools import CommercetoolsClient, Order
from ..errors import CommercetoolsError, ConfigurationError, CtPrimaSyncError, PrimaError
from ..mapping import (
    BatchCheck,
    MappingConfig,
    PostingPeriod,
    PrimaListedOrder,
    ReconciledOrder,
    Reconciliation,
    journal_money_side,
    match_orders,
)
from ..money import Money, default_fraction_digits
from ..prima import OrderStatus, PrimaGateway
from ..state import BatchStatus, StateStore
from ._postings_config import PostingsConfig
from ._postings_journal import journal_from_json
from ._postings_read import payments_of
from ._postings_source import order_entries, reversal_due

__all__ = ["PRIMA_EXPORT_COLUMNS", "ReconciliationReport", "read_prima_export", "reconcile_period"]

_log = logging.getLogger("ct_prima_sync.engine.reconcile")

#: The columns of a Prima export file ``reconcile`` reads (a header row names them; others are
#: ignored): the order number, the order date (YYYY-MM-DD), the currency and the gross.
PRIMA_EXPORT_COLUMNS = ("order_number", "order_date", "currency", "gross")


@frozen(kw_only=True)
class ReconciliationReport:
    """A period's reconciliation: the matching, what ``repair`` ingested, and errors that stopped
    a side from being read (then nothing is concluded: exit 2)."""

    period: str
    result: Reconciliation | None
    repaired: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def balanced(self) -> bool:
        """True when all sides were read, nothing differs and every currency balances."""
        return not self.errors and self.result is not None and self.result.balanced

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able report."""
        result = self.result
        return {
            "period": self.period,
            "balanced": self.balanced,
            "errors": list(self.errors),
            "repaired": list(self.repaired),
            "not_run": list(result.not_run) if result else [],
            "totals": [
                {
                    "currency": t.currency,
                    "orders": t.orders,
                    "matched": t.matched,
                    "commercetools": str(t.commercetools.to_decimal()),
                    "ledger": str(t.ledger.to_decimal()),
                    "expected_postings": str(t.expected.to_decimal()),
                    "posted": str(t.posted.to_decimal()),
                    "balanced": t.balanced,
                }
                for t in (result.totals if result else ())
            ],
            "gaps": [
                {
                    "type": str(g.type),
                    "owner": g.owner,
                    "currency": g.currency,
                    "order_number": g.order_number,
                    "order_id": g.order_id,
                    "batch_id": g.batch_id,
                    "difference": "" if g.difference is None else str(g.difference.to_decimal()),
                    "detail": g.detail,
                }
                for g in (result.gaps if result else ())
            ],
        }


def read_prima_export(path: Path, period: PostingPeriod | None = None) -> list[PrimaListedOrder]:
    """The orders of a Prima export file (CSV with a header row naming
    :data:`PRIMA_EXPORT_COLUMNS`), those dated in ``period`` when given. Raises
    :class:`ConfigurationError` naming the file and line of anything it cannot read."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
            header = rows[0].keys() if rows else set()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the Prima export {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error):
        raise ConfigurationError(f"the Prima export {path} is not UTF-8 CSV") from None
    missing = [c for c in PRIMA_EXPORT_COLUMNS if rows and c not in header]
    if missing:
        raise ConfigurationError(
            f"the Prima export {path} lacks the columns {', '.join(missing)} (it needs "
            f"{', '.join(PRIMA_EXPORT_COLUMNS)})"
        )
    listed = []
    for number, row in enumerate(rows, start=2):
        try:
            day = date.fromisoformat(row["order_date"].strip()[:10])
            currency = row["currency"].strip().upper()
            gross = Money.from_decimal(
                Decimal(row["gross"].strip()), currency, default_fraction_digits(currency)
            )
        except (ValueError, ArithmeticError, CtPrimaSyncError) as exc:
            # a wrong date, currency code or amount (too many digits for the currency)
            raise ConfigurationError(f"the Prima export {path} line {number}: {exc}") from None
        if period is None or day in period:
            listed.append(
                PrimaListedOrder(
                    order_number=row["order_number"].strip(), currency=currency, gross=gross
                )
            )
    return listed


def reconcile_period(
    *,
    ct: CommercetoolsClient,
    prima: PrimaGateway,
    store: StateStore,
    mapping: MappingConfig,
    config: PostingsConfig,
    period: PostingPeriod,
    prima_orders: Sequence[PrimaListedOrder] | None,
    eligible: Callable[[Order], bool],
    repair: Callable[[Order], bool] | None,
) -> ReconciliationReport:
    """See :meth:`SyncEngine.reconcile`."""
    zone = config.zone
    start = datetime.combine(period.start, time(), zone)
    end = datetime.combine(period.end, time(), zone)
    errors: list[str] = []
    try:
        orders = list(
            ct.orders.query(
                "createdAt >= :ctpsFrom and createdAt < :ctpsTo",
                variables={"ctpsFrom": start, "ctpsTo": end},
            )
        )
        sides = _Sides(ct=ct, prima=prima, store=store, mapping=mapping, config=config)
        rows = sides.rows(period, orders, prima_orders or (), eligible)
    except CommercetoolsError as exc:
        _log.warning("commercetools did not answer the reconciliation: %s", type(exc).__name__)
        return ReconciliationReport(
            period=period.label,
            result=None,
            errors=(f"commercetools did not answer ({type(exc).__name__})",),
        )
    except PrimaError as exc:
        return ReconciliationReport(
            period=period.label,
            result=None,
            errors=(f"Prima did not answer ({type(exc).__name__})",),
        )
    known = []
    if prima_orders is not None:
        numbers = {o.order_number for o in orders if o.order_number}
        known = [
            listed.order_number
            for listed in prima_orders
            if listed.order_number not in numbers
            and store.get_order_by_number(listed.order_number) is not None
        ]
    result = match_orders(
        rows,
        batches=_batch_checks(store, config, period),
        prima_listing=prima_orders,
        known_numbers=known,
    )
    repaired: list[str] = []
    if repair is not None:
        by_id = {o.id: o for o in orders}
        repaired = [
            gap.order_number
            for gap in result.gaps
            if str(gap.type) == "orphan" and gap.order_id in by_id and repair(by_id[gap.order_id])
        ]
    return ReconciliationReport(
        period=period.label, result=result, repaired=tuple(repaired), errors=tuple(errors)
    )


@frozen(kw_only=True)
class _Sides:
    ct: CommercetoolsClient
    prima: PrimaGateway
    store: StateStore
    mapping: MappingConfig
    config: PostingsConfig

    def rows(
        self,
        period: PostingPeriod,
        orders: Sequence[Order],
        prima_orders: Iterable[PrimaListedOrder],
        eligible: Callable[[Order], bool],
    ) -> list[ReconciledOrder]:
        """One matched row per commercetools order of the period."""
        listed = {o.order_number: o.gross.minor_units for o in prima_orders}
        return _rows(self, period, orders, listed, eligible)


def _rows(
    sides: _Sides,
    period: PostingPeriod,
    orders: Sequence[Order],
    listed: dict[str, int],
    eligible: Callable[[Order], bool],
) -> list[ReconciledOrder]:
    ct, prima, store = sides.ct, sides.prima, sides.store
    mapping, config = sides.mapping, sides.config
    ids = [o.id for o in orders]
    batched: dict[str, list[tuple[str, int]]] = {}
    for _, member in store.entries_of(ids, kind=config.mode.value):
        batched.setdefault(member.order_id, []).append((member.entry, member.totals.gross))
    despatch = store.get_dispatches(ids)
    paid = payments_of(ct, orders)
    rows = []
    for order in orders:
        record = store.get_order(order.id)
        number = order.order_number or order.id
        ct_gross = order.total_price.minor_units
        if record is None:
            rows.append(
                ReconciledOrder(
                    order_id=order.id,
                    order_number=number,
                    currency=order.total_price.currency,
                    fraction_digits=order.total_price.fraction_digits,
                    ct_gross=ct_gross,
                    eligible=eligible(order),
                )
            )
            continue
        in_prima = record.prima_reference is not None and (
            prima.order_status(number).status is not OrderStatus.UNKNOWN_TO_PRIMA
        )
        payments = paid.get(order.id, ())
        followed = despatch.get(order.id)
        made = order_entries(
            order,
            payments=payments,
            config=config,
            mapping=mapping,
            despatched_on=followed.first_despatched_on if followed else None,
        )
        rows.append(
            ReconciledOrder(
                order_id=order.id,
                order_number=number,
                currency=order.total_price.currency,
                fraction_digits=order.total_price.fraction_digits,
                ct_gross=ct_gross,
                eligible=True,
                ledger_gross=record.totals.gross,
                in_prima=in_prima,
                prima_gross=listed.get(number),
                expected=tuple((e.entry, e.gross) for e in made.entries if e.on < period.end),
                batched=tuple(batched.get(order.id, ())),
                reversal_due=reversal_due(order),
            )
        )
    return rows


def _batch_checks(
    store: StateStore, config: PostingsConfig, period: PostingPeriod
) -> list[BatchCheck]:
    checks = []
    for batch in store.list_batches(kind=config.mode.value):
        if batch.status is not BatchStatus.POSTED or batch.journal is None or not batch.period:
            continue
        try:
            within = PostingPeriod.parse(batch.period)
        except ConfigurationError:
            continue
        if not (period.start <= within.start and within.end <= period.end):
            continue
        journal = journal_from_json(batch.journal)
        members = store.batch_members(batch.batch_id)
        digits = members[0].totals.fraction_digits if members else 0
        checks.append(
            BatchCheck(
                batch_id=batch.batch_id,
                currency=journal.currency,
                fraction_digits=digits,
                journal_gross=journal_money_side(journal),
                members_gross=sum(m.totals.gross for m in members),
            )
        )
    return checks
