"""Several orders per ``MultiNewOrder``: one request, exactly once per order.

Prima answers per order, so one refusal settles only its order; a request Prima refuses as a
whole is broken up until the bad order meets its refusal alone; an unanswered request makes
every member ambiguous until Prima's status check settles it; a member whose lease was lost
is not sent."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import attrs
import pytest

from ct_prima_sync.engine import EngineConfig, FakeClock, SyncEngine
from ct_prima_sync.errors import ConfigurationError, PrimaRejectedError
from ct_prima_sync.mapping import map_order
from ct_prima_sync.prima import OmlinkClient, OmlinkConfig, SalesOrder, SubmitResult
from ct_prima_sync.state import (
    CUSTOMER_KEY_SECRET_ENV,
    ExceptionFilter,
    OrderRecord,
    OrderStatus,
    StateStore,
    open_store,
)
from ct_prima_sync.testing import (
    FakePrima,
    PrimaEmulator,
    PrimaFault,
    PrimaFaultKind,
    PrimaFaultPlan,
    PrimaRequestKind,
)
from ct_prima_sync.testing.scenario import (
    SyncScenario,
    build_scenario,
    connect_commercetools,
    remember_customers,
)

EngineFactory = Callable[..., SyncEngine]

#: What a real installation answered to XML it could not parse (the whole request refused).
SAX_ERROR = (
    "The XML may be Invalid or may contain invalid characters. SAX parser error: "
    "SAX-PARSE-NEXT, Unexpected error. (14586)"
)


@pytest.fixture
def known(scenario: SyncScenario, store: StateStore, clock: FakeClock) -> SyncScenario:
    """The scenario with every customer's account known: their orders go in batched requests."""
    remember_customers(scenario, store, secret=os.environ[CUSTOMER_KEY_SECRET_ENV], now=clock.now())
    return scenario


def _requests(scenario: SyncScenario, kind: PrimaRequestKind) -> list[tuple[str, ...]]:
    return [tuple(r.keys) for r in scenario.world.requests(kind)]


def _exception_kinds(store: StateStore) -> dict[str | None, str]:
    return {e.detail.get("order_number"): e.kind for e in store.list_exceptions(ExceptionFilter())}


def _each_good_order_once(scenario: SyncScenario, store: StateStore) -> None:
    submissions = scenario.world.submission_counts()
    assert all(submissions[n] == 1 for n in scenario.good)
    assert sorted(o.order_number for o in scenario.world.orders()) == sorted(scenario.good)
    assert store.count_orders_by_status()[OrderStatus.DONE] == len(scenario.good)


