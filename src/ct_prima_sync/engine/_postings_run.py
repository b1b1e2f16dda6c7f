"""One close of a period: read the orders' money, plan the batches (pure), record, post.

Order of work, so that a crash anywhere is harmless (docs/finance.md, "If something goes wrong"):

1. Batches closed earlier but not posted (Prima was down; the process died) are sent first,
   with the journal they were closed with: the same batch id, the same lines.
2. The candidate orders (in Prima, recent enough to still change) are read from commercetools;
   if commercetools does not answer, nothing is batched this time.
3. The entries not yet in a batch are planned into new batches (``mapping/_postings_batch.py``);
   each batch is created with its members, checked (balanced, equal to its members) and closed
   with its journal in the store *before* it is sent.
4. Each closed batch goes to the sink; only then is it marked posted. A CSV file that already
   exists for a batch not marked posted is never rewritten: Prima may have imported it, so it
   becomes a finance exception naming the file.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

from attrs import field, frozen

from ..commercetools import CommercetoolsClient
from ..errors import CommercetoolsError, PayloadError, PrimaError
from ..mapping import (
    MappingConfig,
    MissingAccount,
    PostingEntry,
    PostingMode,
    PostingPeriod,
    build_journal,
    check_batch,
    plan_batches,
)
from ..money import Money
from ..prima import JournalBatch, JournalCsvSink, JournalPostingResult, PrimaGateway
from ..state import (
    BatchMember,
    BatchStatus,
    ExceptionFilter,
    OrderRecord,
    OrderStatus,
    OrderTotals,
    Owner,
    PostingBatch,
    StateStore,
)
from ._clock import Clock
from ._postings_config import PostingBasis, PostingsConfig, PostingSink
from ._postings_journal import journal_from_json, journal_to_json
from ._postings_read import changed_since, payments_of, read_orders
from ._postings_source import order_entries

__all__ = ["BatchOutcome", "PostingKind", "PostingRun", "PostingSummary"]

_log = logging.getLogger("ct_prima_sync.engine.postings")

FLOW: Final = "postings"
_LOCK: Final = "postings"
_IN_PRIMA: Final = (OrderStatus.SUBMITTED, OrderStatus.DONE)
#: How far before the last read a close looks again for changes (clocks of two systems).
_OVERLAP: Final = timedelta(minutes=10)


class PostingKind:
    """The exception kinds of the postings flow (all owned by finance but the outage)."""

    ACCOUNT_MISSING: Final = "POSTING_ACCOUNT_MISSING"
    FILE_EXISTS: Final = "POSTING_FILE_EXISTS"
    NOT_SENT: Final = "POSTING_NOT_SENT"
    NOT_MAPPED: Final = "POSTING_NOT_MAPPED"
    BATCH_MISMATCH: Final = "POSTING_BATCH_MISMATCH"
    ORDER_NOT_FOUND: Final = "POSTING_ORDER_NOT_FOUND"


@frozen(kw_only=True)
class BatchOutcome:
    """What became of one batch in a close: ``posted``, ``blocked`` (its file exists but was
    never recorded as posted: a finance exception), ``not_sent`` (the sink failed; the next
    close sends it) or ``refused`` (it did not balance: a finance exception)."""

    batch_id: str
    currency: str
    entries: int
    gross: Money
    status: str
    reference: str = ""


@frozen(kw_only=True)
class PostingSummary:
    """What :meth:`SyncEngine.post_batches` did for one period."""

    period: str
    mode: PostingMode
    started_at: datetime
    batches: tuple[BatchOutcome, ...] = ()
    orders_read: int = 0
    entries_batched: int = 0
    late_entries: int = 0
    """Entries whose day is before the period: they arrived after their own period was closed."""
    problems: dict[str, int] = field(factory=dict)
    stopped: str | None = None
    """``CT_UNAVAILABLE`` or ``PRIMA_UNAVAILABLE`` when a system did not answer; ``running``
    when another close held the lock."""

    @property
    def posted(self) -> int:
        """How many batches were posted in this close."""
        return sum(1 for b in self.batches if b.status == "posted")

    @property
    def ok(self) -> bool:
        """True when every batch was posted and nothing stopped the close."""
        return self.stopped is None and all(b.status == "posted" for b in self.batches)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able summary."""
        return {
            "period": self.period,
            "mode": str(self.mode),
            "orders_read": self.orders_read,
            "entries_batched": self.entries_batched,
            "late_entries": self.late_entries,
            "posted": self.posted,
            "batches": [
                {
                    "batch_id": b.batch_id,
                    "currency": b.currency,
                    "entries": b.entries,
                    "gross": str(b.gross.to_decimal()),
                    "status": b.status,
                    "reference": b.reference,
                }
                for b in self.batches
            ],
            "problems": dict(sorted(self.problems.items())),
            "stopped": self.stopped,
        }


