"""The order a subscription message is about: the copy it carries or commercetools' own, and
the exception recorded when commercetools no longer has it."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from ..commercetools import CommercetoolsClient, Order, parse_order
from ..errors import NotFoundError, PayloadError
from ..mapping import MappingConfig
from ..state import StateStore
from ._payloads import OrderPayload
from ._problems import Problem, ProblemKind

__all__ = ["message_order", "record_order_not_found"]

_log = logging.getLogger("ct_prima_sync.engine")


def message_order(ct: CommercetoolsClient, target: OrderPayload) -> Order:
    """The order ``target`` carries, or (none, or a bad copy) the order read from
    commercetools. Raises :class:`~ct_prima_sync.errors.NotFoundError` when commercetools does
    not have it."""
    if target.order is not None:
        try:
            return parse_order(target.order)
        except PayloadError:
            pass  # a message that carries a bad copy: read the order itself
    return ct.orders.get(target.order_id)


def record_order_not_found(
    store: StateStore,
    mapping: MappingConfig,
    target: OrderPayload,
    error: NotFoundError,
    *,
    now: datetime,
) -> None:
    """Queue the order a message named and commercetools no longer has."""
    order_id = target.order_id
    known = store.get_order(order_id)
    detail: dict[str, Any] = {"stage": "message", "correlation_id": error.correlation_id}
    if known is not None and known.order_number:
        detail["order_number"] = known.order_number
    elif target.order_number:
        detail["order_number"] = mapping.prima_order_number(target.order_number)
    problem = Problem.of(ProblemKind.CT_ORDER_NOT_FOUND, **detail)
    store.record_exception(
        kind=problem.kind,
        owner=problem.owner,
        detail=problem.detail,
        now=now,
        order_id=order_id,
        transient=problem.transient,
    )
    _log.warning(
        "order %s named by a subscription message is not in commercetools (deleted?)",
        order_id,
        extra={"order_id": order_id, "correlation_id": error.correlation_id},
    )
