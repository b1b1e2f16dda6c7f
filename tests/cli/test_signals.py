"""SIGINT and SIGTERM during a real run: the orders in hand finish, the claimed ones are released,
the summary prints, the exit code is 130 or 143, and the next run goes on at once."""

from __future__ import annotations

import importlib.abc
import os
import signal
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from ct_prima_sync import _console as console
from ct_prima_sync.cli import EXIT_INTERRUPTED
from ct_prima_sync.state import open_store
from ct_prima_sync.testing import PrimaEmulator
from ct_prima_sync.testing.scenario import build_scenario

from .conftest import COMMAND, assert_no_traceback, run_cli
from .test_prima_down import _settings


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_a_run_cleanly_and_the_next_run_takes_over_at_once(
    tmp_path: Path, signum: int, code: int
) -> None:
    scenario = build_scenario(orders=120, bad_every=0, seed=11)
    emulator = PrimaEmulator(scenario.world)
    with scenario.commercetools.serve() as ct_url, emulator.serve() as prima_url:
        settings = _settings(tmp_path, ct_url=ct_url, prima_url=prima_url, scenario=scenario)
        text = settings.read_text(encoding="utf-8").replace(
            "rate_limit = 1000.0", "rate_limit = 15.0"
        )
        settings.write_text(text.replace("burst = 50", "burst = 1"), encoding="utf-8")
        process = subprocess.Popen(  # noqa: S603 (the command under test)
            [COMMAND, "run"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        deadline = time.monotonic() + 60
        while len(scenario.world.orders()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, "the run ended before it could be stopped"
        process.send_signal(signum)
        sent = time.monotonic()
        out, err = process.communicate(timeout=60)
        assert time.monotonic() - sent < 15
        assert process.returncode == code, err
        assert_no_traceback(err)
        assert "stopping: finishing the orders in hand" in err
        assert "stopped on request" in out
        posted_before = len(scenario.world.orders())
        assert posted_before < 120
        with open_store(f"sqlite:///{tmp_path / 'sync.db'}") as store:
            for number in scenario.good:
                record = store.get_order_by_number(number)
                assert record is None or record.lease_owner is None, record

        settings.write_text(text, encoding="utf-8")  # full speed for the rest
        started = time.monotonic()
        rest = run_cli("run", "orders", "--format", "json", cwd=tmp_path)
        assert rest.returncode == 0, rest.stderr
        assert time.monotonic() - started < 60
    submissions = scenario.world.submission_counts()
    assert all(submissions[n] == 1 for n in scenario.good)


class _InterruptedImport(importlib.abc.MetaPathFinder):
    """Raises KeyboardInterrupt when ``ct_prima_sync.cli`` is imported, as a Ctrl-C does that
    arrives while the console script is still loading the command line."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        if fullname == "ct_prima_sync.cli":
            raise KeyboardInterrupt


def test_ctrl_c_while_the_command_is_still_loading_is_one_line_and_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delitem(sys.modules, "ct_prima_sync.cli")
    monkeypatch.setattr(sys, "meta_path", [_InterruptedImport(), *sys.meta_path])

    assert console.main() == EXIT_INTERRUPTED

    assert capsys.readouterr().err == "ct-prima-sync: interrupted\n"


def test_the_console_script_is_the_guarded_entry_point() -> None:
    (script,) = entry_points(group="console_scripts", name="ct-prima-sync")
    assert script.value == "ct_prima_sync._console:main"
