"""Stock of a simulated Prima: on hand and allocated per SKU per depot (not thread-safe alone).

Available to sell (ATS) is on hand minus allocated. Allocation happens when an order is accepted,
and never takes ATS below zero unless backorders are allowed; despatch takes the quantity off both
on hand and allocated; cancelling releases what was allocated.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ...errors import PayloadError
from ...prima import SkuCode, StockLevel

__all__ = ["StockBook"]

_Key = tuple[SkuCode, str]


class StockBook:
    """On-hand and allocated quantities keyed by (SKU, depot); the world's lock guards it."""

    def __init__(self, *, allow_backorders: bool = False) -> None:
        self.allow_backorders = allow_backorders
        self._on_hand: dict[_Key, int] = {}
        self._allocated: dict[_Key, int] = {}

    def set_on_hand(self, sku: SkuCode, depot: str, quantity: int) -> None:
        """Set the physical stock of a SKU in a depot (a stock take)."""
        if quantity < 0:
            raise PayloadError("on-hand stock cannot be negative", path=f"{sku}@{depot}")
        self._on_hand[(sku, depot)] = quantity
        self._allocated.setdefault((sku, depot), 0)

    def receive(self, sku: SkuCode, depot: str, quantity: int) -> None:
        """Add goods received into a depot."""
        self.set_on_hand(sku, depot, self.on_hand(sku, depot) + quantity)

    def on_hand(self, sku: SkuCode, depot: str) -> int:
        """Physical stock of a SKU in a depot."""
        return self._on_hand.get((sku, depot), 0)

    def allocated(self, sku: SkuCode, depot: str) -> int:
        """Stock of a SKU in a depot promised to accepted orders and not yet despatched."""
        return self._allocated.get((sku, depot), 0)

    def available(self, sku: SkuCode, depot: str) -> int:
        """Available to sell: on hand minus allocated."""
        return self.on_hand(sku, depot) - self.allocated(sku, depot)

    def shortfalls(self, demand: Iterable[tuple[SkuCode, str, int]]) -> list[str]:
        """Why this demand cannot be allocated (empty if it can, or if backorders are allowed)."""
        if self.allow_backorders:
            return []
        wanted: dict[_Key, int] = {}
        for sku, depot, quantity in demand:
            wanted[(sku, depot)] = wanted.get((sku, depot), 0) + quantity
        return [
            f"insufficient stock for {sku} at {depot}: {self.available(sku, depot)} available,"
            f" {quantity} ordered"
            for (sku, depot), quantity in wanted.items()
            if quantity > self.available(sku, depot)
        ]

    def allocate(self, sku: SkuCode, depot: str, quantity: int) -> None:
        """Promise stock to an accepted order (call :meth:`shortfalls` first)."""
        self._allocated[(sku, depot)] = self.allocated(sku, depot) + quantity
        self._on_hand.setdefault((sku, depot), 0)

    def release(self, sku: SkuCode, depot: str, quantity: int) -> None:
        """Give back stock promised to an order that will not ship (cancelled)."""
        self._allocated[(sku, depot)] = self.allocated(sku, depot) - quantity

    def ship(self, sku: SkuCode, depot: str, quantity: int) -> None:
        """Despatched goods leave the depot: off on hand and off allocated."""
        self._on_hand[(sku, depot)] = self.on_hand(sku, depot) - quantity
        self._allocated[(sku, depot)] = self.allocated(sku, depot) - quantity

    def levels(self, skus: Iterable[SkuCode] | None = None) -> Iterator[StockLevel]:
        """ATS per depot for the given SKUs (every SKU when None), ordered by SKU then depot."""
        wanted = None if skus is None else set(skus)
        for sku, depot in sorted(self._on_hand, key=_sort_key):
            if wanted is None or sku in wanted:
                yield StockLevel(sku=sku, depot=depot, available=self.available(sku, depot))


def _sort_key(key: _Key) -> tuple[str, tuple[str, ...], str]:
    sku, depot = key
    return (sku.product, sku.matrix, depot)
