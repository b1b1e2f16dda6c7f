"""``ct-prima-sync reconcile`` as finance runs it at month end: the real command in a subprocess;
exit 0 when the month balances, 1 with gaps (each named), 2 when a side cannot be read."""

from __future__ import annotations

import json
from pathlib import Path

from ct_prima_sync.testing import PrimaEmulator
from ct_prima_sync.testing.factories import LineSpec, make_order
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

from .conftest import assert_no_traceback, run_cli, run_in_process, write_settings
from .test_postings_cli import FAIL_FAST, POSTINGS


def _orphan(scenario: SyncScenario) -> dict[str, object]:
    """An order placed before the engine's cursor: polling never sees it."""
    sku = scenario.world.skus()[0]
    order = make_order(
        lines=[LineSpec(sku="-".join((sku.product, *sku.matrix)), quantity=1, unit_price=1500)],
        order_number="ORPHAN-1",
        seed=404,
    )
    order["createdAt"] = "2026-11-20T08:00:00.000Z"
    order["lastModifiedAt"] = "2026-11-20T08:00:01.000Z"
    return scenario.commercetools.add_order(order)


def test_a_balanced_month_exits_0_and_an_orphan_exits_1_until_repaired(tmp_path: Path) -> None:
    scenario = build_scenario(orders=6, bad_every=0, seed=9)
    emulator = PrimaEmulator(scenario.world)
    with scenario.commercetools.serve() as ct_url, emulator.serve() as prima_url:
        settings = write_settings(tmp_path, scenario, ct_url=ct_url, prima_url=prima_url)
        with settings.open("a", encoding="utf-8") as handle:
            handle.write(POSTINGS)
        config = ("--config", str(settings))
        assert run_in_process("run", "orders", *config)[0] == 0
        assert run_in_process("run", "postings", "--period", "2026-11-20", *config)[0] == 0
        balanced = run_cli("reconcile", "--period", "2026-11", *config)
        _orphan(scenario)
        gaps = run_in_process("reconcile", "--period", "2026-11", "--format", "csv", *config)
        repaired = run_in_process("reconcile", "--period", "2026-11", "--repair", *config)
        after = run_in_process("reconcile", "--period", "2026-11", "--format", "json", *config)
    assert balanced.returncode == 0, balanced.stdout + balanced.stderr
    assert "reconciliation 2026-11: BALANCED" in balanced.stdout
    assert "not run: in Prima, unknown to commercetools" in balanced.stdout
    assert gaps[0] == 1
    rows = gaps[1].splitlines()
    assert rows[0] == "type,owner,currency,order_number,batch_id,difference,detail"
    assert rows[1].startswith("orphan,operations,EUR,ORPHAN-1,,")
    assert len(rows) == 2
    assert repaired[0] == 1
    assert "repaired (ingested; the next order run sends them): ORPHAN-1" in repaired[1]
    report = json.loads(after[1])
    assert [g["type"] for g in report["gaps"]] == ["not_in_prima"], "ingested, not sent yet"


def test_reconcile_with_commercetools_gone_is_one_sentence_and_exits_2(tmp_path: Path) -> None:
    scenario = build_scenario(orders=2, bad_every=0, seed=10)
    emulator = PrimaEmulator(scenario.world)
    with emulator.serve() as prima_url:
        with scenario.commercetools.serve() as ct_url:
            settings = write_settings(tmp_path, scenario, ct_url=ct_url, prima_url=prima_url)
            with settings.open("a", encoding="utf-8") as handle:
                handle.write(POSTINGS + FAIL_FAST)
        result = run_cli("reconcile", "--period", "2026-11", "--config", str(settings))
    assert result.returncode == 2
    [error] = [line for line in result.stderr.splitlines() if line.startswith("ct-prima-sync:")]
    assert error.startswith("ct-prima-sync: error: reconciliation did not run: commercetools")
    assert_no_traceback(result.stderr)


def test_reconcile_needs_a_period_and_a_readable_export(tmp_path: Path) -> None:
    code, _, err = run_in_process("reconcile")
    assert code == 2
    assert "--period" in err
    code, _, err = run_in_process("reconcile", "--period", "2026-11-40")
    assert code == 2
    assert "is not a month" in err
    settings = tmp_path / "sync.toml"
    settings.write_text('[state]\nurl = "memory://"\n', encoding="utf-8")
    code, _, err = run_in_process("reconcile", "--period", "2026-11", "--config", str(settings))
    assert code == 2
    assert "reconcile needs a [postings] section" in err
    settings.write_text('[state]\nurl = "memory://"\n' + POSTINGS, encoding="utf-8")
    export = tmp_path / "export.csv"
    export.write_text("order_number,currency\nX,EUR\n", encoding="utf-8")
    code, _, err = run_in_process(
        "reconcile", "--period", "2026-11", "--prima-export", str(export), "--config", str(settings)
    )
    assert code == 2
    assert "lacks the columns order_date, gross" in err
