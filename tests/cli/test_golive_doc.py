"""docs/golive.md, walked as written: every command of the runbook's ``sh`` blocks runs in a real
process beside ``serve-fakes``, with the exit code the runbook promises, and does what it says
(nothing reaches Prima before the hold step; each order once after it)."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
from pathlib import Path

import pytest

from .conftest import COMMAND, assert_no_traceback, run_cli
from .test_operations_doc import _key

RUNBOOK = Path(__file__).parents[2] / "docs" / "golive.md"

#: The exit code of each command of the runbook in this walk; a command added to the runbook
#: without an entry here fails the test.
EXPECTED = {
    "ct-prima-sync test-alerts": 0,
    "ct-prima-sync run --dry-run": 0,
    "ct-prima-sync run --mode shadow": 0,
    "ct-prima-sync run --mode shadow --from 2026-11-14 --to 2026-11-21": 0,
    "ct-prima-sync shadow-report": 1,  # nothing is in Prima yet: every order is missing there
    "ct-prima-sync run --mode hold --max-orders 10": 0,
    "ct-prima-sync run --from 2026-11-20 --to 2026-11-21": 0,
    "ct-prima-sync run": 0,
    "ct-prima-sync health": 0,
    "ct-prima-sync purge --days 30": 0,
}


def _commands() -> list[str]:
    import re

    blocks = re.findall(r"```sh\n(.*?)```", RUNBOOK.read_text(encoding="utf-8"), re.S)
    return [
        raw.strip()
        for block in blocks
        for raw in block.splitlines()
        if shlex.split(raw, comments=True)
    ]


@pytest.mark.slow
def test_every_step_of_the_go_live_runbook_works_as_written(tmp_path: Path) -> None:
    commands = _commands()
    assert commands[0] == "ct-prima-sync serve-fakes --write ct-prima-sync.toml &"
    server = subprocess.Popen(  # noqa: S603 (the command under test)
        [COMMAND, "serve-fakes", "--write", "ct-prima-sync.toml", "--orders", "50"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        assert "serving a commercetools fake" in server.stderr.readline()
        outputs = {}
        for line in commands[1:]:
            key = _key(line)
            assert key in {_key(k) for k in EXPECTED}, f"new command in the runbook: {line}"
            expected = next(v for k, v in EXPECTED.items() if _key(k) == key)
            result = run_cli(*shlex.split(line)[1:], cwd=tmp_path)
            assert_no_traceback(result.stderr)
            assert result.returncode == expected, (line, result.stdout, result.stderr)
            outputs[key] = result.stdout
            if key == _key("ct-prima-sync shadow-report"):
                report = run_cli("shadow-report", "--format", "json", cwd=tmp_path)
                counts = json.loads(report.stdout)
                assert counts["only_in_prima"] == counts["cancelled_in_prima"] == 0
                assert counts["missing_in_prima"] == 48  # every order that would be sent
                assert counts["agree"] == 2  # the bad ones the library holds back
                posted = run_cli("health", "--format", "json", cwd=tmp_path)
                assert json.loads(posted.stdout)["orders_by_status"]["done"] == 0
        assert (
            "dry run: nothing was sent and nothing was changed"
            in outputs[_key("ct-prima-sync run --dry-run")]
        )
        assert "shadow run: nothing was sent" in outputs[_key("ct-prima-sync run --mode shadow")]
        assert "HoldOrder=Yes" in outputs[_key("ct-prima-sync run --mode hold --max-orders 10")]
        held = run_cli("shadow-report", "--all", "--format", "json", cwd=tmp_path)
        rows = json.loads(held.stdout)["rows"]
        assert 0 < len([r for r in rows if r["library"] == "sent_held"]) <= 10
        assert {r["prima_status"] for r in rows if r["library"] == "sent_held"} == {"On Hold"}
        final = run_cli("health", "--format", "json", cwd=tmp_path)
        health = json.loads(final.stdout)
        assert health["orders_by_status"]["done"] == 48
        assert health["flows"]["shadow"]["runs"] == 2
        assert (
            "purged personal data older than 30 days"
            in outputs[_key("ct-prima-sync purge --days 30")]
        )
    finally:
        server.send_signal(signal.SIGINT)
        code = server.wait(timeout=30)
        _, err = server.communicate()
    assert code == 0
    assert_no_traceback(err)
