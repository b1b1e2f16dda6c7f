"""The ``ct-prima-sync`` command line: map-order and the exit codes operators script against."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ct_prima_sync import __version__
from ct_prima_sync.cli import EXIT_ISSUES, EXIT_OK, EXIT_USAGE, main
from ct_prima_sync.testing.factories import LineSpec, make_order, random_order

EXAMPLE = str(Path(__file__).parents[1] / "docs" / "examples" / "mapping.toml")


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def order_file(tmp_path: Path) -> Path:
    path = tmp_path / "order.json"
    path.write_text(json.dumps(random_order(5, currency="EUR")), encoding="utf-8")
    return path


def test_an_order_that_maps_prints_the_prima_order_and_exits_0(order_file: Path) -> None:
    code, out, err = run("map-order", "--config", EXAMPLE, str(order_file))
    assert code == EXIT_OK, err
    result = json.loads(out)
    assert result["ok"] is True
    assert result["sales_order"]["order_number"] == "ORD-5"
    assert set(result["totals"]) == {"net", "tax", "gross", "by_rate"}
    assert err == ""


def test_the_order_can_come_from_stdin() -> None:
    code, out, _ = run("map-order", "--config", EXAMPLE, "-", stdin=json.dumps(random_order(2)))
    assert code == EXIT_OK
    assert json.loads(out)["ok"] is True


def test_an_order_with_issues_prints_them_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    order = make_order(lines=[LineSpec(sku="??", quantity=1, unit_price=100)])
    path.write_text(json.dumps(order), encoding="utf-8")
    code, out, err = run("map-order", "--config", EXAMPLE, str(path))
    assert code == EXIT_ISSUES
    assert [i["code"] for i in json.loads(out)["issues"]] == ["UNMAPPED_SKU"]
    assert "1 issue(s)" in err


def test_truncated_json_is_an_invalid_order_not_a_crash() -> None:
    code, out, _ = run("map-order", "--config", EXAMPLE, "-", stdin='{"id": "o-1", "line')
    assert code == EXIT_ISSUES
    [issue] = json.loads(out)["issues"]
    assert issue["code"] == "INVALID_ORDER"
    assert "not valid JSON" in issue["message"]


def test_format_omlink_prints_the_multi_new_order_request(order_file: Path) -> None:
    code, out, _ = run("map-order", "--config", EXAMPLE, "--format", "omlink", str(order_file))
    assert code == EXIT_OK
    assert out.startswith("<?xml")
    assert 'RequestType="MultiNewOrder"' in out
    assert 'OrderNumber="ORD-5"' in out


def test_format_omlink_reports_issues_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(make_order(lines=[LineSpec(sku="??", quantity=1, unit_price=1)])))
    code, out, err = run("map-order", "--config", EXAMPLE, "--format", "omlink", str(path))
    assert code == EXIT_ISSUES
    assert out == ""
    assert "UNMAPPED_SKU at lineItems[0].variant.sku" in err


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run("map-order", "--config", EXAMPLE, str(tmp_path / "nope.json"))
    assert code == EXIT_USAGE
    assert "cannot read order" in err


def test_an_invalid_configuration_names_the_setting_and_exits_2(
    tmp_path: Path, order_file: Path
) -> None:
    config = tmp_path / "mapping.toml"
    config.write_text('[depots]\ndefault = "WH9"\nvalid = ["WH1"]\n', encoding="utf-8")
    code, out, err = run("map-order", "--config", str(config), str(order_file))
    assert code == EXIT_USAGE
    assert out == ""
    assert "WH9 mapped but not in depots.valid" in err


def test_configuration_that_is_not_toml_exits_2(tmp_path: Path, order_file: Path) -> None:
    config = tmp_path / "mapping.toml"
    config.write_text("[depots\n", encoding="utf-8")
    code, _, err = run("map-order", "--config", str(config), str(order_file))
    assert code == EXIT_USAGE
    assert "is not valid" in err


def test_bad_arguments_exit_2() -> None:
    assert run("map-order", "order.json")[0] == EXIT_USAGE
    assert run("no-such-command")[0] == EXIT_USAGE
    assert run()[0] == EXIT_USAGE


def test_version_prints_the_version() -> None:
    code, out, _ = run("--version")
    assert code == EXIT_OK
    assert __version__ in out


def test_the_command_runs_as_a_program(order_file: Path) -> None:
    done = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "ct_prima_sync.cli", "map-order", "--config", EXAMPLE, "-"],
        input=order_file.read_text(encoding="utf-8"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == EXIT_OK, done.stderr
    assert json.loads(done.stdout)["order_number"] == "ORD-5"
