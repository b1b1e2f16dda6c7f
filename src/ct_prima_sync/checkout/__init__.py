"""The checkout guard: a commercetools API Extension that refuses, while the shopper is still in
checkout, a cart or order that the order run would refuse (docs/checkout.md).

``app(config, store=...)`` is the ASGI app (Starlette, in the ``checkout`` extra);
:class:`CheckoutSettings` is the ``[checkout]`` settings section. The checks themselves are the
pure :func:`ct_prima_sync.mapping.validate_checkout`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._app import Validator, app
    from ._cache import RefreshingValue, StockCache
    from ._input import BadInput, ExtensionCall, read_extension_input
    from ._register import extension_draft, parse_triggers
    from ._settings import AUTHORIZATION_ENV, CheckoutSettings

# The app loads Starlette: only those who serve it need the extra.
_LAZY = {
    "AUTHORIZATION_ENV": "._settings",
    "BadInput": "._input",
    "CheckoutSettings": "._settings",
    "ExtensionCall": "._input",
    "RefreshingValue": "._cache",
    "StockCache": "._cache",
    "Validator": "._app",
    "app": "._app",
    "extension_draft": "._register",
    "parse_triggers": "._register",
    "read_extension_input": "._input",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "AUTHORIZATION_ENV",
    "BadInput",
    "CheckoutSettings",
    "ExtensionCall",
    "RefreshingValue",
    "StockCache",
    "Validator",
    "app",
    "extension_draft",
    "parse_triggers",
    "read_extension_input",
]
