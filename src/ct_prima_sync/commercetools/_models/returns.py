"""Returns recorded on an order (``returnInfo``): which items came back, in what state."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen

from .base import extra_field
from .enums import ReturnPaymentState, ReturnShipmentState

__all__ = ["ReturnInfo", "ReturnItem"]


@frozen(kw_only=True)
class ReturnItem:
    """One returned quantity of a line item (``LineItemReturnItem``, with ``line_item_id``) or a
    custom line item (``CustomLineItemReturnItem``, with ``custom_line_item_id``). The customer's
    ``comment`` stays out of ``repr``."""

    id: str
    quantity: int
    type: str
    shipment_state: ReturnShipmentState | str
    payment_state: ReturnPaymentState | str
    created_at: datetime
    last_modified_at: datetime
    line_item_id: str | None = None
    custom_line_item_id: str | None = None
    key: str | None = None
    comment: str | None = field(default=None, repr=False)
    extra: Mapping[str, Any] = extra_field()

    @property
    def item_id(self) -> str:
        """The (custom) line item the return is for."""
        return self.line_item_id or self.custom_line_item_id or ""


@frozen(kw_only=True)
class ReturnInfo:
    """A return: its items, the carrier's tracking id and the date of return."""

    items: tuple[ReturnItem, ...]
    return_tracking_id: str | None = None
    return_date: datetime | None = None
    extra: Mapping[str, Any] = extra_field()
