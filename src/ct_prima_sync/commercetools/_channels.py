"""Channels: read by key, list by role (scope ``view_channels``)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from ._models import Channel, ChannelRole
from ._models.parse import parse_channel
from ._protocol import Api

__all__ = ["Channels"]


class Channels:
    """``client.channels``."""

    def __init__(self, api: Api) -> None:
        self._api = api

    def get(self, channel_id: str) -> Channel:
        """The channel with this id; :class:`~ct_prima_sync.errors.NotFoundError` if none."""
        return parse_channel(self._api.request("GET", f"/channels/{quote(channel_id, safe='')}"))

    def get_by_key(self, key: str) -> Channel:
        """The channel with this key; :class:`~ct_prima_sync.errors.NotFoundError` if none."""
        return parse_channel(self._api.request("GET", f"/channels/key={quote(key, safe='')}"))

    def with_role(self, role: ChannelRole | str) -> Iterator[Channel]:
        """Every channel that has ``role`` (``InventorySupply``, ``OrderExport``, ...)."""
        raw = self._api.iter_query(
            "channels", where="roles contains :role", variables={"role": str(role)}
        )
        return map(parse_channel, raw)
