"""Posting batches made before schema v8 keep their members when the store migrates."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ct_prima_sync.state import BatchMember, OrderTotals, open_store
from ct_prima_sync.state._schema import CREATE_VERSION_TABLE, MIGRATIONS


def test_a_batch_of_the_previous_schema_keeps_its_members(tmp_path: Path) -> None:
    path = tmp_path / "v6.db"
    conn = sqlite3.connect(path)
    conn.execute(CREATE_VERSION_TABLE["sqlite"])
    for version, statements in MIGRATIONS["sqlite"]:
        if version <= 6:
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    conn.execute(
        "INSERT INTO posting_batches VALUES ('B1', 'revenue', 'posted', "
        "'2026-11-01T00:00:00.000000+00:00', NULL, NULL, 'P1')"
    )
    conn.execute("INSERT INTO batch_members VALUES ('B1', 'revenue', 'o1', 'EUR', 2, 100, 19, 119)")
    conn.commit()
    conn.close()
    with open_store(f"sqlite:///{path}") as store:
        totals = OrderTotals(currency="EUR", fraction_digits=2, net=100, tax=19, gross=119)
        assert store.batch_members("B1") == [BatchMember(order_id="o1", totals=totals)]
        assert store.batch_of("o1", kind="revenue") == "B1"
        batch = store.get_batch("B1")
        assert batch is not None
        assert (batch.period, batch.sequence, batch.prima_reference) == ("", 0, "P1")
