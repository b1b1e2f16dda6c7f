"""Who resolved an exception (schema v3), orders found by number, and stores that must exist."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ct_prima_sync.errors import StateNotFoundError
from ct_prima_sync.state import ExceptionFilter, Owner, StateStore, open_store
from ct_prima_sync.state._schema import MIGRATIONS

from .conftest import T0, order


def test_a_version_2_sqlite_file_opens_at_version_3_with_its_rows_intact(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
        "applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    for version, statements in MIGRATIONS["sqlite"]:
        if version <= 2:
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    conn.execute(
        "INSERT INTO exceptions (kind, owner, order_id, detail, first_seen, last_seen, "
        "occurrences, transient, resolved_at, resolution_note) VALUES "
        "('UNMAPPED_SKU', 'ecommerce', 'o-1', '{}', ?, ?, 1, 0, ?, 'done by hand')",
        (T0.isoformat(), T0.isoformat(), T0.isoformat()),
    )
    conn.commit()
    conn.close()
    with open_store(f"sqlite:///{path}") as store:
        (old,) = store.list_exceptions(ExceptionFilter(open_only=False))
        assert (old.kind, old.resolution_note, old.resolved_by) == (
            "UNMAPPED_SKU",
            "done by hand",
            None,
        )
        new = store.record_exception(kind="X", owner=Owner.FINANCE, detail={}, now=T0)
        closed = store.resolve_exception(new.exception_id, note="ok", now=T0, by="maria")
        assert closed.resolved_by == "maria"


def test_every_store_keeps_who_resolved_and_finds_orders_by_number(store: StateStore) -> None:
    store.ingest(order(7), now=T0)
    found = store.get_order_by_number("N00007")
    assert found is not None
    assert found.order_id == "order-00007"
    assert store.get_order_by_number("N99999") is None
    record = store.record_exception(kind="X", owner=Owner.FINANCE, detail={}, now=T0)
    assert store.resolve_exception(record.exception_id, note="n", now=T0, by="finance team")
    again = store.get_exception(record.exception_id)
    assert again is not None
    assert again.resolved_by == "finance team"


def test_a_store_that_does_not_exist_is_refused_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    with pytest.raises(StateNotFoundError, match="no state at"):
        open_store(f"sqlite:///{missing}", create=False)
    assert not missing.exists()
    with pytest.raises(StateNotFoundError):
        open_store("memory://", create=False)


@pytest.mark.postgres
def test_an_empty_postgres_schema_is_refused_when_it_must_exist(postgres_url: str) -> None:
    with pytest.raises(StateNotFoundError):
        open_store(postgres_url, create=False)
    open_store(postgres_url).close()
    open_store(postgres_url, create=False).close()