def test_orders_go_several_per_request_and_a_refusal_fails_only_its_own_order(
    known: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    summary = make_engine(store, submit_batch_size=5, claim_batch=10).sync_orders()

    assert summary.posted == len(known.good)
    _each_good_order_once(known, store)
    sent = _requests(known, PrimaRequestKind.SUBMIT_ORDERS)
    assert max(len(r) for r in sent) == 5
    refused = [n for n, kind in known.bad.items() if kind == "PRIMA_REJECTED"]
    for number in refused:  # Prima refused it inside a request that carried good orders too
        (request,) = [r for r in sent if number in r]
        assert set(request) - {number} <= set(known.good)
        assert len(request) > 1
    assert _exception_kinds(store) == known.bad


class _RefusesXmlOf(FakePrima):
    """Refuses as a whole (the real SAX-error reply) every request that carries ``poison``."""

    def __init__(self, scenario: SyncScenario, poison: str) -> None:
        super().__init__(scenario.world, sleep=lambda _s: None)
        self.poison = poison

    def submit_orders(self, orders: Sequence[SalesOrder]) -> list[SubmitResult]:
        numbers = [o.order_number for o in orders]
        if self.poison in numbers:
            self.world.record_request(PrimaRequestKind.SUBMIT_ORDERS, numbers, applied=False)
            raise PrimaRejectedError(SAX_ERROR, request_type="MultiNewOrder", raw_error=SAX_ERROR)
        return super().submit_orders(orders)


def test_a_request_refused_as_a_whole_is_sent_again_order_by_order_isolating_the_bad_one(
    known: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    poison = known.good[2]
    prima = _RefusesXmlOf(known, poison)

    summary = make_engine(store, prima=prima, submit_batch_size=5, claim_batch=10).sync_orders()

    good = [n for n in known.good if n != poison]
    assert summary.posted == len(good)
    submissions = known.world.submission_counts()
    assert all(submissions[n] == 1 for n in good)
    assert poison not in {o.order_number for o in known.world.orders()}
    kinds = _exception_kinds(store)
    assert kinds.pop(poison) == "PRIMA_REJECTED"  # its own exception, with Prima's words
    assert kinds == known.bad  # and nobody else's
    (refused, *_) = [r for r in _requests(known, PrimaRequestKind.SUBMIT_ORDERS) if poison in r]
    assert len(refused) == 5
    # Every member was asked about before anything was sent again, then sent alone.
    asked = _requests(known, PrimaRequestKind.ORDER_STATUS)
    assert set(refused) <= {number for (number,) in asked}
    alone = [r for r in _requests(known, PrimaRequestKind.SUBMIT_ORDERS) if len(r) == 1]
    assert {r[0] for r in alone} >= set(refused)


@pytest.mark.parametrize(
    "fault",
    [
        PrimaFault(kind=PrimaFaultKind.REPLY_LOST),
        PrimaFault(kind=PrimaFaultKind.TIMEOUT, applied=False),
    ],
    ids=["applied", "not-applied"],
)
def test_an_unanswered_request_makes_every_member_ambiguous_until_prima_is_asked(
    fault: PrimaFault,
    known: SyncScenario,
    store: StateStore,
    make_engine: EngineFactory,
    clock: FakeClock,
) -> None:
    plan = PrimaFaultPlan()
    plan.on_nth(PrimaRequestKind.SUBMIT_ORDERS, 1, fault)
    prima = FakePrima(known.world, faults=plan, sleep=lambda _s: None)
    engine = make_engine(store, prima=prima, submit_batch_size=5, claim_batch=10)

    first = engine.sync_orders()
    (lost, *_) = _requests(known, PrimaRequestKind.SUBMIT_ORDERS)
    assert {number for (number,) in _requests(known, PrimaRequestKind.ORDER_STATUS)} == set(lost)
    if fault.applies_request:  # found by the status check: recorded, never sent again
        assert first.already_in_prima == len(lost)
    else:  # unknown, but maybe still on its way: each waits as an ambiguous order
        assert first.retrying == len(lost)
        clock.advance(engine.config.lease_seconds * 2)
        engine.process_backlog()
    _each_good_order_once(known, store)


def test_e21_in_a_batch_is_a_collision_for_that_order_only(
    known: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    taken = known.good[1]  # another shop already sent Prima an order with this number
    with connect_commercetools(known.commercetools, sleep=lambda _s: None) as ct:
        (order,) = [o for o in ct.orders.query() if o.order_number == taken]
    mapped = map_order(order, known.mapping).sales_order
    assert mapped is not None
    known.world.add_customer(account_code="OTHER-SHOP")
    other = attrs.evolve(mapped.customer, account_code="OTHER-SHOP")
    known.world.submit_orders([attrs.evolve(mapped, customer=other)])

    summary = make_engine(store, submit_batch_size=5, claim_batch=10).sync_orders()

    assert summary.posted == len(known.good) - 1
    assert _exception_kinds(store)[taken] == "ORDER_NUMBER_COLLISION"
    record = store.get_order_by_number(taken)
    assert record is not None
    assert record.prima_reference is None, "never marked done on another shop's order"
    others = [n for n in known.good if n != taken]
    submissions = known.world.submission_counts()
    assert all(submissions[n] == 1 for n in others)


def test_a_member_whose_lease_was_lost_is_left_out_of_the_request(
    known: SyncScenario, store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> None:
    stolen: list[str] = []

    def steal_the_first(step: str, order_id: str) -> None:
        """Another worker takes the first prepared order over before its request goes."""
        if step == "customer_resolved" and not stolen:
            stolen.append(order_id)
            store.release_lease(order_id, worker_id="worker-1", now=clock.now())
            store.claim_order(order_id, "worker-2", lease_seconds=600, now=clock.now())

    engine = make_engine(
        store, checkpoint=steal_the_first, submit_batch_size=5, claim_batch=5, concurrency=1
    )
    summary = engine.sync_orders(max_orders=5)

    (order_id,) = stolen
    record = store.get_order(order_id)
    assert record is not None
    (request,) = _requests(known, PrimaRequestKind.SUBMIT_ORDERS)
    assert record.order_number not in request
    assert len(request) == summary.posted >= 2
    assert (record.lease_owner, record.submission_started_at) == ("worker-2", None)
    assert summary.lost_lease == 1


def test_batched_orders_pass_a_strict_prima(
    known: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    emulator = PrimaEmulator(known.world, strict=True)
    config = OmlinkConfig(endpoint="http://prima.test/live/live", rate_limit=10_000.0, burst=1_000)
    with OmlinkClient(config, transport=emulator.transport()) as prima:
        summary = make_engine(store, prima=prima, submit_batch_size=5).sync_orders()

    assert emulator.refused == []
    assert summary.posted == len(known.good)
    _each_good_order_once(known, store)
    assert max(len(r) for r in _requests(known, PrimaRequestKind.SUBMIT_ORDERS)) == 5


def _traced_statements(batch: int, clock: FakeClock, folder: Path, *, with_poll: bool) -> list[str]:
    """The statements the SQLite ledger runs while 200 orders (every customer's account known)
    are worked ``batch`` per request; with ``with_poll`` the poll's too (each row of an
    executemany is one)."""
    scenario = build_scenario(orders=200, seed=8)
    with open_store(f"sqlite:///{folder}/sync.db") as store:
        remember_customers(
            scenario, store, secret=os.environ[CUSTOMER_KEY_SECRET_ENV], now=clock.now()
        )
        engine = SyncEngine(
            commercetools=connect_commercetools(scenario.commercetools, sleep=lambda _s: None),
            prima=FakePrima(scenario.world, sleep=lambda _s: None),
            store=store,
            mapping=scenario.mapping,
            config=EngineConfig(
                worker_id="w",
                initial_cursor=scenario.first_order_at - timedelta(days=1),
                submit_batch_size=batch,
                claim_batch=50,
            ),
            clock=clock,
        )
        statements: list[str] = []
        if not with_poll:
            assert engine.poll_orders() == 200
        store._conn.set_trace_callback(statements.append)  # type: ignore[attr-defined]
        try:
            if with_poll:
                assert engine.poll_orders() == 200
            summary = engine.process_backlog()
        finally:
            store._conn.set_trace_callback(None)  # type: ignore[attr-defined]
    assert summary.posted == 200
    return statements


@pytest.mark.parametrize(("batch", "most"), [(1, 2.2), (25, 0.5)])
def test_the_happy_path_costs_few_commits_per_order(
    batch: int, most: float, clock: FakeClock, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Measured on 200 orders: 2.08 commits per order alone (begin and reference per order;
    the claims, the batch's done marks and the run's own rows shared), 0.15 with 25 per
    request: the two exactly-once commits are one per request. A write that is one statement
    in autocommit (no ``BEGIN`` before it) is a commit of its own."""
    statements = _traced_statements(
        batch, clock, tmp_path_factory.mktemp("commits"), with_poll=False
    )
    per_order = _commits(statements) / 200
    print(f"commits per order, {batch} per request: {per_order:.2f}")
    assert per_order <= most


def _commits(statements: list[str]) -> int:
    """The transactions committed: each ``COMMIT``, and each write outside ``BEGIN`` ...
    ``COMMIT`` (a statement in autocommit is its own transaction)."""
    commits, open_ = 0, False
    for statement in statements:
        head = statement.strip().split(None, 1)[0].upper()
        if head == "BEGIN":
            open_ = True
        elif head in {"COMMIT", "ROLLBACK"}:
            commits += head == "COMMIT"
            open_ = False
        elif not open_ and head not in {"SELECT", "PRAGMA"}:
            commits += 1
    return commits


@pytest.mark.parametrize(("batch", "most"), [(1, 6.0), (25, 0.8)])
def test_the_order_path_costs_few_ledger_statements_per_order(
    batch: int, most: float, clock: FakeClock, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every statement the ledger runs from poll to done, BEGIN and COMMIT included: the ingest
    inserts a page's orders and lines a statement each, and a batch's begin, record and done
    marks are a few statements for the whole batch (guarded ``UPDATE ... RETURNING``), so
    statements per order fall with the batch; the customers' accounts are one read per claim
    batch.
    Measured on 200 orders: 5.45 alone, 0.73 with 25 per request (8.47 and 0.85 while a
    recording closed exceptions and dropped held copies an order did not have and a budget's
    reservation read its row first; 11.46 and 1.83 while each
    order read its customer's account on its own and the one-statement steps went between
    ``BEGIN IMMEDIATE`` and ``COMMIT``; 23.86 and 20.02 when each order was read, then
    written, at each step)."""
    statements = _traced_statements(
        batch, clock, tmp_path_factory.mktemp("statements"), with_poll=True
    )
    per_order = len(statements) / 200
    print(f"ledger statements per order, {batch} per request: {per_order:.2f}")
    assert per_order <= most


def test_the_batch_size_is_read_from_the_engine_settings_and_must_be_positive() -> None:
    assert EngineConfig.from_dict({"submit_batch_size": 10}).submit_batch_size == 10
    assert EngineConfig().submit_batch_size == 25
    with pytest.raises(ConfigurationError, match="submit_batch_size"):
        EngineConfig.from_dict({"submit_batch_size": 0})


def test_one_failed_request_is_one_failure_for_the_circuit_breaker_whatever_it_carried(
    known: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    plan = PrimaFaultPlan()
    plan.on_nth(PrimaRequestKind.SUBMIT_ORDERS, 1, PrimaFault(kind=PrimaFaultKind.CONNECTION_RESET))
    prima = FakePrima(known.world, faults=plan, sleep=lambda _s: None)
    engine = make_engine(
        store, prima=prima, submit_batch_size=5, claim_batch=10, breaker_threshold=2
    )

    summary = engine.sync_orders()

    assert summary.stopped is None, "five orders of one failed request are not an outage"
    assert summary.retrying == 5
    assert summary.posted == len(known.good) - 5


def test_requests_failing_in_a_row_stop_the_run_as_an_outage(
    known: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    plan = PrimaFaultPlan()
    plan.random(1, {PrimaFault(kind=PrimaFaultKind.CONNECTION_RESET): 1.0})
    prima = FakePrima(known.world, faults=plan, sleep=lambda _s: None)
    engine = make_engine(
        store, prima=prima, submit_batch_size=5, claim_batch=20, breaker_threshold=2, concurrency=1
    )

    summary = engine.sync_orders()

    assert summary.stopped == "PRIMA_UNAVAILABLE"
    assert len(_requests(known, PrimaRequestKind.SUBMIT_ORDERS)) == 2
    assert summary.retrying == 10
    assert summary.posted == 0


class _HoldsFirstRequests(FakePrima):
    """Holds its first ``held`` requests until ``go_on`` is set (or 10 s pass: the test then
    fails); ``holding`` is set once all of them are held."""

    def __init__(self, scenario: SyncScenario, held: int = 1) -> None:
        super().__init__(scenario.world, sleep=lambda _s: None)
        self.go_on = threading.Event()
        self.holding = threading.Event()
        self.released_in_time: bool | None = None
        self._lock = threading.Lock()
        self._to_hold = held

    def submit_orders(self, orders: Sequence[SalesOrder]) -> list[SubmitResult]:
        with self._lock:
            hold = self._to_hold > 0
            self._to_hold -= hold
            if hold and not self._to_hold:
                self.holding.set()
        if hold:
            self.released_in_time = self.go_on.wait(timeout=10)
        return super().submit_orders(orders)


def test_the_next_claim_batch_is_prepared_while_a_request_waits_for_prima(
    known: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    prima = _HoldsFirstRequests(known)
    claims = 0
    claim = store.claim

    def counting_claim(
        worker_id: str, *, lease_seconds: float, limit: int, now: datetime
    ) -> list[OrderRecord]:
        nonlocal claims
        claims += 1
        claimed = claim(worker_id, lease_seconds=lease_seconds, limit=limit, now=now)
        if claims == 2:
            prima.go_on.set()  # the next batch is claimed while the first request is held
        return claimed

    store.claim = counting_claim  # type: ignore[method-assign]
    engine = make_engine(store, prima=prima, submit_batch_size=2, claim_batch=4, concurrency=2)
    summary = engine.sync_orders()

    assert prima.released_in_time is True, "the second claim waited for the first request"
    assert summary.posted == len(known.good)
    _each_good_order_once(known, store)


@pytest.mark.parametrize("only_those", [False, True], ids=["with-others", "only-those"])
def test_an_order_whose_lease_runs_out_while_its_request_waits_is_worked_once(
    known: SyncScenario,
    store: StateStore,
    make_engine: EngineFactory,
    clock: FakeClock,
    only_those: bool,
) -> None:
    """The first claim batch's last requests wait behind two held ones until their orders'
    leases run out, and the next claim (the same worker's) takes them again, beside other
    orders or (``only_those``) alone: they stay with the requests they wait in, and nothing
    else works them."""
    prima = _HoldsFirstRequests(known, held=2)
    claims: list[set[str]] = []
    ran_out: set[str] = set()
    claim = store.claim

    def claim_once_the_leases_ran_out(
        worker_id: str, *, lease_seconds: float, limit: int, now: datetime
    ) -> list[OrderRecord]:
        if len(claims) == 1:
            assert prima.holding.wait(timeout=10), "the first two requests never went"
            clock.advance(lease_seconds + 1)
            now = clock.now()
            first = [store.get_order(order_id) for order_id in claims[0]]
            ran_out.update(
                r.order_id for r in first if r and r.lease_expires_at and r.lease_expires_at <= now
            )
            if only_those:  # the leases that ran out are claimed first, oldest first
                limit = 1
        claimed = claim(worker_id, lease_seconds=lease_seconds, limit=limit, now=now)
        claims.append({r.order_id for r in claimed})
        if len(claims) == 2:
            prima.go_on.set()
        return claimed

    store.claim = claim_once_the_leases_ran_out  # type: ignore[method-assign]
    engine = make_engine(
        store, prima=prima, submit_batch_size=2, claim_batch=10, concurrency=2, lease_seconds=60
    )
    summary = engine.sync_orders()

    assert prima.released_in_time is True
    assert ran_out & claims[1], "no lease ran out while its request waited"
    assert claims[1] <= ran_out if only_those else claims[1] >= ran_out
    assert summary.posted == len(known.good)
    assert summary.processed == len(known.good) + len(known.bad)
    # Those not claimed again are left out of their request (LeaseLostError) and come back.
    assert summary.lost_lease == len(ran_out - claims[1])
    assert summary.released == 0
    _each_good_order_once(known, store)
    assert _exception_kinds(store) == known.bad
    ever = store.list_exceptions(ExceptionFilter(open_only=False))
    assert {e.detail.get("order_number") for e in ever} == set(known.bad)
