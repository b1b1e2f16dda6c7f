"""The Python in docs/stock.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STOCK_DOC = Path(__file__).parents[1] / "docs" / "stock.md"
BLOCKS = re.findall(r"```python\n(.*?)```", STOCK_DOC.read_text(encoding="utf-8"), re.DOTALL)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block-{n}" for n in range(len(BLOCKS))])
def test_a_python_block_of_the_stock_guide_runs(
    block: str, capsys: pytest.CaptureFixture[str]
) -> None:
    exec(compile(block, str(STOCK_DOC), "exec"), {})  # noqa: S102 (our own documentation)
    assert "Traceback" not in capsys.readouterr().err


def test_the_guide_has_a_python_example() -> None:
    assert BLOCKS
