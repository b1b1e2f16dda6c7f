"""``ct-prima-sync run stock`` as operators run it: a real process over loopback HTTP to the
commercetools fake and the Prima emulator, its exit codes, and a run killed half way."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import pytest

from ct_prima_sync.cli import main
from ct_prima_sync.testing import PrimaEmulator
from tests.engine.stock_world import DEPOTS, MAPPING_TOML, StockWorld, stock_world

SECRET_VARIABLE = "TEST_STOCK_CT_SECRET"


def _settings(
    tmp_path: Path, world: StockWorld, ct_url: str, prima_url: str, engine_stock: str = ""
) -> Path:
    supply = ", ".join(f'"{world.channel_ids[k]}" = "{d}"' for k, d in DEPOTS.items())
    (tmp_path / "mapping.toml").write_text(
        MAPPING_TOML.format(supply=supply, buffer=world.buffer, extra=""), encoding="utf-8"
    )
    settings = tmp_path / "sync.toml"
    settings.write_text(
        f"""
[state]
url = "sqlite:///{tmp_path / "sync.db"}"

[commercetools]
project_key = "{world.ct.project_key}"
api_url = "{ct_url}"
auth_url = "{ct_url}"
client_id = "{world.ct.client_id}"
client_secret_env = "{SECRET_VARIABLE}"

[prima]
endpoint = "{prima_url}"
rate_limit = 500
ats_per_depot = true

[mapping]
file = "mapping.toml"

