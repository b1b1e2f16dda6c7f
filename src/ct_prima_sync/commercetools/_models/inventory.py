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


def _int(data: Mapping[str, Any], key: str, path: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PayloadError("expected an integer", path=f"{path}.{key}" if path else key)
    return value


def parse_inventory_level(data: Any, path: str = "") -> InventoryLevel:
    """An :class:`InventoryLevel` from one InventoryEntry's JSON; PayloadError names a bad
    field."""
    if not isinstance(data, Mapping):
        raise PayloadError("expected an inventory entry object", path=path)
    here = f"{path}." if path else ""
    entry_id, sku = data.get("id"), data.get("sku")
    if not isinstance(entry_id, str):
        raise PayloadError("expected a string", path=f"{here}id")
    if not isinstance(sku, str):
        raise PayloadError("expected a string", path=f"{here}sku")
    channel = data.get("supplyChannel")
    channel_id = None
    if channel is not None:
        channel_id = channel.get("id") if isinstance(channel, Mapping) else None
        if not isinstance(channel_id, str):
            raise PayloadError("expected a channel reference", path=f"{here}supplyChannel")
    delivery = data.get("expectedDelivery")
    when = None
    if delivery is not None:
        try:
            when = datetime.fromisoformat(delivery) if isinstance(delivery, str) else None
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise PayloadError("expected an ISO 8601 time", path=f"{here}expectedDelivery")
    days = data.get("restockableInDays")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool)):
        raise PayloadError("expected an integer", path=f"{here}restockableInDays")
    return InventoryLevel(
        entry_id,
        _int(data, "version", path),
        sku,
        channel_id,
        _int(data, "quantityOnStock", path),
        _int(data, "availableQuantity", path),
        when,
        days,
    )
