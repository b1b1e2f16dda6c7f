"""ct-prima-sync: keep a commercetools project and a Prima ERP exactly in step.

The public entry points live in the subpackages (see docs/architecture.md):
``ct_prima_sync.money``, ``ct_prima_sync.commercetools``, ``ct_prima_sync.prima``,
``ct_prima_sync.mapping``, ``ct_prima_sync.state``, ``ct_prima_sync.engine`` and
``ct_prima_sync.testing``. Every exception derives from
:class:`ct_prima_sync.errors.CtPrimaSyncError`.
"""

from importlib.metadata import PackageNotFoundError, version

from .errors import CtPrimaSyncError

__all__ = ["CtPrimaSyncError", "__version__"]

try:
    __version__ = version("ct-prima-sync")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
