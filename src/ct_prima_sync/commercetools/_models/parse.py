"""Parse commercetools JSON into the models, and back.

Each ``parse_*`` takes the decoded JSON (``dict``) and returns a frozen model, or raises
:class:`~ct_prima_sync.errors.PayloadError` naming every bad field by its JSON path
(``lineItems[3].price.value.centAmount``). Keys a model does not name are kept in its ``extra``
and :func:`unparse` puts them back, so ``unparse(parse_order(data)) == data`` for payloads in the
documented shape.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ct_prima_sync.errors import PayloadError

from .customer import Customer
from .order import Order

if TYPE_CHECKING:
    from cattrs import Converter

    from .channel import Channel
    from .errors import ErrorResponse
    from .inventory import InventoryEntry
    from .message import Message
    from .paged import PagedQueryResponse
    from .payment import Payment

# Orders and customers are what the pure mapping parses; the other models, cattrs and the
# converter load on first use, so that ``import ct_prima_sync.mapping`` stays cheap (an iPaaS
# code step pays every import on a cold start).


@functools.cache
def _fast() -> Converter:
    from .._converter import FAST  # noqa: PLC0415

    return FAST


__all__ = [
    "parse_channel",
    "parse_customer",
    "parse_error_response",
    "parse_inventory_entry",
    "parse_message",
    "parse_order",
    "parse_paged",
    "parse_payment",
    "unparse",
]

T = TypeVar("T")


def _payload_error(kind: str, found: list[tuple[str, str]], prefix: str = "") -> PayloadError:
    if not found:
        return PayloadError(f"{kind} payload could not be read", path=prefix)
    located = [(f"{prefix}{path}" if path else prefix.rstrip("."), text) for path, text in found]
    (first_path, first_text), rest = located[0], located[1:]
    message = f"{first_text} (in {kind})"
    if rest:
        message += "; also " + "; ".join(f"{path or kind}: {text}" for path, text in rest)
    return PayloadError(message, path=first_path)


def _structure(data: Any, cl: type[T], kind: str) -> T:
    try:
        return _fast().structure(data, cl)
    except Exception:  # re-run with the detailed converter, which names every bad field
        from ._failures import detailed_problems  # noqa: PLC0415

        raise _payload_error(kind, detailed_problems(data, cl)) from None


def parse_order(data: Any) -> Order:
    """Parse an Order (``GET /orders/{id}``, ``OrderCreated.order``)."""
    return _structure(data, Order, "Order")


def parse_payment(data: Any) -> Payment:
    """Parse a Payment (``GET /payments/{id}``, or an expanded ``paymentInfo.payments[i].obj``)."""
    from .payment import Payment  # noqa: PLC0415

    return _structure(data, Payment, "Payment")


def parse_customer(data: Any) -> Customer:
    """Parse a Customer."""
    return _structure(data, Customer, "Customer")


def parse_channel(data: Any) -> Channel:
    """Parse a Channel."""
    from .channel import Channel  # noqa: PLC0415

    return _structure(data, Channel, "Channel")


def parse_inventory_entry(data: Any) -> InventoryEntry:
    """Parse an InventoryEntry."""
    from .inventory import InventoryEntry  # noqa: PLC0415

    return _structure(data, InventoryEntry, "InventoryEntry")


def parse_message(data: Any) -> Message:
    """Parse a Message or a subscription's message payload; an embedded order is parsed too."""
    from .message import Message  # noqa: PLC0415

    return _structure(data, Message, "Message")


def parse_error_response(data: Any) -> ErrorResponse:
    """Parse an error body (``ErrorResponse`` or the auth endpoints' ``AuthErrorResponse``)."""
    from .errors import ErrorResponse  # noqa: PLC0415

    return _structure(data, ErrorResponse, "ErrorResponse")


def parse_paged(data: Any, parse_item: Callable[[Any], T]) -> PagedQueryResponse[T]:
    """Parse a ``PagedQueryResponse``, each result with ``parse_item`` (``parse_order``, ...).

    A bad result raises :class:`PayloadError` whose path starts with ``results[i].``.
    """
    from .paged import PagedQueryResponse, PageEnvelope  # noqa: PLC0415

    if not isinstance(data, dict):
        raise PayloadError("expected a JSON object (in PagedQueryResponse)")
    envelope = {key: value for key, value in data.items() if key != "results"}
    shell = _structure(envelope, PageEnvelope, "PagedQueryResponse")
    raw_results = data.get("results")
    if not isinstance(raw_results, list):
        raise PayloadError(
            "expected an array (in PagedQueryResponse)"
            if "results" in data
            else "required field is missing (in PagedQueryResponse)",
            path="results",
        )
    results: list[T] = []
    for index, item in enumerate(raw_results):
        try:
            results.append(parse_item(item))
        except PayloadError as exc:
            sub = f".{exc.path}" if exc.path else ""
            raise PayloadError(
                str(exc).removeprefix(f"{exc.path}: "), path=f"results[{index}]{sub}"
            ) from None
    return PagedQueryResponse(
        limit=shell.limit,
        offset=shell.offset,
        count=shell.count,
        total=shell.total,
        results=tuple(results),
        extra=shell.extra,
    )


def unparse(model: Any) -> dict[str, Any]:
    """The JSON form of any model (or :class:`PagedQueryResponse`), ``extra`` keys included."""
    result = _fast().unstructure(model)
    if not isinstance(result, dict):
        raise TypeError(f"not a commercetools model: {type(model).__name__}")
    return result
