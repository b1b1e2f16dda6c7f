"""Held orders: the lines of orders the order flow holds back count in the pending stock figure
until the order enters the ledger or is released, never twice. Every store behaves the same."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ct_prima_sync.errors import StateError
from ct_prima_sync.state import (
    HeldOrder,
    HoldReason,
    MemoryStore,
    NewOrder,
    OrderLine,
    SqliteStore,
    StateStore,
)

from .conftest import at, order

WAITING = HoldReason.AWAITING_PAYMENT
YOUNG = HoldReason.NOT_YET_DUE


def held(
    n: int, *lines: tuple[str, str, int], version: int = 1, reason: HoldReason = WAITING
) -> HeldOrder:
    return HeldOrder(
        order_id=f"order-{n:05d}",
        order_number=f"N{n:05d}",
        ct_version=version,
        reason=reason,
        lines=tuple(OrderLine(sku=s, depot=d, quantity=q) for s, d, q in lines),
    )


def due(n: int, *lines: tuple[str, str, int], version: int = 1) -> NewOrder:
    return attrs.evolve(
        order(n, version=version),
        lines=tuple(OrderLine(sku=s, depot=d, quantity=q) for s, d, q in lines),
    )


def test_held_orders_count_in_pending_beside_the_ledgers_orders(store: StateStore) -> None:
    store.ingest(due(1, ("TEE-M", "WH1", 2)), now=at(0))
    added = store.hold_orders(
        [held(2, ("TEE-M", "WH1", 1), ("TEE-M", "WH1", 3)), held(3, ("CAP", "", 1), reason=YOUNG)],
        now=at(1),
    )

    assert added == 2
    assert store.pending_stock() == {("TEE-M", "WH1"): 6, ("CAP", ""): 1}
    assert store.pending_stock(["CAP"]) == {("CAP", ""): 1}
    (first, second) = store.held_orders()
    assert (first.order_id, first.reason, first.held_since, first.checked_at) == (
        "order-00002",
        WAITING,
        at(1),
        at(1),
    )
    assert first.lines == (OrderLine(sku="TEE-M", depot="WH1", quantity=4),)
    assert (second.order_id, second.reason) == ("order-00003", YOUNG)


def test_an_order_moves_from_held_to_the_ledger_in_one_write_and_counts_once(
    store: StateStore,
) -> None:
    store.hold_orders([held(1, ("TEE-M", "WH1", 2), reason=YOUNG)], now=at(0))

    assert store.ingest(due(1, ("TEE-M", "WH1", 2)), now=at(1))

    assert store.pending_stock() == {("TEE-M", "WH1"): 2}
    assert store.held_orders() == []
    assert store.order_lines("order-00001") == [OrderLine(sku="TEE-M", depot="WH1", quantity=2)]


def test_an_order_the_ledger_has_is_never_held(store: StateStore) -> None:
    store.ingest(due(1, ("TEE-M", "WH1", 2)), now=at(0))

    assert store.hold_orders([held(1, ("TEE-M", "WH1", 2), version=2)], now=at(1)) == 0

    assert store.held_orders() == []
    assert store.pending_stock() == {("TEE-M", "WH1"): 2}


def test_only_a_newer_version_of_a_held_order_replaces_its_lines(store: StateStore) -> None:
    store.hold_orders([held(1, ("A", "WH1", 2), version=2)], now=at(0))
    assert store.hold_orders([held(1, ("A", "WH1", 9), version=1)], now=at(1)) == 0
    assert store.pending_stock() == {("A", "WH1"): 2}, "an older version changes nothing"
    store.hold_orders([held(1, ("A", "WH1", 9), version=2, reason=YOUNG)], now=at(1))
    assert store.pending_stock() == {("A", "WH1"): 2}, "nor does the same one again"
    store.hold_orders([held(1, ("B", "WH1", 1), version=3, reason=YOUNG)], now=at(2))
    assert store.pending_stock() == {("B", "WH1"): 1}
    (record,) = store.held_orders()
    assert (record.ct_version, record.reason, record.held_since, record.checked_at) == (
        3,
        YOUNG,
        at(0),
        at(0),
    ), "seen again by an ingest, not read again by id"


def test_released_orders_leave_pending_and_unknown_ids_are_ignored(store: StateStore) -> None:
    store.hold_orders([held(1, ("A", "WH1", 2)), held(2, ("A", "WH1", 1))], now=at(0))

    assert store.release_held(["order-00001", "order-09999"]) == 1

    assert store.pending_stock() == {("A", "WH1"): 1}
    assert [h.order_id for h in store.held_orders()] == ["order-00002"]


def test_prima_accepting_an_order_drops_any_held_copy(store: StateStore) -> None:
    store.ingest(due(1, ("A", "WH1", 2)), now=at(0))
    (claimed,) = store.claim("w", lease_seconds=60, limit=1, now=at(1))
    store.begin_submission(claimed.order_id, worker_id="w", now=at(2))
    store.record_prima_reference(claimed.order_id, worker_id="w", reference="SO-1", now=at(3))

    assert store.pending_stock() == {}


def test_held_orders_not_read_again_since_a_moment_are_listed_longest_unchecked_first(
    store: StateStore,
) -> None:
    store.hold_orders([held(1), held(2), held(3)], now=at(0))
    store.hold_orders([held(2)], now=at(10), checked=True)
    store.hold_orders([held(1, version=2)], now=at(5), checked=True)
    store.hold_orders([held(3)], now=at(7))  # seen by a poll: not a check

    assert [h.order_id for h in store.held_orders()] == [
        "order-00003",
        "order-00001",
        "order-00002",
    ]
    assert [h.order_id for h in store.held_orders(checked_before=at(6))] == [
        "order-00003",
        "order-00001",
    ]
    assert [h.order_id for h in store.held_orders(limit=1)] == ["order-00003"]
    store.hold_orders([held(1, version=1)], now=at(8), checked=True)
    assert [h.checked_at for h in store.held_orders()] == [at(0), at(8), at(10)], (
        "an older version read again still counts as a check"
    )


def test_a_negative_quantity_refuses_the_whole_call(store: StateStore) -> None:
    with pytest.raises(StateError, match="quantity"):
        store.hold_orders([held(1, ("A", "WH1", 1)), held(2, ("B", "WH1", -1))], now=at(0))
    assert store.held_orders() == []


def test_many_held_orders_are_dropped_by_one_ingest_page(store: StateStore) -> None:
    store.hold_orders([held(n, ("A", "WH1", 1)) for n in range(1200)], now=at(0))
    store.ingest_many([due(n, ("A", "WH1", 1)) for n in range(1200)], now=at(1))
    assert store.held_orders() == []
    assert store.pending_stock() == {("A", "WH1"): 1200}


# -- the pending figure, as a property --------------------------------------------------------

ORDER_IDS = st.integers(0, 5)
LINES = st.lists(
    st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["WH1", ""]), st.integers(0, 3)),
    max_size=3,
)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("hold"), ORDER_IDS, st.integers(1, 3), LINES),
        st.tuples(st.just("ingest"), ORDER_IDS, st.integers(1, 3), LINES),
        st.tuples(st.just("release"), ORDER_IDS, st.just(0), st.just([])),
        st.tuples(st.just("accept"), ORDER_IDS, st.just(0), st.just([])),
    ),
    max_size=25,
)


def _units(lines: list[tuple[str, str, int]]) -> dict[tuple[str, str], int]:
    units: dict[tuple[str, str], int] = {}
    for sku, depot, quantity in lines:
        units[(sku, depot)] = units.get((sku, depot), 0) + quantity
    return {key: value for key, value in units.items() if value}


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_pending_is_the_sum_of_held_lines_and_lines_prima_has_not_seen(
    kind: str, steps: list[tuple[str, int, int, list[tuple[str, str, int]]]]
) -> None:
    """Whatever happens to orders (held, seen again, ingested, released, accepted by Prima),
    pending equals the held orders' lines plus the unposted ledger orders' lines, and no order
    is in both."""
    store: StateStore = MemoryStore() if kind == "memory" else SqliteStore(":memory:")
    held_lines: dict[int, tuple[int, dict[tuple[str, str], int]]] = {}
    ledger: dict[int, tuple[int, dict[tuple[str, str], int] | None]] = {}  # None: in Prima
    with store:
        for step, (what, n, version, lines) in enumerate(steps):
            now = at(step)
            if what == "hold":
                store.hold_orders([held(n, *lines, version=version)], now=now)
                if n not in ledger and (n not in held_lines or held_lines[n][0] < version):
                    held_lines[n] = (version, _units(lines))
            elif what == "ingest":
                store.ingest(due(n, *lines, version=version), now=now)
                held_lines.pop(n, None)
                if n not in ledger or (version > ledger[n][0] and ledger[n][1] is not None):
                    ledger[n] = (version, _units(lines))
            elif what == "release":
                store.release_held([f"order-{n:05d}"])
                held_lines.pop(n, None)
            elif what == "accept" and n in ledger and ledger[n][1] is not None:
                # Every unposted order is claimable: Prima accepts this one, the rest go back.
                order_id = f"order-{n:05d}"
                for record in store.claim("w", lease_seconds=60, limit=10, now=now):
                    if record.order_id == order_id:
                        store.begin_submission(order_id, worker_id="w", now=now)
                        store.record_prima_reference(
                            order_id, worker_id="w", reference=f"SO-{n}", now=now
                        )
                    else:
                        store.release_lease(record.order_id, worker_id="w", now=now)
                ledger[n] = (ledger[n][0], None)

            expected: dict[tuple[str, str], int] = {}
            parts = [u for _, u in held_lines.values()]
            parts += [u for _, u in ledger.values() if u is not None]
            for units in parts:
                for key, value in units.items():
                    expected[key] = expected.get(key, 0) + value
            assert store.pending_stock() == expected
            assert not {h.order_id for h in store.held_orders()} & {
                f"order-{k:05d}" for k in ledger
            }
