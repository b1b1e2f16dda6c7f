"""Memory, SQLite and PostgreSQL stores agree on despatch progress, whatever the sequence.

The same hypothesis approach as ``test_agreement.py`` (the memory store is the reference), in a
machine of its own: only the rules that reach the despatch tables, so that every example follows
orders, saves them (stale revisions included), adds deliveries, finishes them and asks which are
due.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ct_prima_sync.state import (
    DeliveryRecord,
    DispatchLine,
    DispatchState,
    MemoryStore,
    OrderStatus,
    ReturnRecord,
    SqliteStore,
    StateStore,
    new_dispatch_record,
)

from .conftest import T0, order
from .test_agreement import _outcome, postgres_machine

ORDERS = range(5)
SECONDS = st.sampled_from([0, 1, 10, 60])
SETTINGS = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class DispatchStoresAgree(RuleBasedStateMachine):
    """Drives every store's despatch tables with the same operations."""

    extra_store: StateStore | None = None

    def __init__(self) -> None:
        super().__init__()
        self.stores: list[StateStore] = [MemoryStore(), SqliteStore(":memory:")]
        if self.extra_store is not None:
            self.stores.append(self.extra_store)
        self.clock = 0.0

    @property
    def now(self) -> datetime:
        moment: datetime = T0 + timedelta(seconds=self.clock)
        return moment

    def _same(self, call: Callable[[StateStore], Any]) -> None:
        outcomes = [_outcome(partial(call, s)) for s in self.stores]
        assert all(o == outcomes[0] for o in outcomes), outcomes

    @initialize(count=st.integers(0, 3), follow=st.integers(0, 3))
    def orders_in_prima(self, count: int, follow: int) -> None:
        # Most sequences start with orders in Prima, some followed, so that saves come early.
        for n in range(count):
            self.ingest(n, into_prima=True)
        self.follow(limit=follow or 1, twice=False)

    @rule(seconds=SECONDS)
    def advance(self, seconds: int) -> None:
        self.clock += seconds

    @rule(n=st.sampled_from(ORDERS), into_prima=st.booleans())
    def ingest(self, n: int, into_prima: bool) -> None:
        order_id = f"order-{n:05d}"

        def call(s: StateStore) -> Any:
            s.ingest(order(n), now=self.now)
            if not into_prima:
                return s.get_order(order_id)
            s.claim("w", lease_seconds=60, limit=10, now=self.now)
            s.transition(order_id, worker_id="w", to=OrderStatus.MAPPED, now=self.now)
            s.transition(order_id, worker_id="w", to=OrderStatus.CUSTOMER_RESOLVED, now=self.now)
            s.begin_submission(order_id, worker_id="w", now=self.now)
            return s.record_prima_reference(
                order_id, worker_id="w", reference=f"SO-{n}", now=self.now
            )

        self._same(call)

    @rule(limit=st.integers(1, 3), twice=st.booleans())
    def follow(self, limit: int, twice: bool) -> None:
        def call(s: StateStore) -> Any:
            pending = s.untracked_orders(limit=limit)
            records = [
                new_dispatch_record(
                    p, now=self.now, lines=[DispatchLine(line_id="l1", sku="A/B", ordered=2)]
                )
                for p in pending
            ]
            return [p.order_id for p in pending], s.follow_for_dispatch(
                records * (2 if twice else 1), now=self.now
            )

        self._same(call)

    @precondition(lambda self: bool(self.stores[0].list_dispatch()))
    @rule(
        data=st.data(),
        later=SECONDS,
        finish=st.sampled_from([None, *DispatchState]),
        key=st.one_of(st.none(), st.sampled_from(["k1", "k2", "k3"])),
        shipped=st.integers(0, 2),
        returned=st.booleans(),
        stale=st.booleans(),
    )
    def save(  # noqa: PLR0917 (hypothesis passes rule arguments by name)
        self,
        data: st.DataObject,
        later: int,
        finish: DispatchState | None,
        key: str | None,
        shipped: int,
        returned: bool,
        stale: bool,
    ) -> None:
        ids = [r.order_id for r in self.stores[0].list_dispatch()]
        order_id = data.draw(st.sampled_from(ids))

        def call(s: StateStore) -> Any:
            record = s.get_dispatch(order_id)
            assert record is not None
            state = finish or record.state
            deliveries = record.deliveries
            if key is not None:
                deliveries += (
                    DeliveryRecord(
                        delivery_key=key,
                        despatch_ref=key.upper(),
                        despatched_on=self.now.date(),
                        items=(("l1", shipped),),
                        written_at=self.now,
                        tracking_ids=(f"T-{shipped}",),
                    ),
                )
            returns = record.returns
            if returned:
                returns += (
                    ReturnRecord(
                        return_item_id=f"r{len(returns)}",
                        line_id="l1",
                        quantity=1,
                        shipment_state="Returned",
                        payment_state="Initial",
                        recorded_at=self.now,
                    ),
                )
            return s.save_dispatch(
                attrs.evolve(
                    record,
                    state=state,
                    next_check_at=None if state.finished else self.now + timedelta(seconds=later),
                    finished_at=self.now if state.finished else None,
                    checks=record.checks + 1,
                    prima_status="Part Despatched" if shipped else "Outstanding",
                    lines=(DispatchLine(line_id="l1", sku="A/B", ordered=2, despatched=shipped),),
                    deliveries=deliveries,
                    returns=returns,
                    first_despatched_on=self.now.date() if shipped else None,
                    revision=record.revision - stale,
                ),
                now=self.now,
            )

        self._same(call)

    @rule(limit=st.integers(1, 4))
    def due(self, limit: int) -> None:
        self._same(
            lambda s: (
                s.due_dispatch(now=self.now, limit=limit),
                s.count_due_dispatch(now=self.now),
            )
        )

    @rule(ns=st.lists(st.sampled_from(ORDERS), max_size=3))
    def make_due(self, ns: list[int]) -> None:
        ids = [f"order-{n:05d}" for n in ns]
        self._same(lambda s: s.make_dispatch_due(ids, now=self.now))

    @invariant()
    def stores_hold_the_same_progress(self) -> None:
        self._same(
            lambda s: (
                s.get_dispatches(f"order-{n:05d}" for n in ORDERS),
                s.count_dispatch_by_state(),
                [s.list_dispatch(state) for state in (None, DispatchState.OPEN)],
                s.untracked_orders(limit=10),
            )
        )

    def teardown(self) -> None:
        for store in self.stores[:2]:
            store.close()


def test_memory_and_sqlite_stores_agree_on_despatch_progress() -> None:
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(DispatchStoresAgree, settings=SETTINGS)


@pytest.mark.postgres
def test_memory_sqlite_and_postgres_stores_agree_on_despatch_progress(postgres_url: str) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    with postgres_machine(postgres_url, DispatchStoresAgree) as machine:
        run_state_machine_as_test(
            machine, settings=settings(SETTINGS, max_examples=10, stateful_step_count=20)
        )
