"""ct-prima-sync: keep a commercetools project and a Prima ERP exactly in step.

The public entry points live in the subpackages (see docs/architecture.md):
``ct_prima_sync.money``, ``ct_prima_sync.commercetools``, ``ct_prima_sync.prima``,
``ct_prima_sync.mapping``, ``ct_prima_sync.state``, ``ct_prima_sync.engine`` and
``ct_prima_sync.testing``. Every exception derives from
:class:`ct_prima_sync.errors.CtPrimaSyncError`.
"""

from typing import Any

from .errors import CtPrimaSyncError

__all__ = ["CtPrimaSyncError", "__version__"]

__version__: str


def __getattr__(name: str) -> Any:
    # importlib.metadata costs more than the whole pure mapping: read the version on first use.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        found = version("ct-prima-sync")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0.0.0"
    globals()["__version__"] = found
    return found
