"""Helpers for the command-line suites: the real ``ct-prima-sync`` in subprocesses, settings
files written from dicts."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ct_prima_sync.cli import main

#: The console script of this environment (next to the interpreter running the tests).
COMMAND = str(Path(sys.executable).with_name("ct-prima-sync"))


def run_cli(
    *argv: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
    stdin: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run ``ct-prima-sync argv...`` as a real process; never raises for a non-zero exit."""
    return subprocess.run(  # noqa: S603 (the command under test, with test arguments)
        [COMMAND, *argv],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        check=False,
    )


def run_in_process(*argv: str) -> tuple[int, str, str]:
    """``main(argv)`` in this process, for the many small cases."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


def to_toml(data: Mapping[str, Any], prefix: str = "") -> str:
    """A nested dict of scalars and lists as TOML (tables as ``[a.b]`` headers)."""
    scalars = [f"{k} = {_value(v)}" for k, v in data.items() if not isinstance(v, Mapping)]
    text = ""
    if prefix and (scalars or not any(isinstance(v, Mapping) for v in data.values())):
        text += f"[{prefix}]\n"
    text += "".join(line + "\n" for line in scalars)
    for key, value in data.items():
        if isinstance(value, Mapping):
            text += to_toml(value, f"{prefix}.{key}" if prefix else key)
    return text


def assert_no_traceback(stderr: str) -> None:
    """What a person sees is a sentence, never Python's insides."""
    assert "Traceback" not in stderr, stderr
    assert 'File "' not in stderr, stderr
