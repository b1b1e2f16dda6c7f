"""Prima's XML for code steps (iPaaS custom code, scripts): build and read it with no client.

``encode_sales_orders(orders)`` is the ``MultiNewOrder`` request string Prima receives (the
string the SOAP operation carries, not the SOAP envelope); ``decode_submit_reply(text,
order_numbers)`` reads Prima's answer into one :class:`~ct_prima_sync.prima.SubmitResult` per
order, in the order given, in the real installation's shape or the older one. Both are pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ._models import SalesOrder, SubmitResult
from ._xml import Encoding, OmlinkCodec, OmlinkSchema, SubmitOrdersRequest

__all__ = ["decode_submit_reply", "encode_sales_orders"]


def encode_sales_orders(
    orders: Sequence[SalesOrder],
    *,
    schema: OmlinkSchema | None = None,
    encoding: Encoding = Encoding.ISO_8859_1,
    unique_id: Callable[[SalesOrder], str] | None = None,
) -> str:
    """The ``MultiNewOrder`` request for ``orders``, as Prima receives it.

    ``schema`` is the installation's (default: the documented names, confirmed fields only);
    ``unique_id`` makes each order's per-send ``UniqueId`` (default: the order number, which is
    right for a preview; a sender draws a fresh one for each send). Raises
    :class:`~ct_prima_sync.errors.PayloadError` for a value XML cannot carry and ``ValueError``
    for an empty list.
    """
    if not orders:
        raise ValueError("encode_sales_orders needs at least one order")
    make_id = unique_id or (lambda order: order.order_number)
    request = SubmitOrdersRequest(
        orders=tuple(orders), unique_ids=tuple(make_id(order) for order in orders)
    )
    return OmlinkCodec(schema, encoding).encode_request(request)


def decode_submit_reply(
    text: str | bytes, order_numbers: Sequence[str], *, schema: OmlinkSchema | None = None
) -> list[SubmitResult]:
    """Prima's answer to a ``MultiNewOrder``: one result per order number, in that order.

    Each result says whether Prima took the order, its ``(E:nnn)`` codes when it did not
    (``E:21``: the order number is already in Prima), and the ``customer_code`` Prima matched or
    created. Raises :class:`~ct_prima_sync.errors.PrimaRejectedError` when Prima refused the
    whole request and :class:`~ct_prima_sync.errors.PrimaProtocolError` for a reply it cannot
    read (malformed, hostile, or missing an order's result).
    """
    return OmlinkCodec(schema).decode_submit_reply(text, order_numbers)
