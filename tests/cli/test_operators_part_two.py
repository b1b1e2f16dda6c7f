"""The commands for monitoring, alerts, going live and personal data, in real processes and in
process: every mistake is one sentence with exit code 2, and the happy paths say what they did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ct_prima_sync.state import Owner, open_store

from ..monitoring.test_alerts import Receiver
from .conftest import assert_no_traceback, run_cli, run_in_process


@pytest.fixture
def state(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    open_store(url).close()
    return url


@pytest.fixture
def settings(tmp_path: Path, state: str) -> Path:
    path = tmp_path / "sync.toml"
    path.write_text(f'[state]\nurl = "{state}"\n', encoding="utf-8")
    return path


BAD = [
    (["run", "--from", "2026-11-20"], "a replay needs both --from and --to (a bounded date range)"),
    (["run", "--from", "yesterday", "--to", "2026-11-21"],
     "argument --from: expected a date (2026-01-31) or a time with its offset"),
    (["run", "--from", "2026-11-20T10:00:00", "--to", "2026-11-21"],
     "argument --from: give the time's offset, e.g. 2026-11-20T10:00:00+00:00"),
    (["run", "--from", "2026-11-21", "--to", "2026-11-20"], "--from must be before --to"),
    (["run", "stock", "--from", "2026-11-20", "--to", "2026-11-21"],
     "--mode, --from and --to are for the orders flow"),
    (["run", "dispatch", "--dry-run"], "--dry-run is for the orders flow and the stock flow"),
    (["run", "--mode", "sideways"], "argument --mode: invalid choice: 'sideways'"),
    (["metrics", "--port", "-1"], "argument --port: must not be negative, got -1"),
    (["metrics", "--port", "70000"], "--port must be at most 65535, got 70000"),
    (["purge"], "no retention period: set [retention] days in the settings file or give --days"),
    (["purge", "--days", "0"], "argument --days: must be at least 1, got 0"),
    (["forget-customer"], "name the customer: --email, --customer-id and/or --order"),
    (["forget-customer", "--email", "anna"], "--email 'anna' is not an e-mail address"),
    (["shadow-report"], "the shadow report asks Prima: add [prima] to the settings file"),
    (["test-alerts", "--owner", "sales"], "argument --owner: invalid choice: 'sales'"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_each_wrong_input_is_one_sentence_with_exit_2(
    settings: Path, argv: list[str], message: str
) -> None:
    code, out, err = run_in_process(*argv, "--config", str(settings))
    assert code == 2, err
    assert out == ""
    assert message in err
    assert_no_traceback(err)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('[golive]\nmode = "sideways"', '[golive] mode: expected one of "live", "shadow", "hold"'),
        ('[alerts.finance]\nemail = ["f@shop.test"]', "[alerts] finance: sends e-mail: add "
         "[alerts.smtp]"),
        ('[alerts.finance]\nwebhook_url = "https://hooks.test/x"', "[alerts.finance] webhook_url: "
         "secrets never go in the settings file"),
        ("[health.orders]\nstale_after_seconds = -5", "[health.orders] stale_after_seconds: must "
         "be positive"),
        ("[health.billing]\nenabled = true", "[health] billing: unknown key"),
        ("[retention]\ndays = 1.5", "[retention] days: expected a whole number"),
        ('[metrics]\nport = "http"', '[metrics] port: expected a whole number, got the string'),
    ],
)  # fmt: skip
def test_wrong_settings_for_the_new_sections_name_the_key(
    settings: Path, section: str, message: str
) -> None:
    settings.write_text(settings.read_text(encoding="utf-8") + section + "\n", encoding="utf-8")
    code, _, err = run_in_process("health", "--config", str(settings))
    assert code == 2
    assert message in err
    assert "hooks.test" not in err


def test_the_real_command_refuses_a_half_replay_and_forgets_and_purges(
    state: str, settings: Path
) -> None:
    half = run_cli("run", "--config", str(settings), "--to", "2026-11-21")
    assert (half.returncode, half.stdout) == (2, "")
    assert half.stderr == (
        "ct-prima-sync: error: a replay needs both --from and --to (a bounded date range)\n"
    )
    with open_store(state) as store:
        from datetime import UTC, datetime

        store.put_customer("id:c-1", "C1", now=datetime.now(UTC))
        store.record_exception(
            kind="PRIMA_REJECTED",
            owner=Owner.OPERATIONS,
            detail={"request_error": "bad address anna@shop.test"},
            now=datetime.now(UTC),
            order_id="o-1",
        )
    forgot = run_cli(
        "forget-customer", "--state", state, "--email", "anna@shop.test", "--customer-id", "c-1",
        "--order", "WEB-404", "--reference", "DPO-1",
    )  # fmt: skip
    assert forgot.returncode == 0, forgot.stderr
    assert forgot.stdout == (
        "forgotten: 0 payload copie(s), 1 exception text(s), 1 customer map entr(y/ies)\n"
    )
    assert "warning: order WEB-404 is not in the state store" in forgot.stderr
    assert "anna@shop.test" not in forgot.stderr
    assert "erasure request carried out" in forgot.stderr
    code, out, err = run_in_process("purge", "--state", state, "--days", "30", "--format", "json")
    assert code == 0, err
    assert json.loads(out) == {"days": 30, "payloads": 0, "exceptions": 0, "customers": 0}
    for result in (half, forgot):
        assert_no_traceback(result.stderr)


def test_test_alerts_says_which_channel_failed(settings: Path) -> None:
    receiver = Receiver()
    try:
        hook = settings.parent / "hook.txt"
        hook.write_text(receiver.url("/ops"), encoding="utf-8")
        settings.write_text(
            settings.read_text(encoding="utf-8")
            + '[alerts.operations]\nwebhook_url_file = "hook.txt"\n',
            encoding="utf-8",
        )
        code, out, _ = run_in_process("test-alerts", "--config", str(settings))
        assert code == 0
        assert out.splitlines() == [
            "finance: log: sent",
            "operations: log: sent",
            "operations: webhook: sent",
            "ecommerce: log: sent",
        ]
        assert "TEST_ALERT" in receiver.bodies[0]["text"]
        receiver.status = 500
        code, out, _ = run_in_process(
            "test-alerts", "--config", str(settings), "--owner", "operations"
        )
        assert code == 1
        assert out.splitlines()[-1] == "operations: webhook: FAILED (webhook answered HTTP 500)"
    finally:
        receiver.close()


def test_in_shadow_mode_health_expects_shadow_runs_instead_of_order_runs(settings: Path) -> None:
    code, out, _ = run_in_process("health", "--config", str(settings), "--format", "json")
    assert code == 1
    assert json.loads(out)["reasons"] == ["orders: has never run"]
    settings.write_text(
        settings.read_text(encoding="utf-8") + '[golive]\nmode = "shadow"\n', encoding="utf-8"
    )
    code, out, _ = run_in_process("health", "--config", str(settings), "--format", "json")
    health = json.loads(out)
    assert code == 1
    assert health["reasons"] == ["shadow: has never run"]
    assert health["flows"]["orders"]["status"] == "off"
