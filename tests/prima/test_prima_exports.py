"""The prima package's public surface: __all__ is sorted and names only what exists."""

from __future__ import annotations

import ct_prima_sync.prima._xml as codec
from ct_prima_sync import prima


def _isort_key(name: str) -> tuple[int, str]:
    # ruff's RUF022 order: CONSTANTS, then Classes, then functions.
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_the_public_names_exist_and_are_sorted() -> None:
    for module in (prima, codec):
        names: list[str] = list(module.__all__)
        assert names == sorted(names, key=_isort_key)
        assert all(hasattr(module, name) for name in names)


def test_the_entry_points_the_design_promises_are_exported() -> None:
    for name in ("PrimaGateway", "OmlinkClient", "OmlinkConfig"):
        assert name in prima.__all__
