"""After restoring a state backup older than the latest orders, Prima is asked before anything
is sent again: none of the orders that reached Prima after the backup is sent twice."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from ct_prima_sync.engine import FakeClock, SyncEngine
from ct_prima_sync.state import OrderStatus, open_store
from ct_prima_sync.testing import PrimaRequestKind
from ct_prima_sync.testing.scenario import SyncScenario

from .conftest import one_line_order

EngineFactory = Callable[..., SyncEngine]


def copy_database(source: Path, target: Path) -> None:
    """What ``sqlite3 sync.db ".backup copy.db"`` does (and restoring is the same the other way)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _more_orders(scenario: SyncScenario, count: int) -> list[str]:
    """Orders placed after the backup was taken: the restored state never saw them."""
    numbers = []
    for n in range(count):
        number = f"LATE-{n}"
        scenario.commercetools.add_order(
            one_line_order(scenario, number, email=f"late{n}@example.com", seed=900 + n)
        )
        numbers.append(number)
    return numbers


def test_orders_sent_after_the_backup_are_recorded_from_prima_not_sent_again(
    scenario: SyncScenario, make_engine: EngineFactory, clock: FakeClock, tmp_path: Path
) -> None:
    live, backup = tmp_path / "sync.db", tmp_path / "backup.db"
    with open_store(f"sqlite:///{live}") as store:
        make_engine(store).sync_orders(max_orders=20)
        copy_database(live, backup)
        done_in_backup = store.count_orders_by_status()[OrderStatus.DONE]
        late = _more_orders(scenario, 3)
        clock.advance(600)
        make_engine(store).sync_orders()  # the rest, and the late ones, reach Prima
    every = [*scenario.good, *late]
    submissions = scenario.world.submission_counts()
    assert all(submissions[n] == 1 for n in every)
    copy_database(backup, live)  # the restore: 40 orders look new, 3 are unknown
    clock.advance(600)

    with open_store(f"sqlite:///{live}") as store:
        report = make_engine(store, worker_id="after-restore").verify_against_prima()
        submits = len(scenario.world.requests(PrimaRequestKind.SUBMIT_ORDERS))
        summary = make_engine(store, worker_id="after-restore").sync_orders()

        assert report.in_prima == len(every) - done_in_backup
        resent = scenario.world.requests(PrimaRequestKind.SUBMIT_ORDERS)[submits:]
        assert {key for r in resent for key in r.keys} <= set(scenario.bad), "sent again"
        submissions = scenario.world.submission_counts()
        assert all(submissions[n] == 1 for n in every), "sent twice"
        assert store.count_orders_by_status()[OrderStatus.DONE] == len(every)
        # Finished (written back to commercetools), none of them sent to Prima again.
        assert summary.posted + summary.already_in_prima == report.in_prima
        # The bad orders Prima never had: those the backup had already excepted wait as they
        # did; the others are tried, and fail as they did before the restore.
        assert report.waiting_for_a_person + report.not_in_prima == len(scenario.bad)
        assert summary.excepted == report.not_in_prima
        for order in scenario.commercetools.orders():
            if order["orderNumber"] in every:
                assert len(order.get("syncInfo", [])) == 1, "written back twice"


def test_young_orders_are_left_for_the_next_run(
    scenario: SyncScenario, make_engine: EngineFactory, tmp_path: Path
) -> None:
    with open_store(f"sqlite:///{tmp_path / 'sync.db'}") as store:
        engine = make_engine(store)
        engine.poll_orders()
        report = engine.verify_against_prima(older_than_seconds=10 * 86400.0)
        assert (report.checked, report.too_recent) == (0, 60)
        assert engine.process_backlog().posted == len(scenario.good)
