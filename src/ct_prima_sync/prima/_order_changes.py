"""Optional: passing changes made in the shop on to Prima (cancellations, returns).

Prima's public documentation shows no request for either, so these are not part of
:class:`~ct_prima_sync.prima.PrimaGateway`. A gateway that can do them also implements
:class:`PrimaOrderChanges`; the dispatch flow uses them only when the settings say so
(``cancel_in_prima``, ``returns_to_prima``) and raises an operations exception otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from attrs import frozen

from ._models import SkuCode

__all__ = ["PrimaOrderChanges", "ReturnLine"]


@frozen(kw_only=True)
class ReturnLine:
    """A returned quantity of one order line: the commercetools line id it came from, the Prima
    SKU (None when the line maps to none) and the return item's id (the idempotency key)."""

    line_reference: str
    sku: SkuCode | None
    quantity: int
    return_reference: str


@runtime_checkable
class PrimaOrderChanges(Protocol):
    """Cancellations and returns a Prima installation accepts from the shop (site-specific).

    Both may be sent again after a crash: an implementation treats a repeat (the same order
    cancelled again, the same ``return_reference`` again) as done, not as an error. Errors are
    those of :class:`~ct_prima_sync.prima.PrimaGateway`.
    """

    def cancel_order(self, order_number: str, *, reason: str = "") -> None:
        """Ask Prima to cancel an order that has not shipped."""
        ...

    def record_return(self, order_number: str, lines: Sequence[ReturnLine]) -> None:
        """Tell Prima that these quantities of an order came back."""
        ...
