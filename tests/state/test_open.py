"""Choosing a store by URL, migrations on open, and what a store shows about itself."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs
import pytest

import ct_prima_sync.state as state_pkg
from ct_prima_sync.errors import ConfigurationError, StateError
from ct_prima_sync.state import (
    MemoryStore,
    OrderLine,
    Owner,
    SqliteStore,
    StateStore,
    open_store,
)
from ct_prima_sync.state._schema import MIGRATIONS, SCHEMA_VERSION

from .conftest import at, order

#: Every schema version a new database records, in order.
_VERSIONS = [number for number, _ in MIGRATIONS["sqlite"]]


def test_the_url_picks_the_store(tmp_path: Path) -> None:
    with open_store("memory://") as memory:
        assert isinstance(memory, MemoryStore)
        assert isinstance(memory, StateStore)
    with open_store(f"sqlite:///{tmp_path / 'a.db'}") as sqlite_store:
        assert isinstance(sqlite_store, SqliteStore)
        assert isinstance(sqlite_store, StateStore)
    with open_store("sqlite:///:memory:") as in_memory:
        assert isinstance(in_memory, SqliteStore)
        in_memory.ingest(order(1), now=at(0))
        assert in_memory.get_order("order-00001") is not None


@pytest.mark.parametrize("url", ["mysql://x", "sqlite:///", "nonsense", "memory:/"])
def test_unsupported_urls_are_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="state URL"):
        open_store(url)


def test_a_missing_postgres_extra_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delitem(sys.modules, "ct_prima_sync.state._postgres", raising=False)
    with pytest.raises(ConfigurationError, match=r"ct-prima-sync\[postgres\]"):
        open_store("postgresql://user:secret@127.0.0.1/db")


def test_data_survives_reopening_a_sqlite_file_and_migrations_run_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    with open_store(url) as first:
        first.ingest(order(1), now=at(0))
    with open_store(url) as second:
        assert second.get_order("order-00001") is not None
        assert isinstance(second, SqliteStore)
        assert second.schema_version() == SCHEMA_VERSION
    conn = sqlite3.connect(tmp_path / "sync.db")
    assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone() == (len(_VERSIONS),)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


def test_a_database_from_a_newer_library_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sync.db"
    open_store(f"sqlite:///{path}").close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(StateError, match="newer than this library"):
        open_store(f"sqlite:///{path}")


@pytest.mark.parametrize("attempt", range(5))
def test_many_stores_opening_one_new_sqlite_file_at_once_migrate_it_once(
    tmp_path: Path, attempt: int
) -> None:
    # Repeated: switching a new file to WAL under contention failed about one time in eight.
    url = f"sqlite:///{tmp_path / 'race.db'}"
    with ThreadPoolExecutor(8) as pool:
        stores = list(pool.map(lambda _: open_store(url), range(8)))
    for s in stores:
        s.close()
    conn = sqlite3.connect(tmp_path / "race.db")
    versions = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    assert versions == [(v,) for v in _VERSIONS]
    conn.close()


def test_many_stores_opening_one_postgres_schema_at_once_migrate_it_once(
    postgres_url: str,
) -> None:
    with ThreadPoolExecutor(6) as pool:
        stores = list(pool.map(lambda _: open_store(postgres_url), range(6)))
    try:
        for s in stores:
            assert s.count_orders_by_status()
        first = stores[0]
        assert hasattr(first, "schema_version")
        assert first.schema_version() == SCHEMA_VERSION
    finally:
        for s in stores:
            s.close()


def test_a_postgres_store_never_shows_its_password(postgres_url: str) -> None:
    with open_store(postgres_url) as store:
        assert "postgres" not in repr(store)


def test_an_unreachable_postgres_server_is_a_state_error_without_the_password() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(StateError, match="cannot connect") as caught:
        open_store("postgresql://user:hunter2@127.0.0.1:1/db?connect_timeout=2")
    assert "hunter2" not in str(caught.value)


def test_every_public_name_of_the_package_is_exported() -> None:
    public = {
        name
        for name, value in vars(state_pkg).items()
        if not name.startswith("_") and not isinstance(value, type(sys))
    }
    assert public == set(state_pkg.__all__)
    assert len(state_pkg.__all__) == len(public)


def test_sqlite_unique_constraints_back_up_the_stores_own_checks(tmp_path: Path) -> None:
    path = tmp_path / "sync.db"
    with open_store(f"sqlite:///{path}") as store:
        store.ingest_many([order(1), order(2)], now=at(0))
    conn = sqlite3.connect(path)
    conn.execute("UPDATE orders SET prima_reference = 'SO-1' WHERE order_id = 'order-00001'")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE orders SET prima_reference = 'SO-1' WHERE order_id = 'order-00002'")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE orders SET order_number = 'N00001' WHERE order_id = 'order-00002'")
    conn.close()


def test_postgres_unique_constraints_back_up_the_stores_own_checks(postgres_url: str) -> None:
    import psycopg

    with open_store(postgres_url) as store:
        store.ingest_many([order(1), order(2)], now=at(0))
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE orders SET prima_reference = 'SO-1' WHERE order_id = 'order-00001'")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "UPDATE orders SET prima_reference = 'SO-1' WHERE order_id = 'order-00002'"
            )


def test_a_database_of_an_older_version_is_migrated_forward_on_open(tmp_path: Path) -> None:
    from ct_prima_sync.state._schema import CREATE_VERSION_TABLE, MIGRATIONS

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute(CREATE_VERSION_TABLE["sqlite"])
    for statement in MIGRATIONS["sqlite"][0][1]:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version (version) VALUES (1)")
    conn.commit()
    conn.close()

    with open_store(f"sqlite:///{path}") as store:
        assert store.count_orders_by_status()
    conn = sqlite3.connect(path)
    indexes = {row[1] for row in conn.execute("PRAGMA index_list('exceptions')")}
    versions = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    conn.close()
    assert "exceptions_order_idx" in indexes
    assert versions == [(v,) for v in _VERSIONS]


def _create_at_version(apply: Callable[[str], object], dialect: str, version: int) -> None:
    from ct_prima_sync.state._schema import CREATE_VERSION_TABLE, MIGRATIONS

    apply(CREATE_VERSION_TABLE[dialect])
    for number, statements in MIGRATIONS[dialect]:
        if number > version:
            break
        for statement in statements:
            apply(statement)
        apply(f"INSERT INTO schema_version (version) VALUES ({number})")  # noqa: S608


def _rows_survive_v6(url: str) -> None:
    with open_store(url) as store:
        record = store.get_order("order-00001")
        assert record is not None
        assert record.totals.gross == 1191
        assert record.status.value == "new"
        (old,) = store.list_exceptions()
        assert (old.kind, old.order_id, old.subject, old.detail) == (
            "UNMAPPED_SKU",
            "o-1",
            None,
            {"sku": "A"},
        )
        again = store.record_exception(
            kind="UNMAPPED_SKU", owner=Owner.ECOMMERCE, detail={}, now=at(2), order_id="o-1"
        )
        assert (again.exception_id, again.occurrences) == (old.exception_id, 2)
        assert store.pending_stock() == {}, "orders ingested before v6 have no lines kept"
        store.ingest(
            attrs.evolve(order(2), lines=(OrderLine(sku="A", depot="WH1", quantity=2),)),
            now=at(3),
        )
        assert store.pending_stock() == {("A", "WH1"): 2}


def test_a_version_5_sqlite_file_with_rows_opens_at_version_6_with_the_rows_intact(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v5.db"
    conn = sqlite3.connect(path)
    _create_at_version(conn.execute, "sqlite", 5)
    conn.execute(
        "INSERT INTO orders (order_id, order_number, status, currency, fraction_digits, "
        "net_minor, tax_minor, gross_minor, ct_version, created_at, updated_at) VALUES "
        "('order-00001', 'N00001', 'new', 'EUR', 2, 1001, 190, 1191, 1, "
        "'2026-03-01T12:00:00.000000+00:00', '2026-03-01T12:00:00.000000+00:00')"
    )
    conn.execute(
        "INSERT INTO exceptions (kind, owner, order_id, detail, first_seen, last_seen, "
        "occurrences, transient) VALUES ('UNMAPPED_SKU', 'ecommerce', 'o-1', '{\"sku\":\"A\"}', "
        "'2026-03-01T12:00:01.000000+00:00', '2026-03-01T12:00:01.000000+00:00', 1, 0)"
    )
    conn.commit()
    conn.close()
    _rows_survive_v6(f"sqlite:///{path}")
    conn = sqlite3.connect(path)
    versions = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    conn.close()
    assert versions == [(v,) for v in _VERSIONS]


def test_a_version_5_postgres_schema_with_rows_opens_at_version_6_with_the_rows_intact(
    postgres_url: str,
) -> None:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        _create_at_version(conn.execute, "postgresql", 5)
        conn.execute(
            "INSERT INTO orders (order_id, order_number, status, currency, fraction_digits, "
            "net_minor, tax_minor, gross_minor, ct_version, created_at, updated_at) VALUES "
            "('order-00001', 'N00001', 'new', 'EUR', 2, 1001, 190, 1191, 1, "
            "'2026-03-01T12:00:00Z', '2026-03-01T12:00:00Z')"
        )
        conn.execute(
            "INSERT INTO exceptions (kind, owner, order_id, detail, first_seen, last_seen, "
            "occurrences, transient) VALUES ('UNMAPPED_SKU', 'ecommerce', 'o-1', "
            "'{\"sku\":\"A\"}', '2026-03-01T12:00:01Z', '2026-03-01T12:00:01Z', 1, false)"
        )
    _rows_survive_v6(postgres_url)
