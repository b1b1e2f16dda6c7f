"""What a commercetools subscription payload is about (pure: no I/O, no clock).

A Subscription delivers in one of two formats:

- ``Platform`` (the default): the payload *is* the message (``notificationType: "Message"``,
  e.g. ``OrderCreated``, which carries the whole order) or the change notification
  (``notificationType`` ``ResourceCreated`` / ``ResourceUpdated`` / ``ResourceDeleted``);
- ``CloudEvents``: an envelope (``specversion``, ``id``, ``type``, ``source``, ...) with the
  message or change notification in ``data``.

:func:`read_payload` unwraps either into the order it is about, or says why it is not about an
order the sync can work (:class:`IgnoredPayload`), so that nothing a host hands the engine is
dropped without a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from attrs import frozen

from ..errors import PayloadError

__all__ = ["IgnoredPayload", "OrderPayload", "read_payload"]

_CHANGES: Final = frozenset({"ResourceCreated", "ResourceUpdated"})


@frozen(kw_only=True)
class OrderPayload:
    """A payload about one order: its id, the order JSON when the message carries it
    (``OrderCreated``, ``OrderImported``), its order number when the payload names it
    (``resourceUserProvidedIdentifiers``), and the payload's shape (``"message"``,
    ``"change"``, or either prefixed ``"cloudevents/"``)."""

    order_id: str
    order: Mapping[str, Any] | None
    shape: str
    order_number: str | None = None


@frozen(kw_only=True)
class IgnoredPayload:
    """A payload the order sync has nothing to do with, and why (one sentence, no data from
    the payload beyond its type names)."""

    reason: str


def read_payload(payload: object) -> OrderPayload | IgnoredPayload:
    """The order a subscription payload is about, or why it is ignored.

    Raises :class:`~ct_prima_sync.errors.PayloadError` for a payload that is not a JSON object
    at all (a list, a string, bytes): the host handed over something that is not a payload.
    """
    if not isinstance(payload, Mapping):
        raise PayloadError(
            f"a subscription payload must be a JSON object, not {type(payload).__name__}"
        )
    if "specversion" in payload:
        data = payload.get("data")
        if not isinstance(data, Mapping):
            return IgnoredPayload(reason="CloudEvents payload without a message in 'data'")
        inner = _read_platform(data)
        if isinstance(inner, OrderPayload):
            return OrderPayload(
                order_id=inner.order_id,
                order=inner.order,
                shape=f"cloudevents/{inner.shape}",
                order_number=inner.order_number,
            )
        return IgnoredPayload(reason=f"CloudEvents payload: {inner.reason}")
    return _read_platform(payload)


def _read_platform(payload: Mapping[str, Any]) -> OrderPayload | IgnoredPayload:
    notification = payload.get("notificationType")
    resource = payload.get("resource")
    if not isinstance(resource, Mapping):
        return IgnoredPayload(reason="not a commercetools message: it has no 'resource'")
    type_id = resource.get("typeId")
    if type_id != "order":
        return IgnoredPayload(reason=f"about a {_name(type_id)}, not an order")
    order_id = resource.get("id")
    if not isinstance(order_id, str) or not order_id:
        return IgnoredPayload(reason="its resource has no order id")
    number = _order_number(payload)
    if notification in _CHANGES:
        return OrderPayload(order_id=order_id, order=None, shape="change", order_number=number)
    if notification == "ResourceDeleted":
        return IgnoredPayload(reason="the order was deleted (ResourceDeleted)")
    if notification not in (None, "Message"):
        return IgnoredPayload(reason=f"unknown notificationType {_name(notification)}")
    embedded = payload.get("order")
    return OrderPayload(
        order_id=order_id,
        order=embedded if isinstance(embedded, Mapping) else None,
        shape="message",
        order_number=number,
    )


def _order_number(payload: Mapping[str, Any]) -> str | None:
    named = payload.get("resourceUserProvidedIdentifiers")
    number = named.get("orderNumber") if isinstance(named, Mapping) else None
    return number[:100] if isinstance(number, str) and number else None


def _name(value: object) -> str:
    """A type name from the payload, shortened so a hostile payload cannot flood the log."""
    if not isinstance(value, str) or not value:
        return "resource of no type"
    return repr(value[:40])
