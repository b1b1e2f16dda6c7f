"""A state database at version 6 gains the held-orders tables on open, its rows intact: orders
pending before the upgrade stay pending, and held orders count beside them from then on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ct_prima_sync.state import HeldOrder, HoldReason, OrderLine, open_store

from .conftest import at
from .test_open import _create_at_version

_ORDER = (
    "INSERT INTO orders (order_id, order_number, status, currency, fraction_digits, "
    "net_minor, tax_minor, gross_minor, ct_version, created_at, updated_at) VALUES "
    "('order-00001', 'N00001', 'new', 'EUR', 2, 1001, 190, 1191, 1, {t}, {t})"
)
_LINE = (
    "INSERT INTO order_lines (order_id, sku, depot, quantity) VALUES ('order-00001', 'A', 'WH1', 2)"
)


def _rows_survive_v7(url: str) -> None:
    with open_store(url) as store:
        assert store.pending_stock() == {("A", "WH1"): 2}, "the ledger's lines from v6 stay"
        assert store.held_orders() == []
        store.hold_orders(
            [
                HeldOrder(
                    order_id="order-00002",
                    order_number="N00002",
                    ct_version=1,
                    reason=HoldReason.AWAITING_PAYMENT,
                    lines=(OrderLine(sku="A", depot="WH1", quantity=3),),
                )
            ],
            now=at(5),
        )
        assert store.pending_stock() == {("A", "WH1"): 5}


def test_a_version_6_sqlite_file_opens_at_version_7_with_its_pending_lines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v6.db"
    conn = sqlite3.connect(path)
    _create_at_version(conn.execute, "sqlite", 6)
    conn.execute(_ORDER.format(t="'2026-03-01T12:00:00.000000+00:00'"))
    conn.execute(_LINE)
    conn.commit()
    conn.close()

    _rows_survive_v7(f"sqlite:///{path}")

    conn = sqlite3.connect(path)
    versions = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    conn.close()
    assert (7,) in versions


@pytest.mark.postgres
def test_a_version_6_postgres_schema_opens_at_version_7_with_its_pending_lines(
    postgres_url: str,
) -> None:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        _create_at_version(conn.execute, "postgresql", 6)
        conn.execute(_ORDER.format(t="'2026-03-01T12:00:00Z'"))
        conn.execute(_LINE)
    _rows_survive_v7(postgres_url)
