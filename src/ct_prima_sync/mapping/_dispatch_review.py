"""Changes made in commercetools after an order reached Prima (pure): cancellations, edits,
returns.

The ledger keeps the order as it was last reviewed (its shippable lines, its order state, the
return items already passed on). ``review_order`` compares the order as commercetools shows it
now against that, and says what must be passed on to Prima or to operations:

1. An order cancelled in commercetools while Prima may still ship it: a cancellation request to
   Prima when the installation has one (``cancel_in_prima``), else ``CT_ORDER_CANCELLED``.
2. Lines removed, added or with another quantity (order edits): ``CT_ORDER_CHANGED`` with each
   change, so the warehouse can stop or amend the shipment. On the first review (when the sync
   starts following the order) the order's gross total is compared with the ledger's, which
   catches an edit made between submission and that review.
3. Return items not passed on before: a return notice to Prima (``returns_to_prima``), else
   ``CT_RETURN_RECORDED``; the ledger keeps them for finance either way.

Each change is reported once: the review's result becomes the next baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from attrs import frozen

from ..commercetools._models.enums import OrderState
from ..commercetools._models.order import Order
from ..prima._models import SkuCode
from ._config import MappingConfig
from ._dispatch_config import DispatchConfig
from ._dispatch_issues import DispatchIssue, DispatchIssueKind
from ._dispatch_lines import ShippableLine, shippable_lines

__all__ = ["LineChange", "OrderReview", "ReturnedItem", "review_order"]


@frozen(kw_only=True)
class LineChange:
    """One line whose ordered quantity changed in commercetools (0 before: added; 0 after:
    removed)."""

    line_id: str
    sku: str
    before: int
    after: int


@frozen(kw_only=True)
class ReturnedItem:
    """A return item recorded in commercetools and not passed on before."""

    return_item_id: str
    line_id: str
    sku: str
    prima_sku: SkuCode | None
    quantity: int
    shipment_state: str
    payment_state: str
    return_date: datetime | None


@frozen(kw_only=True)
class OrderReview:
    """What changed since the last review and what to do about it.

    ``cancel_in_prima`` / ``returns_for_prima``: requests to send (the installation has them);
    ``issues``: what to raise for a person (including when no request is configured).
    ``lines`` and ``order_state`` are the new baseline.
    """

    cancelled: bool
    changes: tuple[LineChange, ...]
    returns: tuple[ReturnedItem, ...]
    issues: tuple[DispatchIssue, ...]
    cancel_in_prima: bool
    returns_for_prima: tuple[ReturnedItem, ...]
    lines: tuple[ShippableLine, ...]
    order_state: str


def review_order(
    order: Order,
    *,
    known_lines: Sequence[tuple[str, str, int]] | None,
    known_order_state: str,
    known_returns: frozenset[str],
    mapping: MappingConfig,
    config: DispatchConfig,
    known_gross: int | None = None,
    watch_changes: bool = True,
) -> OrderReview:
    """Compare ``order`` with the last review.

    ``known_lines`` are ``(line id, sku, ordered)`` as last reviewed, None on the first review;
    ``known_gross`` is the ledger's gross total in minor units (checked on the first review);
    ``watch_changes`` False looks at returns only (an order already shipped).
    """
    number = order.order_number or order.id
    lines = shippable_lines(order, mapping)
    state = str(order.order_state)
    issues: list[DispatchIssue] = []
    cancelled = (
        watch_changes
        and state == OrderState.CANCELLED.value
        and known_order_state != OrderState.CANCELLED.value
    )
    if cancelled and not config.cancel_in_prima:
        issues.append(
            DispatchIssue(
                kind=DispatchIssueKind.CT_ORDER_CANCELLED,
                message="cancelled in commercetools after it reached Prima: stop it in the "
                "warehouse and cancel it in Prima",
                detail={"order_number": number},
            )
        )
    changes: list[LineChange] = []
    if watch_changes and known_lines is not None:
        before = {line_id: (sku, ordered) for line_id, sku, ordered in known_lines}
        after = {line.line_id: (line.sku, line.ordered) for line in lines}
        for line_id in [*before, *(i for i in after if i not in before)]:
            old = before.get(line_id, ("", 0))
            new = after.get(line_id, (old[0], 0))
            if old[1] != new[1]:
                changes.append(
                    LineChange(line_id=line_id, sku=new[0] or old[0], before=old[1], after=new[1])
                )
    gross = order.taxed_price.total_gross if order.taxed_price else order.total_price
    total_changed = (
        watch_changes
        and known_lines is None
        and known_gross is not None
        and gross.minor_units != known_gross
    )
    if changes or total_changed:
        detail: dict[str, object] = {
            "order_number": number,
            "changes": [
                {"line_id": c.line_id, "sku": c.sku, "before": c.before, "after": c.after}
                for c in changes
            ],
        }
        if total_changed:
            detail["gross_before"] = known_gross
            detail["gross_after"] = gross.minor_units
        described = [f"{c.sku or c.line_id}: {c.before} -> {c.after}" for c in changes]
        if total_changed:
            described.append(f"gross total {known_gross} -> {gross.minor_units} minor units")
        issues.append(
            DispatchIssue(
                kind=DispatchIssueKind.CT_ORDER_CHANGED,
                message="changed in commercetools after it reached Prima "
                f"({'; '.join(described)}): amend or stop the shipment in Prima",
                detail=detail,
            )
        )
    by_id = {line.line_id: line for line in lines}
    returns = tuple(
        ReturnedItem(
            return_item_id=item.id,
            line_id=item.item_id,
            sku=by_id[item.item_id].sku if item.item_id in by_id else "",
            prima_sku=by_id[item.item_id].prima_sku if item.item_id in by_id else None,
            quantity=item.quantity,
            shipment_state=str(item.shipment_state),
            payment_state=str(item.payment_state),
            return_date=info.return_date,
        )
        for info in order.return_info or ()
        for item in info.items
        if item.id not in known_returns
    )
    if returns and not config.returns_to_prima:
        issues.append(
            DispatchIssue(
                kind=DispatchIssueKind.CT_RETURN_RECORDED,
                message=f"{sum(r.quantity for r in returns)} unit(s) recorded as returned in "
                "commercetools: book the return in Prima",
                detail={
                    "order_number": number,
                    "returns": [
                        {
                            "return_item_id": r.return_item_id,
                            "line_id": r.line_id,
                            "sku": r.sku,
                            "quantity": r.quantity,
                            "shipment_state": r.shipment_state,
                        }
                        for r in returns
                    ],
                },
            )
        )
    return OrderReview(
        cancelled=cancelled,
        changes=tuple(changes),
        returns=returns,
        issues=tuple(issues),
        cancel_in_prima=cancelled and config.cancel_in_prima,
        returns_for_prima=returns if config.returns_to_prima else (),
        lines=lines,
        order_state=state,
    )
