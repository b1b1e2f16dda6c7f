"""The InventoryEntry: stock of one SKU in one supply channel."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import frozen

from .base import extra_field
from .common import CustomFields, Reference

__all__ = ["InventoryEntry"]


@frozen(kw_only=True)
class InventoryEntry:
    """Stock of ``sku`` in ``supply_channel`` (``None``: the channel-less entry).

    ``available_quantity`` is ``quantity_on_stock`` minus what orders (and cart reservations)
    hold; both are eventually consistent after orders. ``stock_levels`` is kept as sent.
    """

    id: str
    version: int
    created_at: datetime
    last_modified_at: datetime
    sku: str
    quantity_on_stock: int
    available_quantity: int
    supply_channel: Reference | None = None
    key: str | None = None
    restockable_in_days: int | None = None
    expected_delivery: datetime | None = None
    min_cart_quantity: int | None = None
    max_cart_quantity: int | None = None
    reservation_expiration_in_minutes: int | None = None
    stock_levels: Mapping[str, Any] | None = None
    custom: CustomFields | None = None
    extra: Mapping[str, Any] = extra_field()
