"""Which Prima warehouse (depot) a line ships from, and which inventory entry a depot's stock feeds.

Forward (orders), per line item, first hit wins:

1. the line's supply channel (its key, else its id) in ``supply_channels``. A line *with* a supply
   channel that is not listed gets no depot (UNKNOWN_DEPOT): the channel says where the stock was
   taken from, and guessing another warehouse would ship from the wrong place;
2. the line's distribution channel (key, else id) in ``distribution_channels``;
3. the order's store key in ``stores``;
4. ``default``.

Reverse (stock): ``stock_channels`` maps a depot to the supply channel (key or id, as the stock
flow passes them) whose inventory entries carry that depot's figures; :data:`NO_CHANNEL` stands for
entries without a supply channel. When ``stock_channels`` is not set it is ``supply_channels`` read
backwards, which must then name one channel per depot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Protocol

from attrs import field, frozen

from ..errors import ConfigurationError
from ._cfgread import reject_unknown, str_list, str_map, str_or_none, sub_path, table

__all__ = ["NO_CHANNEL", "ChannelRef", "DepotMap"]

#: The channel name for inventory entries without a supply channel.
NO_CHANNEL: Final = ""


class ChannelRef(Protocol):
    """Anything with an ``id`` and a ``key`` (a commercetools Reference or Channel)."""

    @property
    def id(self) -> str | None: ...

    @property
    def key(self) -> str | None: ...


def _lookup(names: Mapping[str, str], ref: ChannelRef | None) -> str | None:
    if ref is None:
        return None
    if ref.key is not None and ref.key in names:
        return names[ref.key]
    if ref.id is not None and ref.id in names:
        return names[ref.id]
    return None


@frozen(kw_only=True)
class DepotMap:
    """commercetools channels and stores <-> Prima depots. Build in code or with :meth:`from_dict`.

    ``valid`` is the set of depots Prima knows; when empty it is every depot the map names.
    """

    supply_channels: Mapping[str, str] = field(factory=dict)
    distribution_channels: Mapping[str, str] = field(factory=dict)
    stores: Mapping[str, str] = field(factory=dict)
    default: str | None = None
    valid: frozenset[str] = frozenset()
    stock_channels: Mapping[str, str] = field(factory=dict)
    _by_channel: Mapping[str, str] = field(init=False, repr=False, eq=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        named = {
            *self.supply_channels.values(),
            *self.distribution_channels.values(),
            *self.stores.values(),
            *self.stock_channels,
        }
        if self.default is not None:
            named.add(self.default)
        if self.valid:
            unknown = sorted(named - self.valid)
            if unknown:
                raise ConfigurationError(
                    f"depots: {', '.join(unknown)} mapped but not in depots.valid"
                )
        else:
            object.__setattr__(self, "valid", frozenset(named))
        stock = dict(self.stock_channels)
        if not stock:
            for channel, depot in sorted(self.supply_channels.items()):
                if depot in stock and stock[depot] != channel:
                    raise ConfigurationError(
                        f"depots.stock_channels: depot {depot} has several supply channels "
                        f"({stock[depot]}, {channel}); say which one receives its stock"
                    )
                stock[depot] = channel
            object.__setattr__(self, "stock_channels", stock)
        by_channel: dict[str, str] = {}
        for depot, channel in sorted(stock.items()):
            if channel in by_channel:
                raise ConfigurationError(
                    f"depots.stock_channels: channel {channel or '(none)'} receives the stock of "
                    f"both {by_channel[channel]} and {depot}"
                )
            by_channel[channel] = depot
        object.__setattr__(self, "_by_channel", by_channel)

    def depot_for(
        self,
        *,
        supply_channel: ChannelRef | None = None,
        distribution_channel: ChannelRef | None = None,
        store_key: str | None = None,
    ) -> str | None:
        """The Prima depot for a line, or ``None`` (the caller reports UNKNOWN_DEPOT)."""
        if supply_channel is not None:
            return _lookup(self.supply_channels, supply_channel)
        depot = _lookup(self.distribution_channels, distribution_channel)
        if depot is None and store_key is not None:
            depot = self.stores.get(store_key)
        return depot if depot is not None else self.default

    def is_valid(self, depot: str) -> bool:
        """True when Prima knows the depot."""
        return depot in self.valid

    def channel_for(self, depot: str) -> str | None:
        """The supply channel whose inventory entries carry ``depot``'s stock (``NO_CHANNEL`` for
        entries without one), or ``None`` when the depot's stock is not published."""
        return self.stock_channels.get(depot)

    def depot_for_channel(self, channel: str) -> str | None:
        """The depot whose stock an inventory entry of ``channel`` carries, or ``None``."""
        return self._by_channel.get(channel)

    @classmethod
    def from_dict(cls, data: object, path: str = "depots") -> DepotMap:
        """Read the map from configuration (the ``[depots]`` table of mapping.toml)::

            [depots]
            default = "WH1"
            valid = ["WH1", "WH2"]
            supply_channels = { "eu-warehouse" = "WH1", "uk-warehouse" = "WH2" }
            distribution_channels = { }
            stores = { "uk-store" = "WH2" }
            stock_channels = { "WH1" = "eu-warehouse", "WH2" = "uk-warehouse" }

        Raises ConfigurationError naming the setting path.
        """
        raw = table(data, path)
        keys = (
            "default",
            "distribution_channels",
            "stock_channels",
            "stores",
            "supply_channels",
            "valid",
        )
        reject_unknown(raw, keys, path)
        stock_here = sub_path(path, "stock_channels")
        stock = table(raw.get("stock_channels"), stock_here)
        for depot, channel in stock.items():
            if not isinstance(channel, str):
                raise ConfigurationError(
                    f"{sub_path(stock_here, depot)}: expected a channel key or id "
                    '("" for entries without a supply channel)'
                )
        try:
            return cls(
                supply_channels=str_map(raw, "supply_channels", path),
                distribution_channels=str_map(raw, "distribution_channels", path),
                stores=str_map(raw, "stores", path),
                default=str_or_none(raw, "default", path),
                valid=frozenset(str_list(raw, "valid", path)),
                stock_channels=dict(stock),
            )
        except ConfigurationError as exc:
            message = str(exc)
            if message.startswith("depots"):
                message = path + message.removeprefix("depots")
            raise ConfigurationError(message) from None