[engine.stock]
{engine_stock}
""",
        encoding="utf-8",
    )
    return settings


def _command(settings: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ct_prima_sync.cli",
        "run",
        "stock",
        "--config",
        str(settings),
        "--format",
        "json",
        *args,
    ]


#: The stock lock's lease in the kill test: long enough that the second command, started at
#: once, finds it held even on a loaded machine.
LOCK_SECONDS: Final = 10


def _env(world: StockWorld) -> dict[str, str]:
    return {**os.environ, SECRET_VARIABLE: world.ct.client_secret}


def _run(world: StockWorld, settings: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        _command(settings, *args),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_env(world),
    )


@contextmanager
def _served(world: StockWorld) -> Iterator[tuple[str, str]]:
    emulator = PrimaEmulator(world.world)
    with world.ct.serve() as ct_url, emulator.serve() as prima_url:
        yield ct_url, prima_url


@pytest.fixture
def world() -> Iterator[StockWorld]:
    with stock_world() as opened:
        opened.seed_entries(on_stock=3)
        yield opened


def _writes(world: StockWorld) -> list[Any]:
    return [r for r in world.ct.requests if r.method == "POST" and "/inventory" in r.path]


def test_run_stock_prints_the_plan_and_writes_only_what_changed(
    world: StockWorld, tmp_path: Path
) -> None:
    with _served(world) as (ct_url, prima_url):
        settings = _settings(tmp_path, world, ct_url, prima_url)
        world.ct.clear_requests()
        dry = _run(world, settings, "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert json.loads(dry.stdout)["planned"] == 6
        assert _writes(world) == []

        done = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
            [sys.executable, "-m", "ct_prima_sync.cli", "run", "stock", "--config", str(settings)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=_env(world),
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[0] == (
            "stock: read 6 entries, wrote 6 (6 first_sync), 0 already right, 0 failed"
        )
        assert "Prima's whole catalogue checked (6 rows)" in done.stdout
        assert "Traceback" not in done.stderr
        assert world.available("TEE1-S", "wh-main") == 18

        world.ct.delete_inventory_entry("CAP2-ONE", supply_channel="wh-north")
        one = _run(world, settings, "--sku", "CAP2-ONE", "--no-catalogue")
        assert one.returncode == 0, one.stderr
        summary = json.loads(one.stdout)
        assert (summary["created"], summary["unchanged"], summary["catalogue_rows"]) == (1, 1, None)
        assert world.available("CAP2-ONE", "wh-north") == 18


def test_stock_options_on_the_order_run_and_a_missing_channel_are_one_line_errors(
    world: StockWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_VARIABLE, world.ct.client_secret)
    with _served(world) as (ct_url, prima_url):
        settings = _settings(tmp_path, world, ct_url, prima_url)
        code, _, err = _main("run", "orders", "--config", str(settings), "--sku", "A")
        assert code == 2
        assert err.strip().splitlines() == [
            "ct-prima-sync: error: --sku and --catalogue belong to the stock flow: run stock"
        ]
        mapping = (tmp_path / "mapping.toml").read_text(encoding="utf-8")
        (tmp_path / "mapping.toml").write_text(
            mapping.replace('"WH2" = "wh-north"', '"WH2" = "wh-gone"'), encoding="utf-8"
        )
        code, _, err = _main("run", "stock", "--config", str(settings))
        assert code == 2
        assert "Traceback" not in err
        assert "wh-gone" in err.splitlines()[-1]


def _main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow  # the Prima client retries a refused connection with backoff, in real time
def test_a_dead_prima_stops_the_run_with_exit_1_and_one_outage_exception_for_operations(
    world: StockWorld, tmp_path: Path
) -> None:
    with world.ct.serve() as ct_url:
        settings = _settings(tmp_path, world, ct_url, "http://127.0.0.1:9/omlink")
        stopped = _run(world, settings)
    assert stopped.returncode == 1
    assert "Traceback" not in stopped.stderr
    assert json.loads(stopped.stdout)["status"] == "incomplete"
    listing = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "ct_prima_sync.cli",
            "exceptions",
            "--config",
            str(settings),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=_env(world),
    )
    (record,) = json.loads(listing.stdout)
    assert (record["kind"], record["owner"], record["order_id"], record["subject"]) == (
        "PRIMA_UNAVAILABLE",
        "operations",
        None,
        None,
    )


@pytest.mark.slow
def test_a_stock_run_killed_half_way_holds_the_lock_until_it_expires_then_the_next_completes(
    tmp_path: Path,
) -> None:
    skus = [f"TEE{n}-S" for n in range(1, 31)]
    with stock_world(skus=skus, ct_sleep=time.sleep) as world:
        world.seed_entries(on_stock=0)
        slow = PrimaEmulator(world.world)
        world.ct.faults.latency(0.05, method="POST", path="/inventory/")  # 50 ms per write
        with world.ct.serve() as ct_url, slow.serve() as prima_url:
            settings = _settings(
                tmp_path,
                world,
                ct_url,
                prima_url,
                engine_stock=f"lock_seconds = {LOCK_SECONDS}\nconcurrency = 2\nchunk_size = 10",
            )
            world.ct.clear_requests()
            process = subprocess.Popen(  # noqa: S603
                _command(settings, "--no-catalogue"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=_env(world),
            )
            deadline = time.monotonic() + 60
            while len(_writes(world)) < 5:
                assert time.monotonic() < deadline, "the run never started writing"
                assert process.poll() is None, process.communicate()
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
            process.wait(30)
            killed_at = time.monotonic()
            written = {r.path for r in _writes(world)}
            assert 5 <= len(written) < 60, "killed half way"

            busy = _run(world, settings, "--no-catalogue")
            assert busy.returncode == 0, busy.stderr
            # Only meaningful while the dead run's lease can still hold: a loaded machine may
            # take seconds to start the command.
            assert time.monotonic() - killed_at < LOCK_SECONDS, "the check came too late"
            assert json.loads(busy.stdout)["status"] == "already_running"

            # The dead run's lease runs out at the latest LOCK_SECONDS after it was killed (real
            # time: a real process).
            time.sleep(max(0.0, killed_at + LOCK_SECONDS + 0.2 - time.monotonic()))
            world.ct.clear_requests()
            done = _run(world, settings, "--no-catalogue")
            assert done.returncode == 0, done.stderr
            summary = json.loads(done.stdout)
            assert summary["status"] == "completed"
            assert summary["updated"] + summary["unchanged"] == 60
            assert summary["updated"] <= 60 - 5 + 2, "what the dead run wrote is not written again"
            for sku in skus:
                for key in DEPOTS:
                    assert world.available(sku, key) == 18