class _UnavailableError(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class PostingRun:
    """One close of a period (see the module docstring)."""

    def __init__(
        self,
        *,
        ct: CommercetoolsClient,
        prima: PrimaGateway,
        store: StateStore,
        mapping: MappingConfig,
        config: PostingsConfig,
        clock: Clock,
        worker_id: str,
    ) -> None:
        self._ct = ct
        self._store = store
        self._mapping = mapping
        self._config = config
        self._clock = clock
        self._worker = worker_id
        self._csv = JournalCsvSink(Path(config.directory), config.csv)
        self._prima = prima
        self._problems: dict[str, int] = {}
        self._read_at = clock.now()

    @property
    def kind(self) -> str:
        """The batches' kind in the store: the mode."""
        return self._config.mode.value

    def run(self, period: PostingPeriod) -> PostingSummary:
        """Close ``period``: post what is due, exactly once."""
        now = self._clock.now()
        base = PostingSummary(period=period.label, mode=self._config.mode, started_at=now)
        if not self._store.try_lock(_LOCK, owner=self._worker, ttl_seconds=900, now=now):
            return PostingSummary(
                period=period.label, mode=self._config.mode, started_at=now, stopped="running"
            )
        try:
            return self._run(period, base)
        finally:
            self._store.unlock(_LOCK, owner=self._worker)

    def _run(self, period: PostingPeriod, base: PostingSummary) -> PostingSummary:
        outcomes: list[BatchOutcome] = []
        stopped: str | None = None
        try:
            outcomes.extend(
                self._send(waiting)
                for waiting in self._store.list_batches(kind=self.kind)
                if waiting.status is BatchStatus.CLOSED
            )
            records = self._candidates(period)
            entries = self._entries(records)
            self._store.set_cursor(self._cursor, self._read_at.isoformat(), now=self._read_at)
        except _UnavailableError as down:
            return _with(base, outcomes, problems=self._problems, stopped=down.kind)
        batched = {
            (m.order_id, m.entry)
            for _, m in self._store.entries_of([r.order_id for r in records], kind=self.kind)
        }
        sequences: dict[str, int] = {}
        for earlier in self._store.list_batches(kind=self.kind, period=period.label):
            sequences[earlier.currency] = max(sequences.get(earlier.currency, 0), earlier.sequence)
        planned = plan_batches(
            entries, mode=self._config.mode, period=period, batched=batched, sequences=sequences
        )
        late = 0
        count = 0
        for plan in planned:
            late += sum(1 for e in plan.entries if e.on < period.start)
            count += len(plan.entries)
            closed = self._record(plan.batch_id, plan.entries, period, plan.currency, plan.sequence)
            if closed is None:
                digits = plan.entries[0].fraction_digits
                outcomes.append(
                    BatchOutcome(
                        batch_id=plan.batch_id,
                        currency=plan.currency,
                        entries=len(plan.entries),
                        gross=Money.of(plan.gross, plan.currency, digits),
                        status="refused",
                    )
                )
                continue
            try:
                outcomes.append(self._send(closed))
            except _UnavailableError as down:
                stopped = down.kind
                break
        return _with(
            base,
            outcomes,
            problems=self._problems,
            stopped=stopped,
            orders_read=len(records),
            entries_batched=count,
            late_entries=late,
        )

    # -- reading ------------------------------------------------------------------------------
    def _candidates(self, period: PostingPeriod) -> list[OrderRecord]:
        """The orders to read: in Prima and within the look-back; after the first close only
        those without a batched entry yet and those commercetools changed since the last read
        (the order, or one of its payments), so a close costs what changed, not the month."""
        zone = self._config.zone
        start = datetime.combine(period.start, time(), zone)
        cutoff = start - timedelta(days=self._config.lookback_days)
        recent = [r for r in self._store.list_orders(_IN_PRIMA) if r.created_at >= cutoff]
        cursor = self._store.get_cursor(self._cursor)
        # The next close reads again what changed after this period ended: a refund dated after
        # it is read now but belongs to a later period, whose close must still find it.
        self._read_at = min(self._clock.now(), datetime.combine(period.end, time(), zone))
        if cursor is None:
            return recent
        since = datetime.fromisoformat(cursor.value) - _OVERLAP
        try:
            changed = changed_since(self._ct, since)
        except PayloadError:
            raise
        except CommercetoolsError as exc:
            _log.warning("commercetools did not answer: %s", type(exc).__name__)
            raise _UnavailableError("CT_UNAVAILABLE") from None
        batched = {
            m.order_id
            for _, m in self._store.entries_of([r.order_id for r in recent], kind=self.kind)
        }
        return [r for r in recent if r.order_id in changed or r.order_id not in batched]

    @property
    def _cursor(self) -> str:
        return f"postings.{self.kind}.readAt"

    def _entries(self, records: Sequence[OrderRecord]) -> list[PostingEntry]:
        now = self._clock.now()
        despatch = (
            self._store.get_dispatches([r.order_id for r in records])
            if self._config.effective_basis is PostingBasis.DESPATCH
            else {}
        )
        missing_orders: set[str] = set()
        entries: list[PostingEntry] = []
        try:
            orders = read_orders(self._ct, [r.order_id for r in records])
            payments = payments_of(self._ct, list(orders.values()))
        except PayloadError:
            raise
        except CommercetoolsError as exc:
            _log.warning("commercetools did not answer: %s", type(exc).__name__)
            raise _UnavailableError("CT_UNAVAILABLE") from None
        for record in records:
            order = orders.get(record.order_id)
            if order is None:
                self._problem(
                    PostingKind.ORDER_NOT_FOUND,
                    record.order_id,
                    {},
                    "the order is in Prima but no longer in commercetools: post it by hand",
                )
                continue
            record_despatch = despatch.get(record.order_id)
            made = order_entries(
                order,
                payments=payments.get(order.id, ()),
                config=self._config,
                mapping=self._mapping,
                despatched_on=record_despatch.first_despatched_on if record_despatch else None,
            )
            if made.unmapped:
                self._problem(
                    PostingKind.NOT_MAPPED,
                    record.order_id,
                    {"issues": list(made.unmapped)},
                    "the order no longer maps; fix it as its exception says, then close again",
                )
                continue
            built, missing = made.entries, made.missing
            entries += built
            for gap in missing:
                missing_orders.add(gap.order_id)
                self._missing(gap, now)
        self._resolve_fixed(records, missing_orders, now)
        return entries

    def _missing(self, gap: MissingAccount, now: datetime) -> None:
        where = f"{gap.role}" + (f" {gap.key!r}" if gap.key else "")
        self._store.record_exception(
            kind=PostingKind.ACCOUNT_MISSING,
            owner=Owner.FINANCE,
            detail={
                "flow": FLOW,
                "entry": gap.entry,
                "role": str(gap.role),
                "key": gap.key,
                "amount": str(gap.amount.to_decimal()),
                "currency": gap.amount.currency,
                "message": f"no account for {where}: add it under [postings.accounts]",
            },
            now=now,
            order_id=gap.order_id,
            subject=f"{gap.role}:{gap.key}",
        )
        self._count(PostingKind.ACCOUNT_MISSING)

    def _resolve_fixed(
        self, records: Sequence[OrderRecord], still_missing: set[str], now: datetime
    ) -> None:
        read = {r.order_id for r in records}
        for exc in self._store.list_exceptions(ExceptionFilter(kind=PostingKind.ACCOUNT_MISSING)):
            if exc.order_id in read and exc.order_id not in still_missing:
                self._store.resolve_exception(
                    exc.exception_id, note="the account is configured now", now=now
                )

    # -- recording and sending -----------------------------------------------------------------
    def _record(
        self,
        batch_id: str,
        entries: Sequence[PostingEntry],
        period: PostingPeriod,
        currency: str,
        sequence: int,
    ) -> PostingBatch | None:
        now = self._clock.now()
        self._store.create_batch(
            batch_id,
            kind=self.kind,
            now=now,
            period=period.label,
            currency=currency,
            sequence=sequence,
        )
        self._store.add_to_batch(
            batch_id,
            [
                BatchMember(
                    order_id=e.order_id,
                    entry=e.entry,
                    totals=OrderTotals(
                        currency=e.currency,
                        fraction_digits=e.fraction_digits,
                        net=e.net,
                        tax=e.tax,
                        gross=e.gross,
                    ),
                )
                for e in entries
            ],
        )
        journal = build_journal(
            batch_id,
            entries,
            posting_date=period.last_day,
            currency=currency,
            description=f"web shop {self.kind} {period.label} {currency}",
        )
        recorded = sum(m.totals.gross for m in self._store.batch_members(batch_id))
        try:
            check_batch(journal, members_gross=recorded)
        except PayloadError as exc:
            self._problem(PostingKind.BATCH_MISMATCH, None, {"batch": batch_id}, str(exc))
            return None
        return self._store.close_batch(batch_id, now=now, journal=journal_to_json(journal))

    def _send(self, batch: PostingBatch) -> BatchOutcome:
        if batch.journal is None:  # closed by an older version: nothing to send it with
            return BatchOutcome(
                batch_id=batch.batch_id,
                currency=batch.currency,
                entries=0,
                gross=Money.zero(batch.currency or "XXX", 0),
                status="not_sent",
            )
        journal = journal_from_json(batch.journal)
        members = self._store.batch_members(batch.batch_id)
        gross = _gross(journal, members)
        outcome = BatchOutcome(
            batch_id=batch.batch_id,
            currency=journal.currency,
            entries=len(members),
            gross=gross,
            status="posted",
        )
        if not journal.lines:  # only zero entries: nothing to send, nothing owed
            self._store.mark_batch_posted(batch.batch_id, reference="", now=self._clock.now())
            return outcome
        if self._config.sink is PostingSink.CSV:
            target = self._csv.path_for(batch.batch_id)
            if target.exists():
                self._problem(
                    PostingKind.FILE_EXISTS,
                    None,
                    {"batch": batch.batch_id, "file": str(target)},
                    f"{target} exists but was never recorded as posted: check whether Prima "
                    "imported it, then confirm the batch or move the file away",
                    subject=batch.batch_id,
                )
                return _evolve(outcome, status="blocked", reference=target.name)
            result = self._csv.post_journal(journal)
        else:
            result = self._post(journal)
        self._store.mark_batch_posted(
            batch.batch_id, reference=result.prima_reference, now=self._clock.now()
        )
        self._resolve_subject(PostingKind.NOT_SENT, batch.batch_id)
        return _evolve(outcome, reference=result.prima_reference)

    def _post(self, journal: JournalBatch) -> JournalPostingResult:
        try:
            return self._prima.post_journal(journal)
        except PrimaError as exc:
            self._problem(
                PostingKind.NOT_SENT,
                None,
                {"batch": journal.batch_id, "error": type(exc).__name__},
                "Prima did not take the journal; the next close sends the same batch again",
                subject=journal.batch_id,
                owner=Owner.OPERATIONS,
                transient=True,
            )
            raise _UnavailableError("PRIMA_UNAVAILABLE") from None

    # -- exceptions ---------------------------------------------------------------------------
    def _count(self, kind: str) -> None:
        self._problems[kind] = self._problems.get(kind, 0) + 1

    def _problem(
        self,
        kind: str,
        order_id: str | None,
        detail: dict[str, Any],
        message: str,
        *,
        subject: str | None = None,
        owner: Owner = Owner.FINANCE,
        transient: bool = False,
    ) -> None:
        self._store.record_exception(
            kind=kind,
            owner=owner,
            detail={**detail, "flow": FLOW, "message": message},
            now=self._clock.now(),
            order_id=order_id,
            subject=subject,
            transient=transient,
        )
        self._count(kind)

    def _resolve_subject(self, kind: str, subject: str) -> None:
        for exc in self._store.list_exceptions(ExceptionFilter(kind=kind, subject=subject)):
            self._store.resolve_exception(
                exc.exception_id, note="the batch is posted now", now=self._clock.now()
            )


def _gross(journal: JournalBatch, members: Sequence[BatchMember]) -> Money:
    digits = members[0].totals.fraction_digits if members else 0
    return Money.of(sum(m.totals.gross for m in members), journal.currency, digits)


def _evolve(outcome: BatchOutcome, **changes: Any) -> BatchOutcome:
    import attrs  # noqa: PLC0415

    return attrs.evolve(outcome, **changes)


def _with(base: PostingSummary, outcomes: list[BatchOutcome], **changes: Any) -> PostingSummary:
    import attrs  # noqa: PLC0415

    return attrs.evolve(base, batches=tuple(outcomes), **changes)
