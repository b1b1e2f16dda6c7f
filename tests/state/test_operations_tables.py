"""Schema v5 in every store: each flow's runs, shadow records, the ledger listed by status, and
purges of personal data that keep amounts and references."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ct_prima_sync.errors import StateError
from ct_prima_sync.state import (
    ExceptionFilter,
    OrderStatus,
    OrderTotals,
    Owner,
    ShadowRecord,
    ShadowVerdict,
    StateStore,
    open_store,
)
from ct_prima_sync.state._schema import MIGRATIONS, SCHEMA_VERSION

from .conftest import T0, at, order


def test_a_flow_run_records_its_start_its_end_its_counts_and_adds_up_totals(
    store: StateStore,
) -> None:
    assert store.list_flow_runs() == []
    store.start_flow_run("orders", now=at(0))
    (running,) = store.list_flow_runs()
    assert running.running
    assert (running.runs, running.last_succeeded_at) == (0, None)

    first = store.finish_flow_run(
        "orders", started_at=at(0), now=at(12.5), failure=None, counts={"posted": 3, "none": 0}
    )
    assert not first.running
    assert (first.last_succeeded_at, first.last_duration_seconds) == (at(12.5), 12.5)
    assert first.last_counts == {"none": 0, "posted": 3}
    assert first.totals == {"posted": 3}

    store.start_flow_run("orders", now=at(60))
    failed = store.finish_flow_run(
        "orders", started_at=at(60), now=at(62), failure="PRIMA_UNAVAILABLE", counts={"posted": 2}
    )
    assert (failed.last_failed_at, failed.last_failure) == (at(62), "PRIMA_UNAVAILABLE")
    assert failed.last_succeeded_at == at(12.5)
    assert (failed.runs, failed.failures, failed.consecutive_failures) == (2, 1, 1)
    assert failed.totals == {"posted": 5}
    assert failed.total_seconds == pytest.approx(14.5)

    store.start_flow_run("stock", now=at(70))
    again = store.finish_flow_run("orders", started_at=at(80), now=at(81), failure=None, counts={})
    assert (again.consecutive_failures, again.failures, again.last_failure) == (
        0,
        1,
        "PRIMA_UNAVAILABLE",
    )
    assert [r.flow for r in store.list_flow_runs()] == ["orders", "stock"]
    with pytest.raises(StateError, match="whole numbers"):
        store.finish_flow_run("orders", started_at=at(0), now=at(1), failure=None,
                              counts={"x": 1.5})  # type: ignore[dict-item]  # fmt: skip
    with pytest.raises(StateError, match="flow must be"):
        store.start_flow_run("", now=at(0))


def test_orders_are_listed_by_status_oldest_first(store: StateStore) -> None:
    for n in (3, 1, 2):
        store.ingest(order(n), now=at(n))
    (claimed,) = store.claim("w1", lease_seconds=30, limit=1, now=at(10))
    assert [r.order_id for r in store.list_orders([OrderStatus.NEW])] == [
        "order-00002",
        "order-00003",
    ]
    assert [r.order_id for r in store.list_orders([OrderStatus.CLAIMED])] == [claimed.order_id]
    assert len(store.list_orders(list(OrderStatus), limit=2)) == 2
    assert store.list_orders([]) == []


def _shadow(n: int, **changes: Any) -> ShadowRecord:
    values: dict[str, Any] = {
        "order_id": f"order-{n:05d}",
        "order_number": f"N{n:05d}",
        "mode": "shadow",
        "verdict": ShadowVerdict.WOULD_SEND,
        "totals": OrderTotals(currency="EUR", fraction_digits=2, net=1000, tax=190, gross=1190),
        "lines": 2,
        "customer_key": f"id:customer-{n}",
        "payload": {"customer": {"email": f"anna{n}@example.com"}},
        "recorded_at": at(n),
    }
    values.update(changes)
    return ShadowRecord(**values)


def test_shadow_records_replace_older_ones_and_lose_only_their_payload_when_purged(
    store: StateStore,
) -> None:
    store.put_shadow_orders([_shadow(1), _shadow(2), _shadow(3, kinds=("UNMAPPED_SKU",))])
    store.put_shadow_orders([_shadow(2, verdict=ShadowVerdict.WOULD_EXCEPT, kinds=("X", "Y"))])
    listed = store.list_shadow_orders()
    assert [(r.order_number, r.verdict, r.kinds) for r in listed] == [
        ("N00001", ShadowVerdict.WOULD_SEND, ()),
        ("N00002", ShadowVerdict.WOULD_EXCEPT, ("X", "Y")),
        ("N00003", ShadowVerdict.WOULD_SEND, ("UNMAPPED_SKU",)),
    ]
    assert listed[0].payload == {"customer": {"email": "anna1@example.com"}}
    assert "anna1" not in repr(listed[0])
    assert [r.order_number for r in store.list_shadow_orders(since=at(2), limit=1)] == ["N00002"]

    assert store.purge_shadow_payloads(now=at(100), recorded_before=at(2)) == 1
    assert store.purge_shadow_payloads(now=at(100), customer_keys=["id:customer-3"]) == 1
    assert store.purge_shadow_payloads(now=at(100), order_ids=["order-00003"]) == 0
    first, second, third = store.list_shadow_orders()
    assert (first.payload, first.customer_key, first.purged_at) == (None, None, at(100))
    assert second.payload is not None
    assert third.payload is None
    assert first.totals == second.totals  # amounts and references stay
    assert first.order_number == "N00001"


def _scrub(detail: dict[str, Any]) -> dict[str, Any]:
    return {"order_number": detail.get("order_number"), "purged": True}


def test_exceptions_are_scrubbed_once_by_age_by_order_or_by_what_they_contain(
    store: StateStore,
) -> None:
    old = store.record_exception(
        kind="PRIMA_REJECTED",
        owner=Owner.OPERATIONS,
        detail={"order_number": "N1", "request_error": "bad e-mail Jürgen@Example.com"},
        now=at(0),
        order_id="o-1",
    )
    store.resolve_exception(old.exception_id, note="called Jürgen", now=at(10), by="maria")
    fresh = store.record_exception(
        kind="PRIMA_REJECTED", owner=Owner.OPERATIONS, detail={"order_number": "N2"}, now=at(0),
        order_id="o-2",
    )  # fmt: skip
    store.record_exception(
        kind="UNMAPPED_SKU", owner=Owner.ECOMMERCE, detail={"order_number": "N3"}, now=at(0),
        order_id="o-3",
    )  # fmt: skip

    def scrubbed(**where: Any) -> int:
        return store.scrub_exceptions(now=at(100), scrub=_scrub, note="(removed)", **where)

    assert scrubbed() == 0
    assert scrubbed(resolved_before=at(5)) == 0
    assert scrubbed(resolved_before=at(11)) == 1
    assert scrubbed(resolved_before=at(11)) == 0
    done = store.get_exception(old.exception_id)
    assert done is not None
    assert (done.detail, done.resolution_note, done.resolved_by) == (
        {"order_number": "N1", "purged": True},
        "(removed)",
        "maria",
    )
    assert scrubbed(order_ids=["o-2"]) == 1
    store.record_exception(
        kind="PRIMA_REJECTED",
        owner=Owner.OPERATIONS,
        detail={"order_number": "N2", "request_error": "no such mail ANNA@example.com"},
        now=at(20),
        order_id="o-2",
    )
    assert scrubbed(containing=["anna@example.com"]) == 1
    again = store.get_exception(fresh.exception_id)
    assert again is not None
    assert again.detail == {"order_number": "N2", "purged": True}
    assert again.occurrences == 2
    (untouched,) = store.list_exceptions(ExceptionFilter(kind="UNMAPPED_SKU"))
    assert untouched.detail == {"order_number": "N3"}


def test_a_non_ascii_text_is_found_in_stored_detail(store: StateStore) -> None:
    store.record_exception(
        kind="X", owner=Owner.FINANCE, detail={"note": "Jürgen Weiß"}, now=at(0), order_id="o"
    )
    assert store.scrub_exceptions(now=at(1), scrub=_scrub, note="", containing=["jürgen"]) == 1


def test_customer_map_entries_are_forgotten(store: StateStore) -> None:
    store.put_customer("id:c-1", "C1", now=at(0))
    store.put_customer("id:c-2", "C2", now=at(0))
    assert store.forget_customer_keys(["id:c-1", "id:c-9"]) == 1
    assert store.get_customer("id:c-1") is None
    assert store.get_customer("id:c-2") is not None
    store.compact()


def test_a_version_4_sqlite_file_opens_at_the_current_version_with_its_rows_intact(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v4.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
        "applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    for version, statements in MIGRATIONS["sqlite"]:
        if version <= 4:
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    conn.execute(
        "INSERT INTO exceptions (kind, owner, order_id, detail, first_seen, last_seen, "
        "occurrences, transient, resolved_at, resolution_note, resolved_by) VALUES "
        "('UNMAPPED_SKU', 'ecommerce', 'o-1', '{\"order_number\": \"N1\"}', ?, ?, 1, 0, ?, "
        "'done', 'maria')",
        (T0.isoformat(), T0.isoformat(), T0.isoformat()),
    )
    conn.commit()
    conn.close()
    with open_store(f"sqlite:///{path}") as store:
        (old,) = store.list_exceptions(ExceptionFilter(open_only=False))
        assert (old.kind, old.detail, old.resolved_by) == ("UNMAPPED_SKU", {"order_number": "N1"},
                                                           "maria")  # fmt: skip
        assert store.scrub_exceptions(now=at(1), scrub=_scrub, note="x", resolved_before=at(1)) == 1
        store.start_flow_run("orders", now=at(0))
        assert [r.flow for r in store.list_flow_runs()] == ["orders"]
        assert store.schema_version() == SCHEMA_VERSION  # type: ignore[attr-defined]
