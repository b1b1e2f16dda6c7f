"""Every shell block marked runnable in README.md and docs/ runs as written (docs/CONTRIBUTING.md).

The runnable blocks of a page run as one ``bash -euo pipefail`` script (setup blocks first), in a
fresh folder where ``docs/`` is the repository's, with this environment's ``ct-prima-sync`` and
``python`` first on ``PATH``. Whatever a block starts in the background is stopped at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .blocks import REPO, SHELL, Block, blocks, pages

_PROLOGUE = """\
set -euo pipefail
trap 'kill $(jobs -p) 2>/dev/null || true; wait || true' EXIT
"""


def _runnable_pages() -> list[tuple[Path, list[Block]]]:
    found = []
    for page in pages():
        runnable = [b for b in blocks(page) if b.runnable]
        if runnable:
            found.append(
                (page, [b for b in runnable if b.setup] + [b for b in runnable if not b.setup])
            )
    return found


PAGES = _runnable_pages()


def script(page_blocks: list[Block]) -> str:
    """One bash script of the blocks, each introduced by a comment naming where it comes from."""
    return "\n".join([_PROLOGUE, *(f"# --- {b.where}\n{b.text}" for b in page_blocks)])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "page_blocks"), PAGES, ids=[str(p.relative_to(REPO)) for p, _ in PAGES]
)
def test_every_runnable_shell_block_of_the_page_runs(
    page: Path, page_blocks: list[Block], tmp_path: Path
) -> None:
    (tmp_path / "docs").symlink_to(REPO / "docs", target_is_directory=True)
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("CT_PRIMA_SYNC_CONFIG", None)
    result = subprocess.run(  # noqa: S603 (the project's own documentation)
        ["bash", "-c", script(page_blocks)],  # noqa: S607
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, (
        f"{page.relative_to(REPO)}: the runnable blocks fail as written "
        f"(exit {result.returncode})\n--- stdout\n{result.stdout[-3000:]}\n"
        f"--- stderr\n{result.stderr[-3000:]}"
    )


def test_runnable_markers_sit_on_shell_blocks_only() -> None:
    misplaced = [
        b.where
        for page in pages()
        for b in blocks(page)
        if (b.marker or "").startswith("runnable") and b.language not in SHELL
    ]
    assert not misplaced, f"a runnable marker before a block that is not a shell block: {misplaced}"


def test_unknown_markers_are_refused() -> None:
    unknown = [
        f"{b.where}: <!-- {b.marker} -->"
        for page in pages()
        for b in blocks(page)
        if b.marker is not None
        and b.marker.split(":")[0].strip() in {"runnable", "not-run"}
        and not (b.runnable or b.not_run_reason is not None)
    ]
    assert not unknown, f"markers the docs test does not know: {unknown}"


def test_a_page_marks_commands_runnable() -> None:
    assert any(p.name == "operations.md" for p, _ in PAGES)
