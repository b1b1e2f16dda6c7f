"""``ct-prima-sync map-order`` fed hostile order files, as an operator or an iPaaS step would:
each is an INVALID_ORDER result with a clear message and exit code 1, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ct_prima_sync.cli import EXIT_ISSUES
from ct_prima_sync.mapping._json import MAX_ORDER_BYTES

from .mapping.result_schema import VALIDATOR

EXAMPLE = str(Path(__file__).parents[1] / "docs" / "examples" / "mapping.toml")


def _map_file(path: Path) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "ct_prima_sync.cli", "map-order", "--config", EXAMPLE, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, json.loads(done.stdout), done.stderr


def _the_one_issue(result: dict[str, Any]) -> str:
    assert not list(VALIDATOR.iter_errors(result))
    [issue] = result["issues"]
    assert (issue["code"], issue["owner"], result["ok"]) == ("INVALID_ORDER", "ecommerce", False)
    message: str = issue["message"]
    return message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"id": "\xff\xfe order"}', "not UTF-8 text (byte 8)"),
        (b'{"id": "ord-1", ', "not valid JSON"),
        (b'["an", "array"]', "must be a JSON object"),
    ],
    ids=["nested-100000-deep", "not-utf-8", "truncated", "not-an-object"],
)
def test_a_hostile_order_file_is_an_invalid_order_with_exit_1(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "order.json"
    path.write_bytes(content)

    code, result, stderr = _map_file(path)

    assert code == EXIT_ISSUES
    assert expected in _the_one_issue(result)
    assert "Traceback" not in stderr


def test_a_file_larger_than_a_commercetools_document_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:  # a valid JSON string just over the limit
        handle.write(b'"')
        handle.write(b"x" * MAX_ORDER_BYTES)
        handle.write(b'"')

    code, result, stderr = _map_file(path)

    assert code == EXIT_ISSUES
    assert "larger than the 16,777,216 bytes a commercetools document can have" in _the_one_issue(
        result
    )
    assert "Traceback" not in stderr
