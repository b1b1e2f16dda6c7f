"""Lazy package exports: a name is imported from its module the first time it is used.

``ct_prima_sync.mapping`` is what iPaaS code steps import, and cold starts there pay for every
module loaded. The ``commercetools`` and ``prima`` packages therefore load their HTTP clients
(and httpx) only when a client name is first used; the models the mapping needs load at once.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` serving each name of ``exports`` (name to
    relative module, ``"._client"``) from its module on first use, then from the package."""

    def get_attribute(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)
        return value

    def names() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return get_attribute, names
