"""Orders the order flow holds back, kept for the stock flow's pending figure.

An order that is eligible in every other way but not yet due (too young, ``min_age_seconds``) or
waiting for payment (``payment_states``) is not in the ledger, yet the shop has sold its units.
The store keeps its lines, counted in ``pending_stock`` beside the ledger's, until the order
enters the ledger (ingest moves it, in the same transaction), reaches Prima, or stops being held
(released: cancelled, deleted, out of scope). An order is never held and in the ledger at once.
"""

from __future__ import annotations

import enum
from datetime import datetime

from attrs import frozen

from ._records import OrderLine

__all__ = ["HeldOrder", "HeldRecord", "HoldReason"]


class HoldReason(enum.StrEnum):
    """Why the order flow holds an order back."""

    NOT_YET_DUE = "not_yet_due"
    """Eligible but too young (``min_age_seconds``), or dated after the engine's clock."""
    AWAITING_PAYMENT = "awaiting_payment"
    """Its ``paymentState`` is not one of ``payment_states`` (yet)."""


@frozen(kw_only=True)
class HeldOrder:
    """What an ingest saw of an order it holds back: ids, version, why, and its lines per
    commercetools SKU and Prima depot (lines of the same SKU and depot are added up)."""

    order_id: str
    order_number: str | None
    ct_version: int
    reason: HoldReason
    lines: tuple[OrderLine, ...] = ()


@frozen(kw_only=True)
class HeldRecord:
    """A held order as the store keeps it: ``held_since`` when it was first held,
    ``checked_at`` when it was last read again from commercetools (or first held); ``lines``
    by SKU then depot."""

    order_id: str
    order_number: str | None
    ct_version: int
    reason: HoldReason
    lines: tuple[OrderLine, ...]
    held_since: datetime
    checked_at: datetime
