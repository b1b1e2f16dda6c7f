"""Held orders read again from commercetools every so often.

A poll sees an order again only when it changes, and messages only new orders: a held order
deleted in commercetools, or one the eligibility rules no longer hold back (the settings
changed), would count as pending for ever. The stock run reads each held order again by id
every ``held_recheck_seconds``, whatever ingests saw of it meanwhile (a message carries the
order as it was when the message was written); the
engine then ingests, holds or releases each as any ingest would, and releases the ones
commercetools no longer has.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from ..commercetools import CommercetoolsClient, Order
from ..state import StateStore

__all__ = ["RECHECK_LIMIT", "read_orders", "stale_held"]

#: Held orders read again per stock run, the longest unchecked first; the next runs take the rest.
RECHECK_LIMIT: Final = 500
#: Order ids per commercetools query.
_PAGE: Final = 100


def stale_held(store: StateStore, *, now: datetime, every_seconds: float) -> list[str]:
    """Ids of the held orders not read again for ``every_seconds`` (none when 0)."""
    if every_seconds <= 0:
        return []
    stale = store.held_orders(
        checked_before=now - timedelta(seconds=every_seconds), limit=RECHECK_LIMIT
    )
    return [held.order_id for held in stale]


def read_orders(ct: CommercetoolsClient, order_ids: Sequence[str]) -> dict[str, Order]:
    """The orders commercetools has of ``order_ids``, by id (absent: deleted)."""
    found: dict[str, Order] = {}
    for start in range(0, len(order_ids), _PAGE):
        page = list(order_ids[start : start + _PAGE])
        for order in ct.orders.query("id in :ids", variables={"ids": page}):
            found[order.id] = order
    return found
