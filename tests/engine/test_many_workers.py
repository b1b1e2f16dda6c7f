"""Many workers on one PostgreSQL store share a backlog without ever sending an order twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from ct_prima_sync.engine import EngineConfig, FakeClock, RunSummary, SyncEngine
from ct_prima_sync.state import OrderStatus, open_store
from ct_prima_sync.testing import FakePrima
from ct_prima_sync.testing.scenario import build_scenario, connect_commercetools

EngineFactory = Callable[..., SyncEngine]

pytestmark = pytest.mark.postgres


def test_four_workers_on_postgresql_finish_the_backlog_and_never_double_submit(
    postgres_url: str, clock: FakeClock
) -> None:
    scenario = build_scenario(orders=240, bad_every=12, seed=5)
    with open_store(postgres_url) as store:
        # One worker ingests; four share the processing.
        loader = SyncEngine(
            commercetools=connect_commercetools(scenario.commercetools),
            prima=FakePrima(scenario.world, sleep=lambda _s: None),
            store=store,
            mapping=scenario.mapping,
            config=EngineConfig(initial_cursor=scenario.first_order_at - timedelta(days=1)),
            clock=clock,
        )
        assert loader.poll_orders() == 240

    summaries: list[RunSummary] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work(n: int) -> None:
        try:
            with open_store(postgres_url) as own_store:
                engine = SyncEngine(
                    commercetools=connect_commercetools(scenario.commercetools),
                    prima=FakePrima(scenario.world, sleep=lambda _s: None),
                    store=own_store,
                    mapping=scenario.mapping,
                    config=EngineConfig(worker_id=f"worker-{n}", claim_batch=5, concurrency=2),
                    clock=clock,
                )
                start.wait()
                summaries.append(engine.process_backlog())
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sum(s.posted for s in summaries) == len(scenario.good)
    assert sum(s.excepted for s in summaries) == len(scenario.bad)
    assert sum(1 for s in summaries if s.posted) >= 2, "the work was not shared"
    submissions = scenario.world.submission_counts()
    for number in scenario.good:
        assert submissions[number] == 1
    # Workers racing on a new customer never create it twice.
    emails = [customer.email for customer in scenario.world.customers()]
    assert len(emails) == len(set(emails))
    with open_store(postgres_url) as store:
        counts = store.count_orders_by_status()
        assert counts[OrderStatus.DONE] == len(scenario.good)
        assert counts[OrderStatus.EXCEPTED] == len(scenario.bad)
