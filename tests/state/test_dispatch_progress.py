"""Despatch progress behaves the same in every store: following, due checks, revisions,
append-only deliveries, and the schema's forward migration."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import attrs
import pytest

from ct_prima_sync.errors import StateError
from ct_prima_sync.state import (
    DeliveryRecord,
    DispatchLine,
    DispatchRecord,
    DispatchState,
    OrderRecord,
    ReturnRecord,
    StateStore,
    new_dispatch_record,
    open_store,
)
from ct_prima_sync.state._schema import CREATE_VERSION_TABLE, MIGRATIONS, SCHEMA_VERSION

from .conftest import at, order

#: The migration that creates the despatch tables, and the version before it.
DISPATCH_VERSION = next(
    v for v, statements in MIGRATIONS["sqlite"] if any("dispatch_orders" in x for x in statements)
)
PREVIOUS = DISPATCH_VERSION - 1


def accepted(store: StateStore, n: int, *, seconds: float = 0) -> OrderRecord:
    """Order ``n`` through the ledger into Prima at ``seconds``."""
    order_id = f"order-{n:05d}"
    store.ingest(order(n), now=at(seconds))
    store.claim(f"w{n}", lease_seconds=60, limit=100, now=at(seconds))
    for step in ("mapped", "customer_resolved"):
        store.transition(order_id, worker_id=f"w{n}", to=step, now=at(seconds))  # type: ignore[arg-type]
    store.begin_submission(order_id, worker_id=f"w{n}", now=at(seconds))
    return store.record_prima_reference(
        order_id, worker_id=f"w{n}", reference=f"SO-{n}", now=at(seconds)
    )


def delivery(key: str, seconds: float = 0, **fields: object) -> DeliveryRecord:
    values: dict[str, object] = {
        "delivery_key": key,
        "despatch_ref": key.upper(),
        "despatched_on": date(2026, 3, 2),
        "items": (("line-1", 2),),
        "written_at": at(seconds),
    }
    values.update(fields)
    return DeliveryRecord(**values)  # type: ignore[arg-type]


def followed(store: StateStore, n: int, seconds: float = 0) -> DispatchRecord:
    record = new_dispatch_record(
        accepted(store, n, seconds=seconds),
        now=at(seconds),
        lines=[DispatchLine(line_id="line-1", sku="TEE/BLK", ordered=3)],
        ct_order_state="Open",
    )
    assert store.follow_for_dispatch([record], now=at(seconds)) == 1
    stored = store.get_dispatch(record.order_id)
    assert stored is not None
    return stored


def test_orders_in_prima_wait_to_be_followed_oldest_first(store: StateStore) -> None:
    store.ingest(order(9), now=at(0))  # not in Prima: never a candidate
    accepted(store, 2, seconds=10)
    accepted(store, 1, seconds=20)
    assert [r.order_id for r in store.untracked_orders(limit=5)] == ["order-00002", "order-00001"]
    assert [r.order_id for r in store.untracked_orders(limit=1)] == ["order-00002"]
    followed_record = new_dispatch_record(store.untracked_orders(limit=1)[0], now=at(30))
    assert store.follow_for_dispatch([followed_record, followed_record], now=at(30)) == 1
    assert [r.order_id for r in store.untracked_orders(limit=5)] == ["order-00001"]


def test_following_an_order_twice_keeps_the_first_record(store: StateStore) -> None:
    first = followed(store, 1)
    again = attrs.evolve(first, prima_status="Despatched", revision=0)
    assert store.follow_for_dispatch([again], now=at(5)) == 0
    assert store.get_dispatch(first.order_id) == first


def test_only_orders_of_the_ledger_can_be_followed(store: StateStore) -> None:
    stranger = new_dispatch_record(accepted(store, 1), now=at(0))
    with pytest.raises(StateError, match="unknown order"):
        store.follow_for_dispatch([attrs.evolve(stranger, order_id="order-77777")], now=at(0))
    with pytest.raises(StateError, match="no deliveries"):
        store.follow_for_dispatch([attrs.evolve(stranger, deliveries=(delivery("k"),))], now=at(0))


def test_due_orders_come_most_overdue_first_then_oldest(store: StateStore) -> None:
    records = [followed(store, n, seconds=n) for n in range(1, 5)]
    moves = {1: 100, 2: 50, 3: 50, 4: 500}
    for record in records:
        n = int(record.order_id[-1])
        store.save_dispatch(attrs.evolve(record, next_check_at=at(moves[n])), now=at(10))
    assert [r.order_id[-1] for r in store.due_dispatch(now=at(100), limit=10)] == ["2", "3", "1"]
    assert [r.order_id[-1] for r in store.due_dispatch(now=at(100), limit=2)] == ["2", "3"]
    assert store.count_due_dispatch(now=at(100)) == 3
    assert store.count_due_dispatch(now=at(49)) == 0


def test_due_orders_are_paged_after_the_last_one_of_the_previous_page(store: StateStore) -> None:
    records = [followed(store, n, seconds=n) for n in range(1, 8)]
    for record in records:  # three share one due time, so pages split a tie
        n = int(record.order_id[-1])
        store.save_dispatch(attrs.evolve(record, next_check_at=at(50 + 10 * (n % 3))), now=at(10))
    everything = [r.order_id for r in store.due_dispatch(now=at(100), limit=10)]
    paged: list[str] = []
    after = None
    while page := store.due_dispatch(now=at(100), limit=2, after=after):
        paged += [r.order_id for r in page]
        last = page[-1]
        assert last.next_check_at is not None
        after = (last.next_check_at, last.accepted_at, last.order_id)
    assert paged == everything
    assert len(paged) == 7


def test_a_save_needs_the_revision_it_read(store: StateStore) -> None:
    record = followed(store, 1)
    saved = store.save_dispatch(attrs.evolve(record, checks=1), now=at(1))
    assert (saved.revision, saved.checks, saved.updated_at) == (1, 1, at(1))
    with pytest.raises(StateError, match="changed since it was read"):
        store.save_dispatch(attrs.evolve(record, checks=2), now=at(2))
    assert store.get_dispatch(record.order_id) == saved


def test_deliveries_are_only_ever_added(store: StateStore) -> None:
    record = followed(store, 1)
    saved = store.save_dispatch(attrs.evolve(record, deliveries=(delivery("k-1", 1),)), now=at(1))
    changed = attrs.evolve(saved, deliveries=(delivery("k-1", 1, items=(("line-1", 9),)),))
    saved = store.save_dispatch(changed, now=at(2))
    assert saved.deliveries == (delivery("k-1", 1),)
    dropped = store.save_dispatch(attrs.evolve(saved, deliveries=(delivery("k-2", 3),)), now=at(3))
    assert [d.delivery_key for d in dropped.deliveries] == ["k-1", "k-2"]
    assert store.get_dispatch(record.order_id) == dropped
    with pytest.raises(StateError, match="appears twice"):
        store.save_dispatch(
            attrs.evolve(dropped, deliveries=(delivery("k-3"), delivery("k-3"))), now=at(4)
        )


def test_a_record_round_trips_with_lines_returns_and_dates(store: StateStore) -> None:
    record = followed(store, 1)
    full = attrs.evolve(
        record,
        state=DispatchState.SHIPPED,
        next_check_at=None,
        finished_at=at(9),
        prima_status="Despatched",
        lines=(
            DispatchLine(line_id="line-1", sku="TEE/BLK", ordered=3, despatched=3),
            DispatchLine(line_id="custom-1", sku="WRAP", ordered=1, despatched=1, custom=True),
        ),
        deliveries=(
            delivery("k-1", 1, shipping_key="home", carrier="DPD", tracking_ids=("T1", "T2")),
        ),
        returns=(
            ReturnRecord(
                return_item_id="r-1",
                line_id="line-1",
                quantity=1,
                shipment_state="Returned",
                payment_state="Initial",
                recorded_at=at(20),
                return_date=at(19),
                passed_on="request",
            ),
        ),
        first_despatched_on=date(2026, 3, 2),
        last_despatched_on=date(2026, 3, 4),
    )
    saved = store.save_dispatch(full, now=at(30))
    assert store.get_dispatch(record.order_id) == saved
    assert store.get_dispatches([record.order_id, "nope"]) == {record.order_id: saved}
    assert store.list_dispatch(DispatchState.SHIPPED) == [saved]
    assert store.list_dispatch(DispatchState.OPEN) == []
    assert store.count_dispatch_by_state()[DispatchState.SHIPPED] == 1
    assert store.due_dispatch(now=at(10_000), limit=5) == []


def test_a_finished_record_has_no_next_check_and_an_open_one_always_has(store: StateStore) -> None:
    record = followed(store, 1)
    with pytest.raises(StateError, match="next_check_at"):
        store.save_dispatch(attrs.evolve(record, state=DispatchState.SHIPPED), now=at(1))
    with pytest.raises(StateError, match="next_check_at"):
        store.save_dispatch(attrs.evolve(record, next_check_at=None), now=at(1))


def test_a_replay_brings_the_next_check_forward_without_a_new_revision(store: StateStore) -> None:
    record = followed(store, 1)
    later = store.save_dispatch(attrs.evolve(record, next_check_at=at(3600)), now=at(1))
    assert store.make_dispatch_due([record.order_id, record.order_id, "nope"], now=at(60)) == 1
    moved = store.get_dispatch(record.order_id)
    assert moved is not None
    assert (moved.next_check_at, moved.revision) == (at(60), later.revision)
    assert store.make_dispatch_due([record.order_id], now=at(120)) == 0  # already due


def test_times_come_back_in_utc_whatever_zone_they_went_in(store: StateStore) -> None:
    from datetime import timezone

    record = followed(store, 1)
    tz = timezone(timedelta(hours=5))
    saved = store.save_dispatch(
        attrs.evolve(record, last_checked_at=at(5).astimezone(tz), next_check_at=at(9)), now=at(5)
    )
    stored = store.get_dispatch(record.order_id)
    assert stored == saved
    assert stored is not None
    assert stored.last_checked_at == at(5)
    assert stored.last_checked_at.utcoffset() == timedelta(0)


# -- the schema ----------------------------------------------------------------------------------


_ORDER_ROW = (
    "INSERT INTO orders (order_id, order_number, status, attempts, prima_reference, "
    "submission_started_at, currency, fraction_digits, net_minor, tax_minor, gross_minor, "
    "ct_version, created_at, updated_at) VALUES ('o-1', 'N-1', 'done', 1, 'SO-1', ?, 'EUR', 2, "
    "1000, 190, 1190, 3, ?, ?)"
)


def test_a_database_of_the_previous_version_with_orders_migrates_forward(tmp_path: Path) -> None:
    path = tmp_path / "previous.db"
    conn = sqlite3.connect(path)
    conn.execute(CREATE_VERSION_TABLE["sqlite"])
    for version, statements in MIGRATIONS["sqlite"]:
        if version <= PREVIOUS:
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    stamp = [at(s).isoformat(timespec="microseconds") for s in (1, 0, 2)]
    conn.execute(_ORDER_ROW, stamp)
    conn.commit()
    conn.close()
    with open_store(f"sqlite:///{path}") as store:
        assert store.schema_version() == SCHEMA_VERSION  # type: ignore[attr-defined]
        before = store.get_order("o-1")
        assert before is not None
        assert before.prima_reference == "SO-1"
        (pending,) = store.untracked_orders(limit=5)
        record = new_dispatch_record(pending, now=at(10))
        assert record.accepted_at == at(1)
        assert store.follow_for_dispatch([record], now=at(10)) == 1
    with open_store(f"sqlite:///{path}") as store:
        assert store.get_dispatch("o-1") == record
        assert store.get_order("o-1") == before


def test_a_postgres_schema_of_the_previous_version_with_orders_migrates_forward(
    postgres_url: str,
) -> None:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(CREATE_VERSION_TABLE["postgresql"])
        for version, statements in MIGRATIONS["postgresql"]:
            if version <= PREVIOUS:
                for statement in statements:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
        conn.execute(_ORDER_ROW.replace("?", "%s"), (at(1), at(0), at(2)))
    with open_store(postgres_url) as store:
        assert store.schema_version() == SCHEMA_VERSION  # type: ignore[attr-defined]
        before = store.get_order("o-1")
        assert before is not None
        assert before.prima_reference == "SO-1"
        (pending,) = store.untracked_orders(limit=5)
        record = new_dispatch_record(pending, now=at(10))
        assert record.accepted_at == at(1)
        assert store.follow_for_dispatch([record], now=at(10)) == 1
        assert store.get_dispatch("o-1") == record
