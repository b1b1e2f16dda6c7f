"""docs/dispatch.md runs as written: its Python example and its settings are what the library
takes. (Tests never read outside the repository; docs/ is part of it.)"""

from __future__ import annotations

import re
from pathlib import Path

from ct_prima_sync.mapping import CancelPolicy
from ct_prima_sync.settings import load_settings

DOC = Path(__file__).resolve().parent.parent / "docs" / "dispatch.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_python_example_runs() -> None:
    (example,) = _blocks("python")
    exec(compile(example, str(DOC), "exec"), {})  # noqa: S102 (our own documentation)


def test_the_settings_example_is_valid(tmp_path: Path) -> None:
    (settings,) = [b for b in _blocks("toml") if "[engine.dispatch]" in b]
    path = tmp_path / "ct-prima-sync.toml"
    path.write_text('[state]\nurl = "memory://"\n\n' + settings, encoding="utf-8")
    config = load_settings(path, {}).engine.dispatch
    assert config.on_prima_cancel is CancelPolicy.RAISE
    assert config.carrier("dpd").url_for("1Z") == ("https://www.dpd.co.uk/apps/tracking/?parcel=1Z")
    assert len(config.schedule.intervals) == 4
