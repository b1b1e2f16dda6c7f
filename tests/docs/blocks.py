"""The fenced code blocks of the documentation, and the markers that say how each one is run.

The conventions (docs/CONTRIBUTING.md explains them to writers):

- Every ``python`` block of README.md and docs/**/*.md runs, in page order, in one namespace per
  page, so a block may go on from the one before it.
- A shell block (``sh``, ``bash``, ``shell``) runs only when the line before its fence is
  ``<!-- runnable -->``; the runnable blocks of a page run as one ``bash`` script (``set -euo
  pipefail``: every command must exit 0), in page order, except that blocks marked
  ``<!-- runnable: setup -->`` (starting what the others need) go first.
- ``<!-- not-run: REASON -->`` before a ``python`` block leaves it out; the reason is required.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from attrs import frozen

REPO: Final = Path(__file__).resolve().parents[2]
DOCS: Final = REPO / "docs"

PYTHON: Final = frozenset({"python", "py", "python3"})
SHELL: Final = frozenset({"sh", "bash", "shell"})
RUNNABLE_MARKERS: Final = frozenset({"runnable", "runnable: setup"})

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<body>.*?)\s*-->\s*$")
_NOT_RUN = re.compile(r"^not-run:\s*(?P<reason>.*)$")


@frozen
class Block:
    """One fenced block: where it is, its language, its text, and the marker before it."""

    path: Path
    line: int  # 1-based line of the opening fence
    language: str
    text: str
    marker: str | None  # the body of an HTML comment on the line before the fence

    @property
    def where(self) -> str:
        """``docs/page.md:12``, for messages and test ids."""
        return f"{self.path.relative_to(REPO)}:{self.line}"

    @property
    def runnable(self) -> bool:
        """A shell block marked ``<!-- runnable -->``."""
        return self.language in SHELL and self.marker in RUNNABLE_MARKERS

    @property
    def setup(self) -> bool:
        """A runnable block marked ``<!-- runnable: setup -->``: it runs before the others."""
        return self.runnable and self.marker == "runnable: setup"

    @property
    def not_run_reason(self) -> str | None:
        """The reason of a ``<!-- not-run: REASON -->`` marker, if there is one."""
        match = _NOT_RUN.match(self.marker or "")
        return match.group("reason").strip() if match else None


def pages() -> list[Path]:
    """README.md and every Markdown page under docs/ (new pages are found, never listed)."""
    return [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of one Markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence = opening.group("fence")
        indent = len(opening.group("indent"))
        body: list[str] = []
        end = index + 1
        while end < len(lines):
            candidate = lines[end].strip()
            if candidate.startswith(fence[0] * len(fence)) and not candidate.strip(fence[0]):
                break
            body.append(lines[end][indent:] if lines[end][:indent].isspace() else lines[end])
            end += 1
        previous = _previous_line(lines, index)
        marker = _MARKER.match(previous)
        found.append(
            Block(
                path=path,
                line=index + 1,
                language=opening.group("info").lower(),
                text="\n".join(body) + "\n",
                marker=marker.group("body") if marker else None,
            )
        )
        index = end + 1
    return found


def _previous_line(lines: list[str], index: int) -> str:
    for line in reversed(lines[:index]):
        if line.strip():
            return line
    return ""
