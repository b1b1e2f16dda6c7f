"""The InventoryEntry: stock of one SKU in one supply channel."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from attrs import frozen

from ct_prima_sync.errors import PayloadError

from .base import extra_field
from .common import CustomFields, Reference

__all__ = ["InventoryEntry", "InventoryLevel", "parse_inventory_level"]


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


class InventoryLevel(NamedTuple):
    """The figures of an inventory entry a stock sync reads, without the rest of the entry.

    Read by :meth:`Inventory.levels` and :meth:`Inventory.levels_by_skus` straight from the JSON,
    several times faster than a full :class:`InventoryEntry` (a catalogue has hundreds of
    thousands of entries). ``supply_channel_id`` is ``None`` for the entry without a channel.
    """

    id: str
    version: int
    sku: str
    supply_channel_id: str | None
    quantity_on_stock: int
    available_quantity: int
    expected_delivery: datetime | None = None
    restockable_in_days: int | None = None

    @property
    def channel(self) -> str:
        """The supply channel's id, ``""`` for the entry without one (as a stock plan keyed by
        channel ids names it)."""
        return self.supply_channel_id or ""


def _bad(field: str, path: str, expected: str) -> PayloadError:
    return PayloadError(f"expected {expected}", path=f"{path}.{field}" if path else field)


def parse_inventory_level(data: Any, path: str = "") -> InventoryLevel:
    """An :class:`InventoryLevel` from one InventoryEntry's JSON; PayloadError names a bad
    field. (``type(x) is int`` rather than ``isinstance``: it is faster and refuses booleans.)"""
    if type(data) is not dict:
        raise PayloadError("expected an inventory entry object", path=path)
    entry_id, sku, version = data.get("id"), data.get("sku"), data.get("version")
    on_stock, available = data.get("quantityOnStock"), data.get("availableQuantity")
    if type(entry_id) is not str:
        raise _bad("id", path, "a string")
    if type(sku) is not str:
        raise _bad("sku", path, "a string")
    if type(version) is not int:
        raise _bad("version", path, "an integer")
    if type(on_stock) is not int:
        raise _bad("quantityOnStock", path, "an integer")
    if type(available) is not int:
        raise _bad("availableQuantity", path, "an integer")
    channel = data.get("supplyChannel")
    channel_id = None
    if channel is not None:
        channel_id = channel.get("id") if type(channel) is dict else None
        if type(channel_id) is not str:
            raise _bad("supplyChannel", path, "a channel reference")
    delivery = data.get("expectedDelivery")
    when = None
    if delivery is not None:
        try:
            when = datetime.fromisoformat(delivery) if type(delivery) is str else None
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise _bad("expectedDelivery", path, "an ISO 8601 time")
    days = data.get("restockableInDays")
    if days is not None and type(days) is not int:
        raise _bad("restockableInDays", path, "an integer")
    return InventoryLevel(entry_id, version, sku, channel_id, on_stock, available, when, days)
