"""What an order costs in PostgreSQL round trips: every statement the store's connections send,
``BEGIN`` and ``COMMIT`` included, counted at the driver (psycopg's cursor and transaction
calls), while a worker works its backlog as ``bench_workers``' workers do (concurrency 1, two
orders per claim).

A step that is one statement runs it alone, its own transaction (the claim, a customer lock's
take and release, a single order's ``begin_submission`` and ``record_prima_reference``, a claim
batch's ``done`` marks); the recording of a reference is one statement with its follow-ups
(exceptions closed, lines and held copies deleted, the customer's account put)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from ct_prima_sync.engine import EngineConfig, FakeClock, SharedBudget, SyncEngine
from ct_prima_sync.state import CUSTOMER_KEY_SECRET_ENV, open_store
from ct_prima_sync.testing import FakePrima
from ct_prima_sync.testing.scenario import (
    build_scenario,
    connect_commercetools,
    remember_customers,
)

ORDERS = 200


@contextmanager
def _traced(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every statement psycopg sends while the block runs (a transaction block counts as its
    ``BEGIN`` and its ``COMMIT``)."""
    import psycopg

    sent: list[str] = []
    execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany
    transaction = psycopg.Connection.transaction

    def traced_execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(query).split(None, 1)[0].upper())
        return execute(self, query, *args, **kwargs)

    def traced_executemany(self: Any, query: Any, rows: Any, **kwargs: Any) -> Any:
        rows = list(rows)
        sent.extend(str(query).split(None, 1)[0].upper() for _ in rows)
        return executemany(self, query, rows, **kwargs)

    @contextmanager
    def traced_transaction(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        sent.append("BEGIN")
        with transaction(self, *args, **kwargs) as tx:
            yield tx
        sent.append("COMMIT")

    with monkeypatch.context() as patch:
        patch.setattr(psycopg.Cursor, "execute", traced_execute)
        patch.setattr(psycopg.Cursor, "executemany", traced_executemany)
        patch.setattr(psycopg.Connection, "transaction", traced_transaction)
        yield sent


def _worked(
    postgres_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, *, known: bool, batch: int
) -> list[str]:
    """The statements of ``process_backlog`` over 200 polled orders (their customers' accounts
    ``known`` or not), ``batch`` per request."""
    scenario = build_scenario(orders=ORDERS, seed=4)
    with open_store(postgres_url) as store:
        if known:
            secret = os.environ[CUSTOMER_KEY_SECRET_ENV]
            remember_customers(scenario, store, secret=secret, now=clock.now())
        engine = SyncEngine(
            commercetools=connect_commercetools(scenario.commercetools, sleep=lambda _s: None),
            prima=FakePrima(scenario.world, sleep=lambda _s: None),
            store=store,
            mapping=scenario.mapping,
            config=EngineConfig(
                worker_id="w",
                initial_cursor=scenario.first_order_at - timedelta(days=1),
                concurrency=1,
                claim_batch=2,
                submit_batch_size=batch,
            ),
            clock=clock,
        )
        assert engine.poll_orders() == ORDERS
        with _traced(monkeypatch) as sent:
            summary = engine.process_backlog()
    assert summary.posted == ORDERS
    return sent


@pytest.mark.parametrize(
    ("case", "most"),
    [
        # 72% of the orders a customer's first, each alone under its customer's lock; measured
        # 4.92 statements and 0.30 transaction blocks per order (5.83 while each order read its
        # customer's account on its own and the lock went back in a statement of its own;
        # 18.43 and 3.67 when each step was a transaction of several statements and the claim
        # a statement per branch).
        ((False, 25), (5.5, 0.4)),
        # Every order alone, its customer known; measured 3.65 and 0.03 (4.15, 16.19 and 3.04).
        ((True, 1), (4.0, 0.1)),
    ],
    ids=["first-orders", "known-customers-alone"],
)
def test_the_single_order_path_costs_few_postgres_statements_per_order(
    postgres_url: str,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[bool, int],
    most: tuple[float, float],
) -> None:
    """``case``: the customers' accounts known, orders per request; ``most``: statements and
    transaction blocks per order."""
    known, batch = case
    sent = _worked(postgres_url, clock, monkeypatch, known=known, batch=batch)
    statements = len(sent) / ORDERS
    transactions = sent.count("BEGIN") / ORDERS
    print(f"per order: {statements:.2f} statements, {transactions:.2f} transaction blocks")
    assert statements <= most[0]
    assert transactions <= most[1]


def test_a_request_through_the_shared_budget_costs_four_postgres_statements(
    postgres_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrency slot's take and release are a statement each; the rate's reservation
    reads the budget's row and writes it back if it still holds what was read, a statement
    each, no transaction block (6 statements when the reservation was a transaction that read
    the row locked, 11 when the take and release were transactions too and each reservation
    first made sure of the row)."""
    with open_store(postgres_url) as store:
        budget = SharedBudget(store, rate=1000.0, burst=5, max_concurrency=4, clock=clock)
        with budget.slot():  # the budget's row is made by its first request
            pass
        with _traced(monkeypatch) as sent:
            for _ in range(20):
                with budget.slot() as granted:
                    assert granted
                clock.advance(0.01)
    assert len(sent) / 20 == 4, sent[:12]
