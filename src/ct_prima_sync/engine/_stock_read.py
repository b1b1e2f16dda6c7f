"""What the stock run reads from commercetools: the supply channels it manages and their entries.

The mapping names supply channels by key or id (``depots.stock_channels``); inventory entries
carry channel ids. The run resolves each name once per run (a key first, else an id) and reads
only the entries of those channels (and the entries without a channel, when a depot's stock goes
there).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Final

from attrs import frozen

from ..commercetools import CommercetoolsClient, InventoryLevel
from ..commercetools._query import QueryValue
from ..errors import ConfigurationError, NotFoundError, PayloadError
from ..mapping import NO_CHANNEL, CurrentStock, DepotMap

__all__ = [
    "StockChannels",
    "current_stock",
    "delivery_date",
    "delivery_time",
    "entries_of",
    "managed_skus",
    "resolve_channels",
]

_CHANNELS_VARIABLE: Final = "stockChannels"


@frozen(kw_only=True)
class StockChannels:
    """The managed supply channels: ``ids`` maps each name the mapping uses to the channel id
    (``None`` for entries without a channel), ``names`` the other way round."""

    ids: dict[str, str | None]
    names: dict[str | None, str]

    @property
    def predicate(self) -> tuple[str, dict[str, QueryValue]]:
        """The inventory predicate (and its variables) selecting the managed channels' entries."""
        channel_ids = sorted(i for i in self.ids.values() if i is not None)
        parts: list[str] = []
        variables: dict[str, QueryValue] = {}
        if channel_ids:
            parts.append(f"supplyChannel(id in :{_CHANNELS_VARIABLE})")
            variables[_CHANNELS_VARIABLE] = channel_ids
        if None in self.names:
            parts.append("supplyChannel is not defined")
        where = parts[0] if len(parts) == 1 else " or ".join(f"({p})" for p in parts)
        return where, variables

    def name_of(self, level: InventoryLevel) -> str | None:
        """The mapping's name for an entry's channel (``None``: a channel the run leaves alone)."""
        return self.names.get(level.supply_channel_id)


def resolve_channels(ct: CommercetoolsClient, depots: DepotMap) -> StockChannels:
    """Look up the channels of ``depots.stock_channels``; ConfigurationError names one that
    commercetools does not have, or an empty map."""
    ids: dict[str, str | None] = {}
    for depot, name in sorted(depots.stock_channels.items()):
        if name == NO_CHANNEL:
            ids[name] = None
            continue
        try:
            ids[name] = ct.channels.get_by_key(name).id
        except NotFoundError:
            try:
                ids[name] = ct.channels.get(name).id
            except NotFoundError:
                raise ConfigurationError(
                    f"depots.stock_channels: depot {depot} goes to channel {name!r}, but "
                    "commercetools has no channel with that key or id"
                ) from None
    if not ids:
        raise ConfigurationError(
            "depots: no depot's stock goes to a supply channel; set depots.stock_channels "
            "(or depots.supply_channels) so the stock run knows which entries to write"
        )
    return StockChannels(ids=ids, names={channel_id: name for name, channel_id in ids.items()})


def delivery_date(moment: datetime | None) -> date | None:
    """An entry's ``expectedDelivery`` as the date (UTC) the plan compares with Prima's."""
    return None if moment is None else moment.astimezone(UTC).date()


def delivery_time(day: date | None) -> datetime | None:
    """Prima's available date as the ``expectedDelivery`` the run writes: midnight UTC."""
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)


def current_stock(level: InventoryLevel, channel: str) -> CurrentStock:
    """An entry's figures as the stock plan reads them (``channel``: the mapping's name)."""
    return CurrentStock(
        level.sku,
        channel,
        level.quantity_on_stock,
        level.available_quantity,
        delivery_date(level.expected_delivery),
        level.restockable_in_days,
    )


def managed_skus(ct: CommercetoolsClient, channels: StockChannels) -> list[str]:
    """Every SKU with an entry in a managed channel, each once (one paged scan; only the SKUs
    are kept, a few megabytes for a hundred thousand)."""
    where, variables = channels.predicate
    raw = ct.iter_query("inventory", where=where, variables=variables)
    try:
        seen = dict.fromkeys(map(itemgetter("sku"), raw))  # in C: one catalogue, 300,000 entries
    except KeyError:
        raise PayloadError("an inventory entry has no sku", path="results.sku") from None
    for sku in seen:
        if not isinstance(sku, str) or not sku:
            raise PayloadError("an inventory entry's sku is not a text", path="results.sku")
    return list(seen)


def entries_of(
    ct: CommercetoolsClient, channels: StockChannels, skus: Sequence[str], query_chunk_size: int
) -> list[InventoryLevel]:
    """The managed channels' entries of ``skus``, ``query_chunk_size`` SKUs per query."""
    where, variables = channels.predicate
    return list(
        ct.inventory.levels_by_skus(
            skus, where=where, variables=variables, chunk_size=query_chunk_size
        )
    )
