"""``ct-prima-sync run postings`` as finance runs it: the real command in a subprocess, against
the fakes served on loopback, a wrong settings file and a commercetools that is not there."""

from __future__ import annotations

import json
from pathlib import Path

from ct_prima_sync.testing import PrimaEmulator
from ct_prima_sync.testing.scenario import build_scenario

from .conftest import assert_no_traceback, run_cli, run_in_process, write_settings

POSTINGS = """
[postings]
timezone = "Europe/Berlin"
directory = "postings"

[postings.accounts]
debtors_control = "1100"
clearing = { "*" = "1200" }
"""


#: commercetools gone: one attempt each, so the test does not wait out the backoff.
FAIL_FAST = "\n[commercetools.retry]\nmax_attempts = 1\n"


def test_a_day_is_closed_once_and_closing_it_again_posts_nothing(tmp_path: Path) -> None:
    scenario = build_scenario(orders=8, bad_every=0, seed=7)
    emulator = PrimaEmulator(scenario.world)
    with scenario.commercetools.serve() as ct_url, emulator.serve() as prima_url:
        settings = write_settings(tmp_path, scenario, ct_url=ct_url, prima_url=prima_url)
        with settings.open("a", encoding="utf-8") as handle:
            handle.write(POSTINGS)
        assert run_in_process("run", "orders", "--config", str(settings))[0] == 0
        first = run_cli("run", "postings", "--period", "2026-11-20", "--config", str(settings))
        code, out, _ = run_in_process(
            "run", "postings", "--period", "2026-11-20", "--config", str(settings),
            "--format", "json",
        )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "settlement-2026-11-20-EUR-001: 8 entries" in first.stdout
    [written] = (tmp_path / "postings").iterdir()
    assert written.name == "journal-settlement-2026-11-20-EUR-001.csv"
    assert code == 0
    summary = json.loads(out)
    assert (summary["posted"], summary["batches"]) == (0, [])
    assert len(list((tmp_path / "postings").iterdir())) == 1


def test_postings_with_commercetools_gone_stop_with_one_sentence_and_exit_1(
    tmp_path: Path,
) -> None:
    scenario = build_scenario(orders=3, bad_every=0, seed=8)
    emulator = PrimaEmulator(scenario.world)
    with emulator.serve() as prima_url:
        with scenario.commercetools.serve() as ct_url:
            settings = write_settings(tmp_path, scenario, ct_url=ct_url, prima_url=prima_url)
            with settings.open("a", encoding="utf-8") as handle:
                handle.write(POSTINGS + FAIL_FAST)
            assert run_in_process("run", "orders", "--config", str(settings))[0] == 0
        gone = run_cli("run", "postings", "--period", "2026-11-20", "--config", str(settings))
    assert gone.returncode == 1
    assert "STOPPED: commercetools did not answer" in gone.stdout
    assert_no_traceback(gone.stderr)
    assert not (tmp_path / "postings").exists()


def test_a_wrong_timezone_is_named_with_its_key_and_exits_2(tmp_path: Path) -> None:
    settings = tmp_path / "sync.toml"
    settings.write_text(
        '[state]\nurl = "memory://"\n[postings]\ntimezone = "Mars/Olympus"\n', encoding="utf-8"
    )
    result = run_cli("run", "postings", "--config", str(settings))
    assert result.returncode == 2
    assert "[postings] timezone" in result.stderr
    assert "Mars/Olympus" in result.stderr
    assert_no_traceback(result.stderr)


def test_postings_without_a_postings_section_say_what_to_add(tmp_path: Path) -> None:
    settings = tmp_path / "sync.toml"
    settings.write_text('[state]\nurl = "memory://"\n', encoding="utf-8")
    code, _, err = run_in_process("run", "postings", "--config", str(settings))
    assert code == 2
    assert "needs a [postings] section" in err


def test_a_wrong_period_is_one_sentence_and_exits_2() -> None:
    code, _, err = run_in_process("run", "postings", "--period", "2026-13")
    assert code == 2
    assert "is not a month (2026-11), a day (2026-11-03) or a range of days" in err
    code, _, err = run_in_process("run", "stock", "--period", "2026-11")
    assert code == 2
    assert "--period and --confirm belong to the postings flow" in err
