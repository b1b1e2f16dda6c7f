"""The sync commands: demo, run (over real HTTP on loopback), and working the exception queue."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
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


def _settings(tmp_path: Path, *, ct_url: str, prima_url: str, since: str, extra: str = "") -> Path:
    """A settings file for the scenario's fakes served on loopback (``extra`` goes under
    ``[engine.dispatch]``, where despatch details are on)."""
    scenario_fake_settings = f"""
[state]
url = "sqlite:///{tmp_path / "sync.db"}"

[commercetools]
project_key = "test-project"
api_url = "{ct_url}"
auth_url = "{ct_url}"
client_id = "fake-client-id"
client_secret_env = "TEST_CT_SECRET"

[prima]
endpoint = "{prima_url}"
rate_limit = 200

[mapping]
file = "mapping.toml"

[engine]
initial_cursor = "{since}"

[engine.dispatch]
despatch_details = true
{extra}
"""
    (tmp_path / "mapping.toml").write_text(SCENARIO_MAPPING_TOML, encoding="utf-8")
    settings = tmp_path / "sync.toml"
    settings.write_text(scenario_fake_settings, encoding="utf-8")
    return settings


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


def test_the_demo_despatches_orders_and_shows_the_deliveries_in_commercetools(
    demo_db: tuple[Path, str],
) -> None:
    _, out = demo_db
    assert "despatched 5 orders in full and 3 in part, and cancelled 1" in out
    assert "wrote 8 deliveries to commercetools" in out
    assert out.count(" Shipped  delivery ") == 5
    assert out.count(" Partial  delivery ") == 3
    assert "cancelled in Prima: ORDER_CANCELLED_IN_PRIMA for ecommerce" in out
    assert "A second dispatch run right after wrote 0 deliveries" in out


def test_the_queue_commands_list_replay_and_resolve(demo_db: tuple[Path, str]) -> None:
    database, _ = demo_db
    state = f"sqlite:///{database}"

    code, out, _ = _run("exceptions", "--state", state, "--format", "json", "--owner", "ecommerce")
    assert code == 0
    records = json.loads(out)
    assert [r["kind"] for r in records] == ["UNMAPPED_SKU", "ORDER_CANCELLED_IN_PRIMA"]
    record = records[0]
    assert record["owner"] == "ecommerce"
    assert "@" not in out

    code, out, _ = _run("exceptions", "--state", state, "--owner", "finance")
    assert (code, out.splitlines()[0]) == (0, "0 open exception(s)")

    code, out, _ = _run("retry", "--state", state, "--kind", "UNMAPPED_SKU")
    assert (code, out.split()[0]) == (0, "1")

    code, out, _ = _run("resolve", "--state", state, str(record["id"]), "--note", "sold out")
    assert code == 0
    assert "resolved" in out
    code, out, _ = _run("exceptions", "--state", state, "--kind", "UNMAPPED_SKU")
    assert out.splitlines()[0] == "0 open exception(s)"
    code, out, _ = _run("exceptions", "--state", state, "--owner", "operations")
    assert "DISCONTINUED9-BLK-M@WH1" in out
    assert "STOCK_NOT_IN_PRIMA" in out


def test_health_exits_1_when_an_exception_is_overdue(demo_db: tuple[Path, str]) -> None:
    database, _ = demo_db
    state = f"sqlite:///{database}"
    code, out, _ = _run("health", "--state", state, "--escalate-after", "1e9", "--format", "json")
    assert code == 0
    assert json.loads(out)["orders_by_status"]["done"] == 39


def test_run_syncs_orders_over_http_with_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = build_scenario(orders=12, bad_every=6, seed=4)
    emulator = PrimaEmulator(scenario.world)
    monkeypatch.setenv("TEST_CT_SECRET", scenario.commercetools.client_secret)
    since = (scenario.first_order_at - timedelta(days=1)).isoformat()
    with scenario.commercetools.serve() as ct_url, emulator.serve() as prima_url:
        settings = _settings(tmp_path, ct_url=ct_url, prima_url=prima_url, since=since)
        code, out, err = _run("run", "orders", "--config", str(settings), "--format", "json")
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


def _command(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "ct_prima_sync.cli", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_run_dispatch_as_a_program_writes_the_deliveries_prima_reports(tmp_path: Path) -> None:
    scenario = build_scenario(orders=6, bad_every=0, seed=6)
    emulator = PrimaEmulator(scenario.world)
    env = {**os.environ, "TEST_CT_SECRET": scenario.commercetools.client_secret}
    since = (scenario.first_order_at - timedelta(days=1)).isoformat()
    with scenario.commercetools.serve() as ct_url, emulator.serve() as prima_url:
        settings = _settings(
            tmp_path,
            ct_url=ct_url,
            prima_url=prima_url,
            since=since,
            extra='[engine.dispatch.carriers.DPD]\nname = "DPD UK"\n',
        )
        orders = _command("run", "orders", "--config", str(settings), "--format", "json", env=env)
        assert orders.returncode == 0, orders.stderr
        assert json.loads(orders.stdout)["posted"] == 6
        first = scenario.world.orders()[0]
        emulator.despatch(first.order_number, carrier="DPD", tracking_numbers=["1ZCLI"])
        done = _command("run", "dispatch", "--config", str(settings), "--format", "json", env=env)
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        assert (summary["taken_on"], summary["checked"], summary["shipped"]) == (6, 6, 1)
        again = _command("run", "dispatch", "--config", str(settings), env=env)
        assert again.returncode == 0, again.stderr
        assert "dispatch: 0 deliveries written" in again.stdout
    ids = {o["orderNumber"]: o["id"] for o in scenario.commercetools.orders()}
    order = scenario.commercetools.order(ids[first.order_number])
    (delivery,) = order["shippingInfo"]["deliveries"]
    assert delivery["parcels"][0]["trackingData"] == {"trackingId": "1ZCLI", "carrier": "DPD UK"}
    assert order["shipmentState"] == "Shipped"
    assert "Traceback" not in done.stderr + again.stderr


@pytest.mark.slow  # the client's read retries back off for real seconds in the subprocess
def test_run_dispatch_against_a_dead_prima_stops_with_exit_1_and_one_sentence(
    tmp_path: Path,
) -> None:
    scenario = build_scenario(orders=2, bad_every=0, seed=6)
    emulator = PrimaEmulator(scenario.world)
    env = {**os.environ, "TEST_CT_SECRET": scenario.commercetools.client_secret}
    since = (scenario.first_order_at - timedelta(days=1)).isoformat()
    with scenario.commercetools.serve() as ct_url:
        with emulator.serve() as prima_url:
            settings = _settings(tmp_path, ct_url=ct_url, prima_url=prima_url, since=since)
            assert _command("run", "orders", "--config", str(settings), env=env).returncode == 0
        done = _command("run", "dispatch", "--config", str(settings), env=env)  # Prima gone
    assert done.returncode == 1
    assert "STOPPED: Prima did not answer" in done.stdout
    assert "Traceback" not in done.stderr


def test_a_wrong_dispatch_setting_is_named_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_CT_SECRET", "s")
    settings = _settings(
        tmp_path, ct_url="http://127.0.0.1:1", prima_url="http://127.0.0.1:1", since="", extra=""
    )
    text = (
        settings.read_text(encoding="utf-8")
        .replace('initial_cursor = ""\n', "")
        .replace("despatch_details = true", "despatch_details = true\nbudget = 10")
    )
    settings.write_text(text, encoding="utf-8")
    code, _, err = _run("run", "dispatch", "--config", str(settings))
    assert code == 2
    assert "[engine.dispatch] budget: unknown key" in err
