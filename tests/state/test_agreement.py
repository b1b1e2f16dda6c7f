"""Memory, SQLite and PostgreSQL stores agree on every sequence of operations.

A hypothesis state machine applies the same random operations to every store and checks, after
each step, that they returned the same results (or raised the same exception class) and hold the
same state. The memory store is the reference; see STYLE.md item 11.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ct_prima_sync.errors import CtPrimaSyncError
from ct_prima_sync.state import (
    BatchMember,
    ExceptionFilter,
    ExceptionRecord,
    HeldOrder,
    HoldReason,
    MemoryStore,
    OrderLine,
    OrderStatus,
    OrderTotals,
    Owner,
    SqliteStore,
    StateStore,
    StockUpdate,
)

from .conftest import T0, TABLES, order

ORDERS = range(6)
# Few distinct durations, so that a clock landing exactly on a lease's or retry's end (the
# boundary where stores could disagree) is common.
SECONDS = st.sampled_from([0, 1, 10, 30, 60])
LEASES = st.sampled_from([1, 10, 30, 60])
WORKERS = st.sampled_from(["w1", "w2", "w3"])
KINDS = st.sampled_from(["tax", "sku", "customer"])
OWNERS = st.sampled_from(list(Owner))
# Exceptions about ledger orders (recording an order's Prima reference resolves them), about
# orders the ledger does not know, and about none.
ORDER_REFS = st.one_of(st.none(), st.sampled_from(["order-00001", "order-00002", "o1"]))
CUSTOMER_KEYS = ("id:1", "id:2", "id:1x", "id:2x", "id:2xx", "id:1xx", "id:2x2")
SUBJECTS = st.one_of(st.none(), st.sampled_from(["A@D1", "B@D2"]))
LINES = st.lists(
    st.builds(
        lambda sku, depot, quantity: OrderLine(sku=sku, depot=depot, quantity=quantity),
        st.sampled_from(["A", "B", "C"]),
        st.sampled_from(["D1", "D2", ""]),
        st.integers(0, 3),
    ),
    max_size=4,
)
STOCK_KEYS = [(s, d) for s in ("A", "B", "C") for d in ("D1", "D2")]
BATCHES = st.sampled_from(["B1", "B2", "B3"])
SETTINGS = settings(
    max_examples=40,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return ("ok", call())
    except CtPrimaSyncError as exc:
        return ("error", type(exc).__name__)


class StoresAgree(RuleBasedStateMachine):
    """Drives every store with the same operations."""

    extra_store: StateStore | None = None  # the PostgreSQL store, emptied for every example

    def __init__(self) -> None:
        super().__init__()
        self.stores: list[StateStore] = [MemoryStore(), SqliteStore(":memory:")]
        if self.extra_store is not None:
            self.stores.append(self.extra_store)
        self.clock = 0.0
        # (order id, worker) pairs the reference store leased: rules act on these more often,
        # so sequences reach the deep states (submitting, failed, done) quickly.
        self.leased: list[tuple[str, str]] = []

    @property
    def now(self) -> datetime:
        moment: datetime = T0 + timedelta(seconds=self.clock)
        return moment

    def _same(self, call: Callable[[StateStore], Any]) -> None:
        outcomes = [self._normalise(s, _outcome(partial(call, s))) for s in self.stores]
        assert all(o == outcomes[0] for o in outcomes), outcomes

    def _exception_ids(self, store: StateStore) -> list[int]:
        return [e.exception_id for e in store.list_exceptions(ExceptionFilter(open_only=False))]

    def _normalise(self, store: StateStore, value: Any) -> Any:
        # Exception ids are increasing but need not be contiguous (PostgreSQL sequences skip):
        # compare them by position.
        if isinstance(value, ExceptionRecord):
            return attrs.evolve(
                value, exception_id=self._exception_ids(store).index(value.exception_id)
            )
        if isinstance(value, tuple | list):
            return type(value)(self._normalise(store, v) for v in value)
        return value

    @initialize(count=st.integers(0, 4))
    def backlog(self, count: int) -> None:
        # Most sequences start with work to do, so claims and transitions get somewhere.
        self._same(lambda s: s.ingest_many([order(n) for n in range(count)], now=self.now))

    # -- time ------------------------------------------------------------------------------------
    @rule(seconds=SECONDS)
    def advance(self, seconds: int) -> None:
        self.clock += seconds

    # -- ledger ----------------------------------------------------------------------------------
    @rule(n=st.sampled_from(ORDERS), version=st.integers(1, 3), numbered=st.booleans())
    def ingest(self, n: int, version: int, numbered: bool) -> None:
        # Order 5 reuses order 0's number when numbered: a duplicate number.
        number = f"N{n % 5}" if numbered else None
        self._same(lambda s: s.ingest(order(n, version=version, number=number), now=self.now))

    @rule(n=st.sampled_from(ORDERS), version=st.integers(1, 3), lines=LINES)
    def ingest_with_lines(self, n: int, version: int, lines: list[OrderLine]) -> None:
        with_lines = attrs.evolve(order(n, version=version), lines=tuple(lines))
        self._same(lambda s: s.ingest(with_lines, now=self.now))

    @rule(skus=st.one_of(st.none(), st.lists(st.sampled_from(["A", "B", "C", "Z"]), max_size=3)))
    def pending_stock(self, skus: list[str] | None) -> None:
        self._same(lambda s: s.pending_stock(skus))

    @rule(
        page=st.lists(
            st.tuples(
                st.sampled_from(ORDERS), st.integers(1, 3), st.sampled_from(HoldReason), LINES
            ),
            max_size=3,
        ),
        checked=st.booleans(),
    )
    def hold_orders(
        self, page: list[tuple[int, int, HoldReason, list[OrderLine]]], checked: bool
    ) -> None:
        held = [
            HeldOrder(
                order_id=f"order-{n:05d}",
                order_number=f"N{n % 5}",
                ct_version=version,
                reason=reason,
                lines=tuple(lines),
            )
            for n, version, reason, lines in page
        ]
        self._same(lambda s: s.hold_orders(held, now=self.now, checked=checked))

    @rule(orders=st.lists(st.sampled_from(ORDERS), max_size=3))
    def release_held(self, orders: list[int]) -> None:
        self._same(lambda s: s.release_held([f"order-{n:05d}" for n in orders]))

    @rule(before=st.one_of(st.none(), SECONDS), limit=st.one_of(st.none(), st.integers(1, 3)))
    def held_orders(self, before: int | None, limit: int | None) -> None:
        moment = None if before is None else T0 + timedelta(seconds=before)
        self._same(lambda s: s.held_orders(checked_before=moment, limit=limit))

    @rule(page=st.lists(st.tuples(st.sampled_from(ORDERS), st.integers(1, 3)), max_size=4))
    def ingest_page(self, page: list[tuple[int, int]]) -> None:
        orders = [order(n, version=v, number=f"N{n % 5}") for n, v in page]
        self._same(lambda s: s.ingest_many(orders, now=self.now))

    @rule(worker=WORKERS, lease=LEASES, limit=st.integers(1, 4))
    def claim(self, worker: str, lease: int, limit: int) -> None:
        self._same(lambda s: s.claim(worker, lease_seconds=lease, limit=limit, now=self.now))
        claimed = self.stores[0].get_order  # the reference store already applied the claim
        self.leased = [
            (f"order-{n:05d}", worker)
            for n in ORDERS
            if (r := claimed(f"order-{n:05d}")) is not None and r.lease_owner == worker
        ] or self.leased

    @precondition(lambda self: bool(self.leased))
    @rule(
        data=st.data(),
        to=st.sampled_from(
            [
                OrderStatus.MAPPED,
                OrderStatus.CUSTOMER_RESOLVED,
                OrderStatus.FAILED,
                OrderStatus.DONE,
                OrderStatus.EXCEPTED,
            ]
        ),
        retry=st.one_of(st.none(), SECONDS),
    )
    def work_on_leased(self, data: st.DataObject, to: OrderStatus, retry: int | None) -> None:
        order_id, worker = data.draw(st.sampled_from(self.leased))
        retry_at = None if retry is None else self.now + timedelta(seconds=retry)
        self._same(
            lambda s: s.transition(
                order_id, worker_id=worker, to=to, now=self.now, retry_at=retry_at
            )
        )

    def _next_step(self, data: st.DataObject, ref: str) -> None:
        order_id, worker = data.draw(st.sampled_from(self.leased))
        current = self.stores[0].get_order(order_id)
        status = current.status if current else OrderStatus.NEW
        if status is OrderStatus.CUSTOMER_RESOLVED:
            self._same(
                lambda s: s.begin_submission(
                    order_id, worker_id=worker, now=self.now, lease_seconds=60
                )
            )
        elif status is OrderStatus.SUBMITTING:
            self._same(
                lambda s: s.record_prima_reference(
                    order_id, worker_id=worker, reference=ref, now=self.now
                )
            )
        else:
            to = {
                OrderStatus.CLAIMED: OrderStatus.MAPPED,
                OrderStatus.MAPPED: OrderStatus.CUSTOMER_RESOLVED,
            }.get(status, OrderStatus.DONE)
            self._same(lambda s: s.transition(order_id, worker_id=worker, to=to, now=self.now))

    # The happy path is listed twice so that sequences walk it often enough to reach its end.
    @precondition(lambda self: bool(self.leased))
    @rule(data=st.data(), ref=st.sampled_from(["SO-1", "SO-2", "SO-3"]))
    def next_step(self, data: st.DataObject, ref: str) -> None:
        self._next_step(data, ref)

    @precondition(lambda self: bool(self.leased))
    @rule(data=st.data(), ref=st.sampled_from(["SO-1", "SO-2", "SO-3"]))
    def next_step_again(self, data: st.DataObject, ref: str) -> None:
        self._next_step(data, ref)

    @precondition(lambda self: bool(self.leased))
    @rule(data=st.data(), ref=st.sampled_from(["SO-1", "SO-2", "SO-3"]), begin=st.booleans())
    def submit_leased(self, data: st.DataObject, ref: str, begin: bool) -> None:
        order_id, worker = data.draw(st.sampled_from(self.leased))
        if begin:
            self._same(lambda s: s.begin_submission(order_id, worker_id=worker, now=self.now))
        else:
            self._same(
                lambda s: s.record_prima_reference(
                    order_id, worker_id=worker, reference=ref, now=self.now
                )
            )

    @rule(
        n=st.sampled_from(ORDERS),
        worker=WORKERS,
        to=st.sampled_from(list(OrderStatus)),
        retry=st.one_of(st.none(), SECONDS),
        error=st.one_of(st.none(), st.text(max_size=5, alphabet="abc")),
    )
    def transition(
        self, n: int, worker: str, to: OrderStatus, retry: int | None, error: str | None
    ) -> None:
        retry_at = None if retry is None else self.now + timedelta(seconds=retry)
        self._same(
            lambda s: s.transition(
                f"order-{n:05d}",
                worker_id=worker,
                to=to,
                now=self.now,
                error=error,
                retry_at=retry_at,
            )
        )

    @rule(n=st.sampled_from(ORDERS), worker=WORKERS, lease=st.one_of(st.none(), LEASES))
    def begin_submission(self, n: int, worker: str, lease: int | None) -> None:
        self._same(
            lambda s: s.begin_submission(
                f"order-{n:05d}", worker_id=worker, now=self.now, lease_seconds=lease
            )
        )

    @rule(n=st.sampled_from(ORDERS), worker=WORKERS, ref=st.sampled_from(["SO-1", "SO-2", ""]))
    def record_reference(self, n: int, worker: str, ref: str) -> None:
        self._same(
            lambda s: s.record_prima_reference(
                f"order-{n:05d}", worker_id=worker, reference=ref, now=self.now
            )
        )

    @rule(
        ns=st.lists(st.sampled_from(ORDERS), max_size=4),
        worker=WORKERS,
        lease=st.one_of(st.none(), LEASES),
        again=st.booleans(),
    )
    def begin_submissions(self, ns: list[int], worker: str, lease: int | None, again: bool) -> None:
        self._same(
            lambda s: s.begin_submissions(
                [f"order-{n:05d}" for n in ns],
                worker_id=worker,
                now=self.now,
                lease_seconds=lease,
                again=again,
            )
        )

    @precondition(lambda self: bool(self.leased))
    @rule(data=st.data(), lease=st.one_of(st.none(), LEASES))
    def begin_leased_together(self, data: st.DataObject, lease: int | None) -> None:
        worker = data.draw(st.sampled_from(self.leased))[1]
        ids = [order_id for order_id, holder in self.leased if holder == worker]
        self._same(
            lambda s: s.begin_submissions(ids, worker_id=worker, now=self.now, lease_seconds=lease)
        )

    @rule(
        pairs=st.lists(
            st.tuples(st.sampled_from(ORDERS), st.sampled_from(["SO-1", "SO-2", "SO-3", ""])),
            max_size=4,
        ),
        worker=WORKERS,
    )
    def record_references(self, pairs: list[tuple[int, str]], worker: str) -> None:
        self._same(
            lambda s: s.record_prima_references(
                [(f"order-{n:05d}", ref) for n, ref in pairs], worker_id=worker, now=self.now
            )
        )

    @precondition(lambda self: bool(self.leased))
    @rule(data=st.data())
    def record_leased_together(self, data: st.DataObject) -> None:
        worker = data.draw(st.sampled_from(self.leased))[1]
        ids = [order_id for order_id, holder in self.leased if holder == worker]
        pairs = [(order_id, f"SO-{order_id[-1]}") for order_id in ids]
        self._same(lambda s: s.record_prima_references(pairs, worker_id=worker, now=self.now))

    @rule(n=st.sampled_from(ORDERS), worker=WORKERS, lease=LEASES)
    def claim_one(self, n: int, worker: str, lease: int) -> None:
        order_id = f"order-{n:05d}"
        self._same(lambda s: s.claim_order(order_id, worker, lease_seconds=lease, now=self.now))
        record = self.stores[0].get_order(order_id)
        if record is not None and record.lease_owner == worker:
            self.leased = [(order_id, worker)]

    @rule(n=st.sampled_from(ORDERS), worker=WORKERS, lease=LEASES)
    def renew(self, n: int, worker: str, lease: int) -> None:
        self._same(
            lambda s: s.renew_lease(
                f"order-{n:05d}", worker_id=worker, lease_seconds=lease, now=self.now
            )
        )

    @rule(n=st.sampled_from(ORDERS), worker=WORKERS)
    def release(self, n: int, worker: str) -> None:
        self._same(lambda s: s.release_lease(f"order-{n:05d}", worker_id=worker, now=self.now))

    @rule(n=st.sampled_from(ORDERS))
    def requeue(self, n: int) -> None:
        self._same(lambda s: s.requeue_order(f"order-{n:05d}", now=self.now))

    # -- exception queue -------------------------------------------------------------------------
    @rule(
        kind=KINDS,
        owner=OWNERS,
        order_id=ORDER_REFS,
        transient=st.booleans(),
        retry=st.one_of(st.none(), SECONDS),
        value=st.integers(-(2**40), 2**40),
        subject=SUBJECTS,
    )
    def record_exception(  # noqa: PLR0917 (hypothesis passes rule arguments by name)
        self,
        kind: str,
        owner: Owner,
        order_id: str | None,
        transient: bool,
        retry: int | None,
        value: int,
        subject: str | None,
    ) -> None:
        retry_at = None if retry is None else self.now + timedelta(seconds=retry)
        self._same(
            lambda s: s.record_exception(
                kind=kind,
                owner=owner,
                detail={"value": value, "list": [kind]},
                now=self.now,
                order_id=order_id,
                transient=transient,
                next_retry_at=retry_at,
                subject=subject,
            )
        )

    @precondition(lambda self: bool(self.leased))
    @rule(data=st.data(), kind=KINDS, transient=st.booleans())
    def record_exception_on_leased(self, data: st.DataObject, kind: str, transient: bool) -> None:
        # A problem with an order being worked on: recording its Prima reference resolves it.
        order_id, _ = data.draw(st.sampled_from(self.leased))
        self._same(
            lambda s: s.record_exception(
                kind=kind,
                owner=Owner.OPERATIONS,
                detail={"order": order_id},
                now=self.now,
                order_id=order_id,
                transient=transient,
            )
        )

    @rule(position=st.integers(0, 6), note=st.text(max_size=5, alphabet="xyz"))
    def resolve(self, position: int, note: str) -> None:
        def call(s: StateStore) -> Any:
            ids = self._exception_ids(s)
            exception_id = ids[position] if position < len(ids) else 10_000
            return s.resolve_exception(exception_id, note=note, now=self.now)

        self._same(call)

    @rule(
        kind=st.one_of(st.none(), KINDS),
        owner=st.one_of(st.none(), OWNERS),
        order_id=ORDER_REFS,
        subject=SUBJECTS,
    )
    def replay(
        self, kind: str | None, owner: Owner | None, order_id: str | None, subject: str | None
    ) -> None:
        where = ExceptionFilter(kind=kind, owner=owner, order_id=order_id, subject=subject)

        def call(s: StateStore) -> Any:
            ids = self._exception_ids(s)
            return [ids.index(i) for i in s.mark_for_replay(where, now=self.now)]

        self._same(call)

    # -- the other tables ------------------------------------------------------------------------
    @rule(key=st.sampled_from(["id:1", "id:2"]), code=st.sampled_from(["C1", "C2"]))
    def put_customer(self, key: str, code: str) -> None:
        self._same(lambda s: s.put_customer(key, code, now=self.now))

    @rule(prefix=st.sampled_from(["id:", "id:1", "email-"]), append=st.booleans())
    def rename_customer_keys(self, prefix: str, append: bool) -> None:
        # Replacing 1 by 2 renames id:1 onto id:2 (the mapping already there stays) and id:2
        # onto itself (nothing to do).
        def rename(key: str) -> str:
            return key + "x" if append else key.replace("1", "2")

        self._same(lambda s: s.rename_customer_keys(prefix, rename, now=self.now))

    @rule(name=st.sampled_from(["orders", "stock"]), value=st.text(max_size=5, alphabet="0123"))
    def set_cursor(self, name: str, value: str) -> None:
        self._same(lambda s: s.set_cursor(name, value, now=self.now))

    @rule(
        updates=st.lists(
            st.builds(
                lambda key, ats, pushed: StockUpdate(
                    sku=key[0], depot=key[1], last_ats=ats, last_pushed=pushed
                ),
                st.sampled_from(STOCK_KEYS),
                st.one_of(st.none(), st.integers(-5, 100)),
                st.one_of(st.none(), st.integers(0, 100)),
            ),
            max_size=5,
        )
    )
    def upsert_stock(self, updates: list[StockUpdate]) -> None:
        self._same(lambda s: s.upsert_stock(updates, now=self.now))

    @rule(
        batch=BATCHES,
        kind=st.sampled_from(["revenue", "fees"]),
        period=st.sampled_from(["", "2026-11", "2026-11-03"]),
    )
    def create_batch(self, batch: str, kind: str, period: str) -> None:
        self._same(
            lambda s: s.create_batch(
                batch, kind=kind, now=self.now, period=period, currency="JPY", sequence=len(batch)
            )
        )

    @rule(
        batch=BATCHES,
        members=st.lists(
            st.tuples(st.sampled_from(["o1", "o2", "o3"]), st.sampled_from(["", "sale", "cancel"])),
            max_size=3,
        ),
        gross=st.integers(-50, 50),
    )
    def add_to_batch(self, batch: str, members: list[tuple[str, str]], gross: int) -> None:
        totals = OrderTotals(currency="JPY", fraction_digits=0, net=gross, tax=0, gross=gross)
        entries = [BatchMember(order_id=o, totals=totals, entry=e) for o, e in members]
        self._same(lambda s: s.add_to_batch(batch, entries))

    @rule(batch=BATCHES, journal=st.sampled_from([None, '{"lines": []}']))
    def close_batch(self, batch: str, journal: str | None) -> None:
        self._same(lambda s: s.close_batch(batch, now=self.now, journal=journal))

    @rule(batch=BATCHES)
    def post_batch(self, batch: str) -> None:
        self._same(lambda s: s.mark_batch_posted(batch, reference="P-" + batch, now=self.now))

    @rule(name=st.sampled_from(["stock", "postings"]), owner=WORKERS, ttl=LEASES)
    def try_lock(self, name: str, owner: str, ttl: int) -> None:
        self._same(lambda s: s.try_lock(name, owner=owner, ttl_seconds=ttl, now=self.now))

    @rule(name=st.sampled_from(["stock", "postings"]), owner=WORKERS)
    def unlock(self, name: str, owner: str) -> None:
        self._same(lambda s: s.unlock(name, owner=owner))

    # -- every store holds the same state --------------------------------------------------------
    @invariant()
    def stores_hold_the_same_orders_and_exceptions(self) -> None:
        self._same(
            lambda s: (
                [s.get_order(f"order-{n:05d}") for n in ORDERS],
                s.list_exceptions(ExceptionFilter(open_only=False)),
                s.held_orders(),
                s.pending_stock(),
            )
        )

    def teardown(self) -> None:
        # The full comparison is costly against a server, so it runs once per example.
        def snapshot(s: StateStore) -> Any:
            return (
                s.count_orders_by_status(),
                s.due_exceptions(now=self.now),
                [s.get_customer(k) for k in CUSTOMER_KEYS],
                [s.get_cursor(n) for n in ("orders", "stock")],
                s.get_stock(STOCK_KEYS),
                s.pending_stock(),
                [s.order_lines(f"order-{n:05d}") for n in ORDERS],
                [(s.get_batch(b), s.batch_members(b)) for b in ("B1", "B2", "B3")],
                [
                    s.batch_of(o, kind=k, entry=e)
                    for o in ("o1", "o2", "o3")
                    for k in ("revenue", "fees")
                    for e in ("", "sale", "cancel")
                ],
                [s.list_batches(kind=k, period=p) for k in ("revenue", None) for p in ("", None)],
                [s.entries_of(["o1", "o3", "o9"], kind=k) for k in ("revenue", "fees")],
                [
                    s.try_lock(n, owner="probe", ttl_seconds=1, now=self.now)
                    for n in ("stock", "postings")
                ],
            )

        try:
            self._same(snapshot)
        finally:
            for store in self.stores[:2]:
                store.close()


def test_memory_and_sqlite_stores_agree() -> None:
    run_state_machine_as_test(StoresAgree, settings=SETTINGS)


M = TypeVar("M", bound=RuleBasedStateMachine)


@contextmanager
def postgres_machine(url: str, machine: type[M]) -> Iterator[type[M]]:
    """``machine`` with a PostgreSQL store as its extra store, emptied for every example (the
    machine takes it as ``extra_store``)."""
    import psycopg

    from ct_prima_sync.state._postgres import PostgresStore

    store = PostgresStore(url)
    connection = psycopg.connect(url, autocommit=True)

    class WithPostgres(machine):  # type: ignore[valid-type, misc]
        extra_store = store

        def __init__(self) -> None:
            # DELETE is much faster than TRUNCATE on tables this small.
            with connection.transaction():
                for table in TABLES:
                    connection.execute(f"DELETE FROM {table}")  # noqa: S608 (constant names)
            super().__init__()

    try:
        yield WithPostgres
    finally:
        connection.close()
        store.close()


@pytest.mark.postgres
def test_memory_sqlite_and_postgres_stores_agree(postgres_url: str) -> None:
    with postgres_machine(postgres_url, StoresAgree) as machine:
        run_state_machine_as_test(
            machine, settings=settings(SETTINGS, max_examples=20, stateful_step_count=25)
        )
