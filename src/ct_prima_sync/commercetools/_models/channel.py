"""The Channel (supply channels are Prima depots; an OrderExport channel records the sync)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen

from .base import extra_field
from .common import Address, CustomFields, GeoPoint, LocalizedString
from .enums import ChannelRole

__all__ = ["Channel"]


@frozen(kw_only=True)
class Channel:
    """A commercetools channel; ``geo_location`` is a GeoJSON point when set."""

    id: str
    version: int
    created_at: datetime
    last_modified_at: datetime
    key: str
    roles: tuple[ChannelRole | str, ...] = ()
    name: LocalizedString | None = None
    description: LocalizedString | None = None
    address: Address | None = field(default=None, repr=False)
    geo_location: GeoPoint | None = None
    custom: CustomFields | None = None
    extra: Mapping[str, Any] = extra_field()
