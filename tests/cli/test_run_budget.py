"""Every command that sends requests to Prima for real work goes through the one budget kept in
the state store, so no path can exceed the configured rate, and with adaptive flow control the
run summary reports the rate every worker shares."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ct_prima_sync.testing import PrimaEmulator, PrimaFault, PrimaFaultKind, PrimaRequestKind
from ct_prima_sync.testing.scenario import build_scenario

from .conftest import run_in_process, write_settings


def _budget_row(path: Path) -> str | None:
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT tat FROM request_budgets WHERE name = 'prima'").fetchone()
    return None if row is None else row[0]


def test_run_migrate_and_the_shadow_report_use_the_shared_budget(tmp_path: Path) -> None:
    scenario = build_scenario(orders=4, bad_every=0, seed=21)
    emulator = PrimaEmulator(scenario.world)
    emulator.faults.script(
        PrimaRequestKind.SUBMIT_ORDERS, PrimaFault(kind=PrimaFaultKind.RATE_LIMITED, retry_after=0)
    )
    flow = {"max_rate": 400.0, "increase": 0.01}
    with scenario.commercetools.serve() as ct_url, emulator.serve() as prima_url:
        settings = write_settings(
            tmp_path, scenario, ct_url=ct_url, prima_url=prima_url,
            engine={"submission_flow": flow},
        )  # fmt: skip
        config = ("--config", str(settings))
        code, out, err = run_in_process("run", "orders", "--format", "json", *config)
        assert code == 0, err
        orders = json.loads(out)
        database = tmp_path / "sync.db"
        first = _budget_row(database)
        assert first is not None, "the run's requests went through the shared budget"
        code, _, err = run_in_process("run", "dispatch", *config)
        assert code == 0, err
        second = _budget_row(database)
        assert second is not None
        assert second > first, "the dispatch run's too"
        code, _, err = run_in_process("migrate", "--verify-against-prima", *config)
        assert code == 0, err
    assert orders["submission_rate"] is not None
    assert orders["submission_rate"] < 400.0 * 0.6, "the 429 cut the shared rate"
    with sqlite3.connect(database) as db:
        (value,) = db.execute(
            "SELECT value FROM cursors WHERE name = 'prima:adaptive-rate'"
        ).fetchone()
    # the rate the cut left in the store, grown back a little by the end of the run
    assert json.loads(value)["rate"] <= orders["submission_rate"]
