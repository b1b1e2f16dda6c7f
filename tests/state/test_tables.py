"""Exception queue, customer map, cursors, stock snapshot, posting batches and flow locks."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from ct_prima_sync.errors import ConfigurationError, DuplicateRecordError, StateError
from ct_prima_sync.state import (
    BatchMember,
    BatchStatus,
    ExceptionFilter,
    OrderTotals,
    Owner,
    StateStore,
    StockUpdate,
    customer_key_for_email,
    customer_key_for_id,
    migrate_guest_keys,
)

from .conftest import at

SECRET = "an-installation-secret"


def test_the_same_open_exception_is_counted_not_duplicated(store: StateStore) -> None:
    first = store.record_exception(
        kind="unknown_sku", owner=Owner.OPERATIONS, detail={"sku": "A"}, now=at(0), order_id="o1"
    )
    again = store.record_exception(
        kind="unknown_sku",
        owner=Owner.OPERATIONS,
        detail={"sku": "B"},
        now=at(5),
        order_id="o1",
        transient=True,
        next_retry_at=at(60),
    )
    assert again.exception_id == first.exception_id
    assert again.occurrences == 2
    assert (again.first_seen, again.last_seen) == (at(0), at(5))
    assert again.detail == {"sku": "B"}
    assert again.transient
    assert again.next_retry_at == at(60)
    other_order = store.record_exception(
        kind="unknown_sku", owner=Owner.OPERATIONS, detail={}, now=at(6), order_id="o2"
    )
    assert other_order.exception_id != first.exception_id
    assert store.get_exception(first.exception_id) == again


def test_a_resolved_exception_seen_again_opens_a_new_one(store: StateStore) -> None:
    first = store.record_exception(kind="k", owner=Owner.FINANCE, detail={}, now=at(0))
    resolved = store.resolve_exception(first.exception_id, note="fixed tax code", now=at(1))
    assert resolved.resolved_at == at(1)
    assert resolved.resolution_note == "fixed tax code"
    assert not resolved.is_open
    with pytest.raises(StateError, match="already resolved"):
        store.resolve_exception(first.exception_id, note="again", now=at(2))
    second = store.record_exception(kind="k", owner=Owner.FINANCE, detail={}, now=at(3))
    assert second.exception_id != first.exception_id
    assert second.occurrences == 1
    assert second.order_id is None


def test_exceptions_are_listed_by_owner_kind_order_and_openness(store: StateStore) -> None:
    a = store.record_exception(kind="tax", owner=Owner.FINANCE, detail={}, now=at(0), order_id="1")
    b = store.record_exception(
        kind="sku", owner=Owner.OPERATIONS, detail={}, now=at(0), order_id="1"
    )
    c = store.record_exception(kind="tax", owner=Owner.FINANCE, detail={}, now=at(0), order_id="2")
    store.resolve_exception(c.exception_id, note="ok", now=at(1))

    def ids(where: ExceptionFilter) -> list[int]:
        return [e.exception_id for e in store.list_exceptions(where)]

    assert ids(ExceptionFilter()) == [a.exception_id, b.exception_id]
    assert ids(ExceptionFilter(open_only=False)) == [a.exception_id, b.exception_id, c.exception_id]
    assert ids(ExceptionFilter(owner=Owner.FINANCE)) == [a.exception_id]
    assert ids(ExceptionFilter(kind="sku")) == [b.exception_id]
    assert ids(ExceptionFilter(order_id="1")) == [a.exception_id, b.exception_id]
    assert ids(ExceptionFilter(open_only=False, kind="tax", order_id="2")) == [c.exception_id]
    assert len(store.list_exceptions(ExceptionFilter(open_only=False), limit=1)) == 1


def test_marking_for_replay_makes_open_exceptions_due(store: StateStore) -> None:
    a = store.record_exception(kind="tax", owner=Owner.FINANCE, detail={}, now=at(0), order_id="1")
    b = store.record_exception(kind="sku", owner=Owner.OPERATIONS, detail={}, now=at(0))
    assert store.due_exceptions(now=at(1000)) == []
    assert store.mark_for_replay(ExceptionFilter(kind="tax"), now=at(10)) == [a.exception_id]
    assert [e.exception_id for e in store.due_exceptions(now=at(10))] == [a.exception_id]
    assert store.due_exceptions(now=at(9)) == []
    assert store.mark_for_replay(ExceptionFilter(), now=at(11)) == [a.exception_id, b.exception_id]


def test_exception_detail_must_be_json(store: StateStore) -> None:
    with pytest.raises(StateError, match="JSON"):
        store.record_exception(kind="k", owner=Owner.FINANCE, detail={"x": object()}, now=at(0))
    with pytest.raises(StateError, match="JSON"):
        store.record_exception(kind="k", owner=Owner.FINANCE, detail={"x": float("nan")}, now=at(0))
    assert store.list_exceptions() == []


def test_exception_detail_stays_out_of_the_repr(store: StateStore) -> None:
    record = store.record_exception(
        kind="k", owner=Owner.ECOMMERCE, detail={"email": "ann@example.com"}, now=at(0)
    )
    assert "ann@example.com" not in repr(record)


def test_unknown_exceptions_are_reported(store: StateStore) -> None:
    assert store.get_exception(999) is None
    with pytest.raises(StateError, match="unknown exception"):
        store.resolve_exception(999, note="", now=at(0))


def test_customers_map_to_prima_accounts_without_storing_email(store: StateStore) -> None:
    key = customer_key_for_email("  Ann@Example.com ", secret=SECRET)
    assert key == customer_key_for_email("ann@example.com", secret=SECRET)
    assert "ann" not in key
    store.put_customer(key, "C100", now=at(0))
    store.put_customer(customer_key_for_id("cust-1"), "C200", now=at(0))
    store.put_customer(key, "C101", now=at(5))
    mapping = store.get_customer(key)
    assert mapping is not None
    assert (mapping.account_code, mapping.updated_at) == ("C101", at(5))
    assert store.get_customer(customer_key_for_id("nobody")) is None


def test_customers_are_read_together_as_each_alone(store: StateStore) -> None:
    keys = [customer_key_for_id(f"cust-{n}") for n in range(1203)]  # more than one statement
    for n, key in enumerate(keys):
        if n % 3 == 0:
            store.put_customer(key, f"C{n}", now=at(n % 7))
    wanted = [*keys, keys[0], customer_key_for_id("nobody")]
    found = store.get_customers(wanted)
    assert found == {k: m for k in wanted if (m := store.get_customer(k)) is not None}
    assert len(found) == 401
    assert store.get_customers([]) == {}


def test_a_guest_key_cannot_be_matched_against_addresses_without_the_secret() -> None:
    key = customer_key_for_email("ann@example.com", secret=SECRET)
    unkeyed = hashlib.sha256(b"ann@example.com").hexdigest()
    assert unkeyed not in key
    assert key != customer_key_for_email("ann@example.com", secret=SECRET + "-other")
    assert key.startswith("email-hmac:")


def test_a_short_or_missing_secret_is_a_configuration_error_naming_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="CT_PRIMA_SYNC_CUSTOMER_KEY_SECRET"):
        customer_key_for_email("ann@example.com", secret="short")


def test_old_unkeyed_guest_keys_are_rewritten_without_the_addresses(store: StateStore) -> None:
    # What earlier versions wrote: the bare SHA-256 of the normalised address.
    legacy = {
        f"email-sha256:{hashlib.sha256(email.encode()).hexdigest()}": code
        for email, code in (("ann@example.com", "C1"), ("bob@example.com", "C2"))
    }
    for key, code in legacy.items():
        store.put_customer(key, code, now=at(0))
    store.put_customer(customer_key_for_id("cust-1"), "C3", now=at(0))
    # A guest the engine already met under the new key keeps that mapping.
    store.put_customer(customer_key_for_email("bob@example.com", secret=SECRET), "C9", now=at(1))

    assert migrate_guest_keys(store, secret=SECRET, now=at(2)) == 2
    assert migrate_guest_keys(store, secret=SECRET, now=at(3)) == 0

    ann = store.get_customer(customer_key_for_email("ann@example.com", secret=SECRET))
    bob = store.get_customer(customer_key_for_email("bob@example.com", secret=SECRET))
    assert (ann and ann.account_code, bob and bob.account_code) == ("C1", "C9")
    assert all(store.get_customer(key) is None for key in legacy)
    assert store.get_customer(customer_key_for_id("cust-1")) is not None


def test_the_rewritten_key_is_an_hmac_of_the_old_hash() -> None:
    digest = hashlib.sha256(b"ann@example.com").hexdigest()
    mac = hmac.new(SECRET.encode(), digest.encode(), hashlib.sha256).hexdigest()
    assert customer_key_for_email(" Ann@Example.com", secret=SECRET) == f"email-hmac:{mac}"


def test_cursors_remember_the_last_value(store: StateStore) -> None:
    assert store.get_cursor("orders") is None
    store.set_cursor("orders", "2026-01-01T00:00:00Z", now=at(0))
    store.set_cursor("orders", "2026-01-02T00:00:00Z", now=at(1))
    cursor = store.get_cursor("orders")
    assert cursor is not None
    assert (cursor.value, cursor.updated_at) == ("2026-01-02T00:00:00Z", at(1))


def test_stock_snapshots_upsert_in_bulk_and_keep_unchanged_figures(store: StateStore) -> None:
    store.upsert_stock(
        [StockUpdate(sku=f"S{i}", depot="D1", last_ats=i) for i in range(1000)], now=at(0)
    )
    store.upsert_stock([StockUpdate(sku="S5", depot="D1", last_pushed=3)], now=at(1))
    store.upsert_stock([], now=at(2))
    keys = [(f"S{i}", "D1") for i in range(1000)] + [("S5", "D2")]
    found = store.get_stock(keys)
    assert len(found) == 1000
    s5 = found[("S5", "D1")]
    assert (s5.last_ats, s5.last_pushed, s5.updated_at) == (5, 3, at(1))
    assert found[("S7", "D1")].last_pushed is None
    assert store.get_stock([]) == {}


def test_an_order_is_in_at_most_one_batch_per_kind(store: StateStore) -> None:
    totals = OrderTotals(currency="EUR", fraction_digits=2, net=100, tax=19, gross=119)
    batch = store.create_batch("B1", kind="revenue", now=at(0))
    assert batch.status is BatchStatus.OPEN
    with pytest.raises(DuplicateRecordError):
        store.create_batch("B1", kind="revenue", now=at(0))
    store.add_to_batch("B1", [BatchMember(order_id=o, totals=totals) for o in ("o2", "o1")])
    store.create_batch("B2", kind="revenue", now=at(1))
    with pytest.raises(DuplicateRecordError):
        store.add_to_batch(
            "B2",
            [BatchMember(order_id="o3", totals=totals), BatchMember(order_id="o1", totals=totals)],
        )
    assert store.batch_members("B2") == []  # all or nothing
    store.create_batch("F1", kind="fees", now=at(1))
    store.add_to_batch("F1", [BatchMember(order_id="o1", totals=totals)])
    assert store.batch_of("o1", kind="revenue") == "B1"
    assert store.batch_of("o1", kind="fees") == "F1"
    assert store.batch_of("o9", kind="fees") is None
    assert [m.order_id for m in store.batch_members("B1")] == ["o1", "o2"]
    assert store.batch_members("B1")[0].totals == totals


def test_each_entry_of_an_order_is_in_one_batch_and_reversals_go_in_later_ones(
    store: StateStore,
) -> None:
    sale = OrderTotals(currency="EUR", fraction_digits=2, net=100, tax=19, gross=119)
    refund = OrderTotals(currency="EUR", fraction_digits=2, net=-50, tax=-9, gross=-59)
    store.create_batch(
        "revenue-2026-11-EUR-001",
        kind="revenue",
        now=at(0),
        period="2026-11",
        currency="EUR",
        sequence=1,
    )
    store.add_to_batch(
        "revenue-2026-11-EUR-001", [BatchMember(order_id="o1", totals=sale, entry="sale")]
    )
    store.close_batch("revenue-2026-11-EUR-001", now=at(1), journal='{"lines": 2}')
    store.mark_batch_posted("revenue-2026-11-EUR-001", reference="J1", now=at(2))
    store.create_batch("revenue-2026-12-EUR-001", kind="revenue", now=at(3), period="2026-12")
    with pytest.raises(DuplicateRecordError):
        store.add_to_batch(
            "revenue-2026-12-EUR-001", [BatchMember(order_id="o1", totals=sale, entry="sale")]
        )
    store.add_to_batch(
        "revenue-2026-12-EUR-001",
        [BatchMember(order_id="o1", totals=refund, entry="refund:t1")],
    )
    assert store.batch_of("o1", kind="revenue", entry="sale") == "revenue-2026-11-EUR-001"
    assert store.batch_of("o1", kind="revenue", entry="refund:t1") == "revenue-2026-12-EUR-001"
    assert store.entries_of(["o1", "o2"], kind="revenue") == [
        ("revenue-2026-12-EUR-001", BatchMember(order_id="o1", totals=refund, entry="refund:t1")),
        ("revenue-2026-11-EUR-001", BatchMember(order_id="o1", totals=sale, entry="sale")),
    ]
    assert store.entries_of(["o1"], kind="fees") == []
    november = store.get_batch("revenue-2026-11-EUR-001")
    assert november is not None
    assert (november.period, november.currency, november.sequence, november.journal) == (
        "2026-11",
        "EUR",
        1,
        '{"lines": 2}',
    )
    assert [b.batch_id for b in store.list_batches(kind="revenue", period="2026-12")] == [
        "revenue-2026-12-EUR-001"
    ]
    assert len(store.list_batches()) == 2


def test_a_batch_moves_from_open_to_closed_to_posted(store: StateStore) -> None:
    store.create_batch("B1", kind="revenue", now=at(0))
    with pytest.raises(StateError, match="not closed"):
        store.mark_batch_posted("B1", reference="P1", now=at(1))
    closed = store.close_batch("B1", now=at(2))
    assert (closed.status, closed.closed_at) == (BatchStatus.CLOSED, at(2))
    with pytest.raises(StateError, match="not open"):
        store.add_to_batch("B1", [])
    posted = store.mark_batch_posted("B1", reference="P1", now=at(3))
    assert (posted.status, posted.prima_reference, posted.posted_at) == (
        BatchStatus.POSTED,
        "P1",
        at(3),
    )
    assert store.get_batch("B1") == posted
    assert store.get_batch("B9") is None
    with pytest.raises(StateError, match="unknown batch"):
        store.close_batch("B9", now=at(0))


def test_a_flow_lock_has_one_owner_until_it_expires_or_is_released(store: StateStore) -> None:
    assert store.try_lock("stock", owner="a", ttl_seconds=60, now=at(0))
    assert not store.try_lock("stock", owner="b", ttl_seconds=60, now=at(59))
    assert store.try_lock("stock", owner="a", ttl_seconds=60, now=at(30))  # renewal
    assert not store.try_lock("stock", owner="b", ttl_seconds=60, now=at(89))
    assert store.try_lock("stock", owner="b", ttl_seconds=60, now=at(90))
    assert not store.unlock("stock", owner="a")
    assert store.unlock("stock", owner="b")
    assert store.try_lock("stock", owner="a", ttl_seconds=60, now=at(91))
    assert store.try_lock("dispatch", owner="b", ttl_seconds=60, now=at(91))
