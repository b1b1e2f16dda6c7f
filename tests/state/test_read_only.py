"""A state file the sync cannot write is named as read-only, with its path, in the library and
on the command line (one sentence, no traceback)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ct_prima_sync.errors import StateError
from ct_prima_sync.state import Owner, open_store

from .conftest import at


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable for this process: permissions for a normal user (the file and
    its directory, since SQLite writes -wal and -shm files next to it); the immutable attribute
    for root, whom permissions do not stop."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        path.parent.chmod(0o555)
        try:
            yield
        finally:
            path.parent.chmod(0o755)
            path.chmod(0o644)
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("running as root without chattr: no way to make a file read-only here")
    made = subprocess.run([chattr, "+i", str(path)], capture_output=True, check=False)  # noqa: S603
    if made.returncode != 0:
        pytest.skip("running as root on a filesystem without the immutable attribute")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)  # noqa: S603


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    folder = tmp_path / "state"
    folder.mkdir()
    path = folder / "sync.db"
    with open_store(f"sqlite:///{path}") as store:
        store.record_exception(
            kind="UNMAPPED_SKU", owner=Owner.ECOMMERCE, detail={}, now=at(0), order_id="o1"
        )
    return path


def test_writing_a_read_only_state_file_is_a_state_error_naming_it(state_file: Path) -> None:
    with (
        read_only(state_file),
        pytest.raises(StateError) as caught,
        open_store(f"sqlite:///{state_file}") as store,
    ):
        store.set_cursor("orders", "x", now=at(1))
    assert "read-only" in str(caught.value)
    assert str(state_file) in str(caught.value)


def test_the_command_says_read_only_and_the_path_without_a_traceback(state_file: Path) -> None:
    with read_only(state_file):
        done = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
            [
                sys.executable,
                "-m",
                "ct_prima_sync.cli",
                "retry",
                "--state",
                f"sqlite:///{state_file}",
                "--kind",
                "UNMAPPED_SKU",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert "read-only" in done.stderr
    assert str(state_file) in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
