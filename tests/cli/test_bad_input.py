"""The mistakes an operator makes, each with the sentence and the exit code they get (and never a
traceback); the rows of the issue that first listed them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import assert_no_traceback, run_cli, run_in_process


@pytest.fixture(scope="module")
def demo_state(tmp_path_factory: pytest.TempPathFactory) -> str:
    database = tmp_path_factory.mktemp("demo") / "demo.db"
    code, _, err = run_in_process("demo", "--database", str(database), "--orders", "30")
    assert code == 0, err
    return f"sqlite:///{database}"


def test_a_read_only_command_refuses_a_missing_store_and_creates_nothing(tmp_path: Path) -> None:
    typo = tmp_path / "typo.db"
    for command in ("health", "exceptions", "order WEB-1", "retry --all", "resolve 1 --note x"):
        code, out, err = run_in_process(*command.split(), "--state", f"sqlite:///{typo}")
        assert (code, out) == (2, ""), command
        expected = f"no state at {typo}: check the state URL, or run a sync first"
        assert err == f"ct-prima-sync: error: {expected}\n"
    assert not typo.exists()


def test_the_demo_never_overwrites_a_file_or_a_folder(tmp_path: Path) -> None:
    existing = tmp_path / "sync.db"
    existing.write_bytes(b"precious")
    code, _, err = run_in_process("demo", "--database", str(existing))
    assert code == 2
    assert "the demo never overwrites anything" in err
    assert existing.read_bytes() == b"precious"
    code, _, err = run_in_process("demo", "--database", str(tmp_path))
    assert code == 2
    assert "is a directory" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--orders", "-5"], "argument --orders: must be at least 1, got -5"),
        (["demo", "--orders", "many"], "argument --orders: expected a whole number, got 'many'"),
        (["demo", "--orders", "1000000"], "--orders must be at most 100000"),
        (["demo", "--bad-every", "-1"], "argument --bad-every: must not be negative"),
        (["run", "dispatch", "--period", "2026-11"], "--period and --confirm belong to the"),
        (["run", "orders", "--sku", "A"], "--sku and --catalogue belong to the stock flow"),
        (["run", "dispatch", "--catalogue"], "--sku and --catalogue belong to the stock flow"),
        (["run", "--sku", "A"], "--sku belongs to one stock run: run stock --sku SKU"),
        (["run", "stock", "--mode", "hold"], "--mode, --from and --to are for the orders flow"),
    ],
)
def test_bad_arguments_are_one_sentence_and_exit_2(argv: list[str], message: str) -> None:
    code, _, err = run_in_process(*argv)
    assert code == 2
    assert message in err


def test_no_settings_anywhere_says_how_to_name_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CT_PRIMA_SYNC_CONFIG", raising=False)
    code, _, err = run_in_process("exceptions")
    assert code == 2
    assert "no settings file: give --config FILE, set CT_PRIMA_SYNC_CONFIG, or create" in err


def test_retry_by_the_order_number_the_table_shows(demo_state: str) -> None:
    code, out, _ = run_in_process(
        "exceptions", "--state", demo_state, "--kind", "UNMAPPED_SKU", "--format", "json"
    )
    (record,) = json.loads(out)
    number = record["order_number"]
    assert number == "WEB-00-000025"
    code, out, err = run_in_process("retry", "--order", number, "--state", demo_state)
    assert (code, out) == (0, "1 order(s) back in the backlog; the next run sends them\n"), err
    code, _, err = run_in_process("order", number, "--state", demo_state)
    assert code == 0


def test_retry_refuses_unknown_kinds_and_warns_when_nothing_matches(demo_state: str) -> None:
    code, _, err = run_in_process("retry", "--kind", "UNMAPED_SKU", "--state", demo_state)
    assert code == 2
    assert "unknown kind 'UNMAPED_SKU'; the kinds are: " in err
    assert "UNMAPPED_SKU" in err
    code, out, err = run_in_process("retry", "--kind", "UNKNOWN_DEPOT", "--state", demo_state)
    assert (code, out) == (1, "")
    assert err == "warning: no open exception matches; nothing was requeued\n"
    code, _, err = run_in_process("retry", "--order", "WEB-99", "--state", demo_state)
    assert code == 1
    assert "no order WEB-99 in the ledger" in err
    code, _, err = run_in_process("retry", "--state", demo_state)
    assert code == 2
    assert "say what to retry" in err


def test_resolve_records_who_and_the_note_shows_with_all(demo_state: str) -> None:
    _, out, _ = run_in_process(
        "exceptions", "--state", demo_state, "--kind", "UNMAPPED_SKU", "--format", "json"
    )
    (record,) = json.loads(out)
    ident = str(record["id"])
    code, out, _ = run_in_process(
        "resolve", ident, "--note", "sold out", "--by", "maria", "--state", demo_state
    )
    assert code == 0
    assert out.endswith("resolved by maria\n")
    code, _, err = run_in_process("resolve", ident, "--note", "again", "--state", demo_state)
    assert code == 1
    assert "already resolved" in err
    code, _, err = run_in_process("resolve", "999", "--note", "x", "--state", demo_state)
    assert code == 2
    assert "no exception #999" in err
    _, out, _ = run_in_process("exceptions", "--all", "--state", demo_state)
    assert "maria" in out
    assert "[note: sold out]" in out


def test_deeply_nested_json_to_map_order_is_an_invalid_order_not_a_crash(tmp_path: Path) -> None:
    mapping = Path(__file__).parents[2] / "docs" / "examples" / "mapping.toml"
    deep = '{"id": "o-1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    result = run_cli("map-order", "--config", str(mapping), "-", stdin=deep)
    assert result.returncode == 1
    assert_no_traceback(result.stderr)
    assert json.loads(result.stdout)["issues"][0]["code"] == "INVALID_ORDER"


def test_an_unexpected_fault_is_one_line_with_exit_3_and_a_traceback_only_with_v(
    monkeypatch: pytest.MonkeyPatch, demo_state: str
) -> None:
    from ct_prima_sync.cli import _reports

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ZeroDivisionError

    monkeypatch.setattr(_reports, "health_report", broken)
    code, _, err = run_in_process("health", "--state", demo_state)
    assert code == 3
    assert err == (
        "ct-prima-sync: error: unexpected ZeroDivisionError (a fault in ct-prima-sync; run "
        "again with -v for the traceback and report it)\n"
    )
    code, _, err = run_in_process("health", "--state", demo_state, "-v")
    assert code == 3
    assert "Traceback" in err
