"""Every Python block of README.md and docs/ runs as written (docs/CONTRIBUTING.md).

The blocks of a page run in order in one namespace, in a fresh folder where ``docs/`` is the
repository's (so ``docs/examples/...`` paths work and files a snippet writes stay out of the
repository), with the clients they build connected to the fakes (``fakes.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .blocks import PYTHON, REPO, Block, blocks, pages
from .fakes import routed_to_fakes


def _python_pages() -> list[tuple[Path, list[Block]]]:
    found = []
    for page in pages():
        python = [b for b in blocks(page) if b.language in PYTHON]
        if python:
            found.append((page, python))
    return found


PAGES = _python_pages()


@pytest.mark.parametrize(
    ("page", "page_blocks"), PAGES, ids=[str(p.relative_to(REPO)) for p, _ in PAGES]
)
def test_every_python_block_of_the_page_runs(
    page: Path,
    page_blocks: list[Block],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "docs").symlink_to(REPO / "docs", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    with routed_to_fakes(monkeypatch):
        for block in page_blocks:
            if block.not_run_reason is not None:
                assert block.not_run_reason, f"{block.where}: not-run needs a reason"
                continue
            # Line numbers in a traceback point into the page itself.
            source = "\n" * (block.line) + block.text
            code = compile(source, str(block.path), "exec")
            try:
                exec(code, namespace)  # noqa: S102 (the project's own documentation)
            except Exception as exc:
                pytest.fail(f"{block.where} fails as written: {type(exc).__name__}: {exc}")


def test_the_pages_are_found() -> None:
    found = {p.relative_to(REPO).as_posix() for p, _ in PAGES}
    assert {"README.md", "docs/engine.md", "docs/stock.md"} <= found
    assert os.path.isdir(REPO / "docs")
