"""The sync commands: demo, run (over real HTTP on loopback), and working the exception queue."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from ct_prima_sync.cli import main
from ct_prima_sync.testing import PrimaEmulator
from ct_prima_sync.testing.scenario import SCENARIO_MAPPING_TOML, build_scenario


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    database = tmp_path_factory.mktemp("demo") / "demo.db"
    code, out, err = _run("demo", "--database", str(database), "--orders", "40")
    assert code == 0, err
    return database, out


def test_the_demo_posts_every_good_order_and_explains_every_bad_one(
    demo_db: tuple[Path, str],
) -> None:
    _, out = demo_db
    assert "Posted 39 sales orders to Prima" in out
    assert "equals commercetools' total to the cent" in out
    assert "Exception queue: 2 open" in out
    assert "UNMAPPED_SKU" in out
    assert "A second run right after posted 0 and queued 0" in out


def test_the_demo_runs_stock_passes_and_says_what_changed_and_why(
    demo_db: tuple[Path, str],
) -> None:
    _, out = demo_db
    before = out[out.index("Stock pass before the orders") :]
    assert "first sync of the SKU in that warehouse" in before
    assert "created: commercetools had no entry for Prima's stock" in before
    assert "set to 0: Prima does not know the SKU" in before
    assert "units of orders not yet in Prima were held back as pending" in before
    after = out[out.index("Stock pass after the orders and a delivery of 12 SKUs") :]
    assert "changed 12," in after
    assert "12  Prima's available-to-sell moved" in after
    assert "DISCONTINUED9-BLK-M@WH1  STOCK_NOT_IN_PRIMA" in out


def test_the_queue_commands_list_replay_and_resolve(demo_db: tuple[Path, str]) -> None:
    database, _ = demo_db
    state = f"sqlite:///{database}"

    code, out, _ = _run("exceptions", "--state", state, "--format", "json")
    assert code == 0
    stock, record = sorted(json.loads(out), key=lambda r: r["kind"])
    assert (record["kind"], record["owner"]) == ("UNMAPPED_SKU", "ecommerce")
    assert (stock["kind"], stock["subject"]) == ("STOCK_NOT_IN_PRIMA", "DISCONTINUED9-BLK-M@WH1")
    assert "example.com" not in out

    code, out, _ = _run("exceptions", "--state", state, "--owner", "finance")
    assert (code, out.splitlines()[0]) == (0, "0 exception(s)")

    code, out, _ = _run("retry", "--state", state, "--kind", "UNMAPPED_SKU")
    assert (code, out.split()[0]) == (0, "1")

    code, out, _ = _run("resolve", "--state", state, str(record["id"]), "--note", "sold out")
    assert code == 0
    assert "resolved" in out
    code, out, _ = _run("exceptions", "--state", state)
    assert out.splitlines()[0] == "1 exception(s)"
    assert "DISCONTINUED9-BLK-M@WH1" in out


def test_health_exits_1_when_an_exception_is_overdue(demo_db: tuple[Path, str]) -> None:
    database, _ = demo_db
    code, out, _ = _run("health", "--state", f"sqlite:///{database}", "--escalate-after", "1e9")
    assert code == 0
    assert json.loads(out)["orders_by_status"]["done"] == 39


def test_run_syncs_orders_over_http_with_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = build_scenario(orders=12, bad_every=6, seed=4)
    emulator = PrimaEmulator(scenario.world)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(SCENARIO_MAPPING_TOML, encoding="utf-8")
    monkeypatch.setenv("TEST_CT_SECRET", scenario.commercetools.client_secret)
    since = (scenario.first_order_at - timedelta(days=1)).isoformat()
    with scenario.commercetools.serve() as ct_url, emulator.serve() as prima_url:
        settings = tmp_path / "sync.toml"
        settings.write_text(
            f"""
[state]
url = "sqlite:///{tmp_path / "sync.db"}"

[commercetools]
project_key = "{scenario.commercetools.project_key}"
api_url = "{ct_url}"
auth_url = "{ct_url}"
client_id = "{scenario.commercetools.client_id}"
client_secret_env = "TEST_CT_SECRET"

[prima]
endpoint = "{prima_url}"
rate_limit = 200

[mapping]
file = "mapping.toml"

[engine]
initial_cursor = "{since}"
""",
            encoding="utf-8",
        )
        code, out, err = _run("run", "--config", str(settings))
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["posted"], summary["excepted"]) == (10, 2)
    assert {o.order_number for o in scenario.world.orders()} == set(scenario.good)


def test_a_secret_written_in_the_settings_file_is_refused(tmp_path: Path) -> None:
    settings = tmp_path / "sync.toml"
    settings.write_text(
        '[state]\nurl = "memory://"\n[commercetools]\nproject_key = "p"\nclient_id = "c"\n'
        'client_secret = "hunter2"\n',
        encoding="utf-8",
    )
    code, _, err = _run("run", "--config", str(settings))
    assert code == 2
    assert "client_secret_env" in err
    assert "hunter2" not in err


def test_a_missing_secret_variable_is_named(tmp_path: Path) -> None:
    settings = tmp_path / "sync.toml"
    settings.write_text(
        '[state]\nurl = "memory://"\n[commercetools]\nproject_key = "p"\nclient_id = "c"\n'
        'client_secret_env = "NO_SUCH_VARIABLE_FOR_TESTS"\n',
        encoding="utf-8",
    )
    code, _, err = _run("run", "--config", str(settings))
    assert code == 2
    assert "NO_SUCH_VARIABLE_FOR_TESTS" in err
