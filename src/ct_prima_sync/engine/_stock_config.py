"""How the stock run works: chunks, concurrency, the run's lock, drift and the catalogue check.

What the run writes (buffers, reservations, missing entries, dates) is the mapping's ``[stock]``
table (:class:`~ct_prima_sync.mapping.StockConfig`); this is the ``[engine.stock]`` table.
"""

from __future__ import annotations

import enum
from typing import Any

from attrs import field, frozen

from ..errors import ConfigurationError

__all__ = ["StockIngest", "StockRunConfig"]


class StockIngest(enum.StrEnum):
    """Where the stock run reads the orders it must count as pending before it plans."""

    ORDERS = "orders"
    """Poll orders by ``lastModifiedAt`` (as :meth:`SyncEngine.poll_orders`)."""
    MESSAGES = "messages"
    """Read ``OrderCreated`` / ``OrderImported`` messages (as :meth:`SyncEngine.poll_messages`)."""


def _ingest(value: object) -> StockIngest:
    try:
        return StockIngest(str(value))
    except ValueError:
        raise ConfigurationError(
            f"engine.stock.ingest must be one of {', '.join(i.value for i in StockIngest)}"
        ) from None


def _at_least(minimum: float, name: str) -> Any:
    def check(_instance: object, _attribute: object, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= minimum:
            raise ConfigurationError(
                f"engine.stock.{name} must be at least {minimum}, got {value!r}"
            )

    return check


@frozen(kw_only=True)
class StockRunConfig:
    """The ``[engine.stock]`` settings of :meth:`SyncEngine.sync_stock`.

    ``chunk_size``: SKUs planned together (with all their entries). Each chunk is read, counted
    against pending, priced against Prima's ATS, planned, pushed and recorded before the next is
    read, so memory holds one chunk (and the run's list of SKUs), whatever the catalogue.
    ``query_chunk_size``: SKUs per inventory query predicate (keeps URLs short).
    ``concurrency``: writes in flight at once over the one commercetools client.
    ``max_write_attempts``: sends per entry while 409s keep coming (each after a fresh read).
    ``drift_tolerance``: units by which an entry's ``quantityOnStock`` may differ from the last
    figure the run pushed before it counts as someone else writing stock (STOCK_DRIFT).
    ``lock_seconds``: the lease of the run's lock; renewed while the run lasts, so a crashed
    run's lock frees itself after this long.
    ``catalogue_every_seconds``: how often a run also reads Prima's whole catalogue to find stock
    commercetools has no entry for (0: only when asked with ``catalogue=True``).
    ``poll_overlap_seconds``: the overlap of the catch-up polls inside a run (at least
    commercetools' query consistency, about 10 s); the first poll of a run uses the engine's.
    ``ingest``: poll orders or read messages before each chunk is planned.
    ``held_recheck_seconds``: how often the run reads each held order (not yet due, waiting for
    payment) again from commercetools, so that one deleted there, or that the eligibility rules
    no longer hold back, stops counting as pending (0: never). Only a change to an order brings
    it back to a poll, and messages only bring new ones.
    """

    chunk_size: int = field(default=1000, validator=_at_least(1, "chunk_size"))
    query_chunk_size: int = field(default=100, validator=_at_least(1, "query_chunk_size"))
    concurrency: int = field(default=8, validator=_at_least(1, "concurrency"))
    max_write_attempts: int = field(default=5, validator=_at_least(1, "max_write_attempts"))
    drift_tolerance: int = field(default=0, validator=_at_least(0, "drift_tolerance"))
    lock_seconds: float = field(default=300.0, validator=_at_least(1, "lock_seconds"))
    catalogue_every_seconds: float = field(
        default=86400.0, validator=_at_least(0, "catalogue_every_seconds")
    )
    poll_overlap_seconds: float = field(
        default=10.0, validator=_at_least(0, "poll_overlap_seconds")
    )
    ingest: StockIngest = field(default=StockIngest.ORDERS, converter=_ingest)
    held_recheck_seconds: float = field(
        default=3600.0, validator=_at_least(0, "held_recheck_seconds")
    )
