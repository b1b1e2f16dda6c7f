"""Payments: read an order's Payment objects (scope ``view_payments``)."""

from __future__ import annotations

from urllib.parse import quote

from ._models import Order, Payment
from ._models.parse import parse_payment
from ._protocol import Api

__all__ = ["Payments"]


class Payments:
    """``client.payments``."""

    def __init__(self, api: Api) -> None:
        self._api = api

    def get(self, payment_id: str) -> Payment:
        """The payment with this id; :class:`~ct_prima_sync.errors.NotFoundError` if none."""
        return parse_payment(self._api.request("GET", f"/payments/{quote(payment_id, safe='')}"))

    def for_order(self, order: Order) -> tuple[Payment, ...]:
        """The order's payments (``paymentInfo.payments``), in the order's order; none when it
        has no payment info. A payment that was deleted raises ``NotFoundError``."""
        if order.payment_info is None:
            return ()
        return tuple(
            self.get(reference.id)
            for reference in order.payment_info.payments
            if reference.id is not None
        )
