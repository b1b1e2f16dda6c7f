"""Payments: read an order's Payment objects (scope ``view_payments``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from urllib.parse import quote

from ._models import Order, Payment
from ._models.parse import parse_payment
from ._protocol import Api
from ._query import QueryValue

__all__ = ["Payments"]


class Payments:
    """``client.payments``."""

    def __init__(self, api: Api) -> None:
        self._api = api

    def get(self, payment_id: str) -> Payment:
        """The payment with this id; :class:`~ct_prima_sync.errors.NotFoundError` if none."""
        return parse_payment(self._api.request("GET", f"/payments/{quote(payment_id, safe='')}"))

    def query(
        self, where: str | None = None, *, variables: Mapping[str, QueryValue] | None = None
    ) -> Iterator[Payment]:
        """Every payment matching ``where``, one page in memory at a time (paged by id)."""
        return map(
            parse_payment, self._api.iter_query("payments", where=where, variables=variables)
        )

    def get_many(self, payment_ids: Sequence[str], *, chunk_size: int = 50) -> Iterator[Payment]:
        """The payments with these ids, ``chunk_size`` ids per query (a deleted one is simply
        absent): one request per chunk instead of one per payment."""
        ids = list(dict.fromkeys(payment_ids))
        for start in range(0, len(ids), chunk_size):
            chunk = ids[start : start + chunk_size]
            raw = self._api.iter_query("payments", where="id in :ids", variables={"ids": chunk})
            yield from map(parse_payment, raw)

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
