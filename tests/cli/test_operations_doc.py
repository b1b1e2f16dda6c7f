"""docs/operations.md, walked as written: every command of its ``sh`` blocks runs in a real process
in a folder where ``serve-fakes`` wrote the settings, with the exit code the guide promises."""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import COMMAND, assert_no_traceback, run_cli

GUIDE = Path(__file__).parents[2] / "docs" / "operations.md"

#: The exit code each command of the guide must give in this walk; a command added to the guide
#: without an entry here fails the test, so the guide cannot drift from what the command does.
EXPECTED = {
    "ct-prima-sync run": 0,
    "ct-prima-sync exceptions": 0,
    "ct-prima-sync exceptions --owner finance": 0,
    "ct-prima-sync exceptions --format json": 0,
    "ct-prima-sync order WEB-00-000150": 0,
    "ct-prima-sync retry --kind UNMAPPED_TAX_RATE": 0,
    "ct-prima-sync retry --order WEB-00-000150": 0,
    'ct-prima-sync resolve 3 --note "cancelled in the shop, no Prima order needed" '
    '--by "maria (ecommerce)"': 0,
    "ct-prima-sync exceptions --all": 0,
    "ct-prima-sync health": 0,
    "ct-prima-sync migrate --verify-against-prima": 0,
}


def guide_commands() -> list[str]:
    """The ``ct-prima-sync`` command lines of the guide's ``sh`` blocks, comments removed, in
    order."""
    blocks = re.findall(r"```sh\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    lines = []
    for block in blocks:
        for raw in block.splitlines():
            words = shlex.split(raw, comments=True)
            if words and words[0] == "ct-prima-sync":  # not the shell's waiting loop
                lines.append(shlex.join(words) if not raw.rstrip().endswith("&") else raw)
    return lines


def _key(line: str) -> str:
    return " ".join(shlex.quote(w) if " " in w else w for w in shlex.split(line, comments=True))


@pytest.mark.slow
def test_every_command_of_the_operations_guide_works_as_written(tmp_path: Path) -> None:
    commands = guide_commands()
    background = [c for c in commands if c.rstrip().endswith("&")]
    assert background == ["ct-prima-sync serve-fakes --write ct-prima-sync.toml &"]
    words = shlex.split(background[0].rstrip(" &"))
    server = subprocess.Popen(  # noqa: S603 (the command under test)
        [COMMAND, *words[1:]],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        ready = server.stderr.readline()
        assert "serving a commercetools fake" in ready, ready
        assert (tmp_path / "ct-prima-sync.toml").is_file()
        seen = []
        for line in commands:
            if line in background:
                continue
            key = _key(line)
            assert key in {_key(k) for k in EXPECTED}, f"new command in the guide: {line}"
            expected = next(v for k, v in EXPECTED.items() if _key(k) == key)
            result = run_cli(*shlex.split(line)[1:], cwd=tmp_path)
            assert_no_traceback(result.stderr)
            assert result.returncode == expected, (line, result.stdout, result.stderr)
            seen.append((key, result.stdout))
        outputs = dict(seen)
        assert "posted" in outputs[_key("ct-prima-sync run")]
        story = outputs[_key("ct-prima-sync order WEB-00-000150")]
        assert "PRIMA_REJECTED" in story
        assert "maria (ecommerce)" in outputs[_key("ct-prima-sync exceptions --all")]
        assert (
            "2 order(s) back in the backlog"
            in outputs[_key("ct-prima-sync retry --kind UNMAPPED_TAX_RATE")]
        )
    finally:
        server.send_signal(signal.SIGINT)
        started = time.monotonic()
        code = server.wait(timeout=30)
        _, err = server.communicate()
    assert code == 0
    assert_no_traceback(err)
    assert time.monotonic() - started < 10
