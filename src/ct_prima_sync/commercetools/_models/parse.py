"""Parse commercetools JSON into the models, and back.

Each ``parse_*`` takes the decoded JSON (``dict``) and returns a frozen model, or raises
:class:`~ct_prima_sync.errors.PayloadError` naming every bad field by its JSON path
(``lineItems[3].price.value.centAmount``). Keys a model does not name are kept in its ``extra``
and :func:`unparse` puts them back, so ``unparse(parse_order(data)) == data`` for payloads in the
documented shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    IterableValidationError,
    IterableValidationNote,
)

from ct_prima_sync.errors import InvalidMoneyError, PayloadError

from .._converter import DETAILED, FAST, MONEY_PATH, FieldError, wire_name
from .channel import Channel
from .customer import Customer
from .errors import ErrorResponse
from .inventory import InventoryEntry
from .message import Message
from .order import Order
from .paged import PagedQueryResponse, PageEnvelope

__all__ = [
    "parse_channel",
    "parse_customer",
    "parse_error_response",
    "parse_inventory_entry",
    "parse_message",
    "parse_order",
    "parse_paged",
    "unparse",
]

T = TypeVar("T")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _note(exc: BaseException, kind: type[T]) -> T | None:
    for note in getattr(exc, "__notes__", ()):
        if isinstance(note, kind):
            return note
    return None


def _problems(exc: BaseException, path: str = "") -> list[tuple[str, str]]:
    """Flatten a structuring failure into ``(JSON path, message)`` pairs, in payload order.

    Messages never contain the offending value (it may be personal data).
    """
    if isinstance(exc, ClassValidationError):
        names = {a.name: wire_name(a) for a in attrs.fields(exc.cl)} if attrs.has(exc.cl) else {}
        found: list[tuple[str, str]] = []
        for sub in exc.exceptions:
            attribute = _note(sub, AttributeValidationNote)
            key = names.get(attribute.name, attribute.name) if attribute else ""
            found.extend(_problems(sub, _join(path, key) if key else path))
        return found
    if isinstance(exc, IterableValidationError):
        found = []
        for sub in exc.exceptions:
            item = _note(sub, IterableValidationNote)
            found.extend(_problems(sub, f"{path}[{item.index}]" if item else path))
        return found
    if isinstance(exc, KeyError):
        return [(path, "required field is missing")]
    if isinstance(exc, InvalidMoneyError):
        text = str(exc)
        sub_path = ""
        if text.startswith(MONEY_PATH):
            sub_path, _, text = text[len(MONEY_PATH) :].partition(": ")
        # The money module quotes a bad currency code back; a payload error never echoes input.
        for quote in ("'", '"'):
            text = text.split(f", got {quote}", 1)[0]
        return [(path + sub_path, text)]
    if isinstance(exc, FieldError):
        return [(path, str(exc))]
    return [(path, f"could not be read ({type(exc).__name__})")]


def _payload_error(kind: str, found: list[tuple[str, str]], prefix: str = "") -> PayloadError:
    if not found:
        return PayloadError(f"{kind} payload could not be read", path=prefix)
    located = [(f"{prefix}{path}" if path else prefix.rstrip("."), text) for path, text in found]
    (first_path, first_text), rest = located[0], located[1:]
    message = f"{first_text} (in {kind})"
    if rest:
        message += "; also " + "; ".join(f"{path or kind}: {text}" for path, text in rest)
    return PayloadError(message, path=first_path)


def _detailed_problems(data: Any, cl: type[Any]) -> list[tuple[str, str]]:
    try:
        DETAILED.structure(data, cl)
    except Exception as exc:  # every structuring failure becomes (path, message) pairs
        return _problems(exc)
    return []


def _structure(data: Any, cl: type[T], kind: str) -> T:
    try:
        return FAST.structure(data, cl)
    except Exception:  # re-run with the detailed converter, which names every bad field
        raise _payload_error(kind, _detailed_problems(data, cl)) from None


def parse_order(data: Any) -> Order:
    """Parse an Order (``GET /orders/{id}``, ``OrderCreated.order``)."""
    return _structure(data, Order, "Order")


def parse_customer(data: Any) -> Customer:
    """Parse a Customer."""
    return _structure(data, Customer, "Customer")


def parse_channel(data: Any) -> Channel:
    """Parse a Channel."""
    return _structure(data, Channel, "Channel")


def parse_inventory_entry(data: Any) -> InventoryEntry:
    """Parse an InventoryEntry."""
    return _structure(data, InventoryEntry, "InventoryEntry")


def parse_message(data: Any) -> Message:
    """Parse a Message or a subscription's message payload; an embedded order is parsed too."""
    return _structure(data, Message, "Message")


def parse_error_response(data: Any) -> ErrorResponse:
    """Parse an error body (``ErrorResponse`` or the auth endpoints' ``AuthErrorResponse``)."""
    return _structure(data, ErrorResponse, "ErrorResponse")


def parse_paged(data: Any, parse_item: Callable[[Any], T]) -> PagedQueryResponse[T]:
    """Parse a ``PagedQueryResponse``, each result with ``parse_item`` (``parse_order``, ...).

    A bad result raises :class:`PayloadError` whose path starts with ``results[i].``.
    """
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
    result = FAST.unstructure(model)
    if not isinstance(result, dict):
        raise TypeError(f"not a commercetools model: {type(model).__name__}")
    return result
