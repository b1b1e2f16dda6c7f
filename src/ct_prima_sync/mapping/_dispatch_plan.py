"""From what Prima says about an order to what commercetools gets (pure): the dispatch plan.

Rules (docs/dispatch.md):

1. Nothing reaches commercetools unless Prima reports the order despatched (``Part Despatched``,
   ``Despatched``, ``Invoiced``) or cancelled: a shipment state is never set ahead of Prima.
2. With despatch details, each Prima despatch not yet in commercetools becomes one delivery (one
   per shipping for ``shippingMode: Multiple``) with its lines and quantities and one parcel per
   tracking number. Despatch lines are matched to the order's lines by Prima SKU, filling the
   lines (and their shipping targets) in order up to what is not yet delivered; a despatch line
   whose SKU the order lacks, or that would ship more than ordered, holds its whole despatch back
   (``DESPATCH_LINES_MISMATCH``) while the other despatches go through.
3. Without details (the fallback): ``Despatched`` becomes one delivery of everything not yet
   delivered (per shipping); ``Part Despatched`` sets the shipment state ``Partial`` only.
4. A delivery's key is derived from the order number and Prima's despatch id (``all`` in the
   fallback) and the shipping key; a key already on the order in commercetools is never written
   again, so re-planning after a crash or a 409 adds nothing twice.
5. The shipment state becomes ``Shipped`` once every shippable quantity is in a delivery, else
   ``Partial`` once anything is; ``shipped_order_state`` and the state transitions go with that
   change.
6. A cancellation by Prima follows ``on_prima_cancel``; despatches reported before it are written
   first, and an order that had already partly shipped is never cancelled in commercetools
   (finance refunds what did not ship: ``CANCELLED_AFTER_DESPATCH``).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Final

from attrs import frozen

from ..commercetools._actions import (
    AddDelivery,
    ChangeOrderState,
    ChangeShipmentState,
    CustomFieldsDraft,
    DeliveryItemDraft,
    OrderUpdateAction,
    ParcelDraft,
    ResourceIdentifier,
    TrackingDataDraft,
    TransitionState,
)
from ..commercetools._models.enums import OrderState, ShipmentState
from ..commercetools._models.order import Order
from ..commercetools._models.shipping import Delivery
from ..prima._models import Despatch, OrderStatus
from ._config import MappingConfig
from ._dispatch_config import CancelPolicy, DispatchConfig
from ._dispatch_issues import DispatchIssue, DispatchIssueKind
from ._dispatch_lines import (
    ShippableLine,
    delivered_quantities,
    deliveries_by_key,
    delivery_key,
    shippable_lines,
)
from ._dispatch_report import DESPATCHED_STATUSES, FULLY_DESPATCHED, PrimaDespatchReport

__all__ = [
    "DispatchOutcome",
    "DispatchPlan",
    "PlannedDelivery",
    "plan_dispatch",
]

_FALLBACK_REFERENCE: Final = "all"

Slot = tuple[str | None, str]  # (shipping key, line id)


class DispatchOutcome(enum.StrEnum):
    """Where an order stands after a plan."""

    WAITING = "waiting"
    PARTIAL = "partial"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


@frozen(kw_only=True)
class PlannedDelivery:
    """A delivery the plan adds (the ledger records it once commercetools has it)."""

    delivery_key: str
    despatch_ref: str
    despatched_on: date
    items: tuple[tuple[str, int], ...]
    shipping_key: str | None = None
    carrier: str = ""
    tracking_ids: tuple[str, ...] = ()


@frozen(kw_only=True)
class DispatchPlan:
    """The update actions for commercetools, the deliveries they add, where the order stands,
    and what a person must know. ``known`` are this flow's deliveries commercetools already has
    (written before a crash, or by an earlier run), for the ledger; ``despatched`` is the
    quantity per line in deliveries once the actions are applied; ``finished`` says the order
    needs no more checks."""

    outcome: DispatchOutcome
    actions: tuple[OrderUpdateAction, ...]
    deliveries: tuple[PlannedDelivery, ...]
    known: tuple[PlannedDelivery, ...]
    issues: tuple[DispatchIssue, ...]
    lines: tuple[ShippableLine, ...]
    despatched: dict[str, int]
    finished: bool


class _Allocation:
    """Remaining quantities per (shipping key, line) while the despatches are placed."""

    def __init__(self, order: Order, lines: Sequence[ShippableLine]) -> None:
        delivered = delivered_quantities(order)
        self.lines = lines
        self.multiple = str(order.shipping_mode) == "Multiple" and bool(order.shipping)
        self.remaining: Counter[Slot] = Counter()
        self.delivered: Counter[str] = Counter()
        for (_, line_id), quantity in delivered.items():
            self.delivered[line_id] += quantity
        for line in lines:
            for key, quantity in line.targets:
                self.remaining[(key, line.line_id)] = max(
                    quantity - delivered[(key, line.line_id)], 0
                )

    def place(
        self, despatch: Despatch, ignore: frozenset[str]
    ) -> tuple[dict[str | None, Counter[str]], list[str]]:
        """Where each unit of ``despatch`` goes, by shipping and line; or why it cannot go."""
        left = Counter(self.remaining)
        placed: dict[str | None, Counter[str]] = {}
        problems: list[str] = []
        for despatched in despatch.lines:
            sku = str(despatched.sku)
            if sku in ignore or despatched.quantity <= 0:
                continue
            candidates = [line for line in self.lines if line.sku == sku]
            if not candidates:
                problems.append(
                    f"line {despatched.line_number}: SKU {sku} is not in the order "
                    f"({despatched.quantity} despatched)"
                )
                continue
            wanted = despatched.quantity
            for line in candidates:
                for key, _ in line.targets:
                    take = min(wanted, left[(key, line.line_id)])
                    if take:
                        left[(key, line.line_id)] -= take
                        placed.setdefault(key, Counter())[line.line_id] += take
                        wanted -= take
            if wanted:
                problems.append(
                    f"line {despatched.line_number}: SKU {sku} despatched {wanted} more than "
                    "the order has left to ship"
                )
        if not problems:
            self.remaining = left
            for per_line in placed.values():
                self.delivered.update(per_line)
        return placed, problems

    def rest(self) -> dict[str | None, Counter[str]]:
        """Everything not yet delivered, by shipping and line."""
        rest: dict[str | None, Counter[str]] = {}
        for (key, line_id), quantity in self.remaining.items():
            if quantity > 0:
                rest.setdefault(key, Counter())[line_id] = quantity
        return rest

    def take_rest(self) -> dict[str | None, Counter[str]]:
        rest = self.rest()
        for per_line in rest.values():
            self.delivered.update(per_line)
        self.remaining = Counter()
        return rest

    def left(self) -> int:
        return sum(q for q in self.remaining.values() if q > 0)


def _items(lines: Sequence[ShippableLine], per_line: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple((line.line_id, per_line[line.line_id]) for line in lines if per_line[line.line_id])


def _parcel_key(key: str, number: int) -> str:
    suffix = f"-p{number}"
    return key[: 256 - len(suffix)] + suffix


def _action(planned: PlannedDelivery, config: DispatchConfig) -> AddDelivery:
    carrier = config.carrier(planned.carrier) if planned.carrier else None
    parcels = []
    for number, tracking_id in enumerate(planned.tracking_ids, start=1):
        url = carrier.url_for(tracking_id) if carrier is not None else None
        custom = None
        if url is not None and config.parcel_type_key is not None:
            custom = CustomFieldsDraft(
                type=ResourceIdentifier(type_id="type", key=config.parcel_type_key),
                fields={config.tracking_url_field: url},
            )
        parcels.append(
            ParcelDraft(
                key=_parcel_key(planned.delivery_key, number),
                tracking_data=TrackingDataDraft(
                    tracking_id=tracking_id, carrier=carrier.name if carrier else None
                ),
                custom=custom,
            )
        )
    return AddDelivery(
        items=tuple(DeliveryItemDraft(id=i, quantity=q) for i, q in planned.items),
        parcels=tuple(parcels),
        delivery_key=planned.delivery_key,
        shipping_key=planned.shipping_key,
    )


def _deliveries_for(
    number: str,
    reference: str,
    placed: dict[str | None, Counter[str]],
    *,
    lines: Sequence[ShippableLine],
    multiple: bool,
    despatched_on: date,
    despatch: Despatch | None,
) -> list[PlannedDelivery]:
    planned = []
    for shipping_key, per_line in placed.items():
        items = _items(lines, per_line)
        if not items:
            continue
        planned.append(
            PlannedDelivery(
                delivery_key=delivery_key(number, reference, shipping_key if multiple else None),
                despatch_ref=despatch.despatch_id if despatch is not None else "",
                despatched_on=despatched_on,
                items=items,
                shipping_key=shipping_key if multiple else None,
                carrier=despatch.carrier if despatch is not None else "",
                tracking_ids=despatch.tracking_numbers if despatch is not None else (),
            )
        )
    return planned


def _written(
    number: str,
    reference: str,
    order: Order,
    existing: dict[str, tuple[str | None, Delivery]],
    *,
    despatch: Despatch | None,
) -> list[PlannedDelivery]:
    """The deliveries commercetools already has for this despatch (by key)."""
    candidates = [delivery_key(number, reference)] + [
        delivery_key(number, reference, s.shipping_key) for s in order.shipping
    ]
    found = []
    for key in dict.fromkeys(candidates):
        if key not in existing:
            continue
        shipping_key, delivery = existing[key]
        tracking = tuple(
            p.tracking_data.tracking_id
            for p in delivery.parcels
            if p.tracking_data is not None and p.tracking_data.tracking_id
        )
        found.append(
            PlannedDelivery(
                delivery_key=key,
                despatch_ref=despatch.despatch_id if despatch is not None else "",
                despatched_on=(
                    despatch.despatched_on if despatch is not None else delivery.created_at.date()
                ),
                items=tuple((i.id, i.quantity) for i in delivery.items),
                shipping_key=shipping_key,
                carrier=despatch.carrier if despatch is not None else "",
                tracking_ids=despatch.tracking_numbers if despatch is not None else tracking,
            )
        )
    return found


def plan_dispatch(
    order: Order,
    report: PrimaDespatchReport,
    *,
    config: DispatchConfig,
    mapping: MappingConfig,
    today: date,
) -> DispatchPlan:
    """The plan for one order, decided afresh from the order as commercetools shows it now
    (rules in the module docstring). ``today`` dates fallback deliveries, which Prima does not
    date."""
    number = order.order_number or order.id
    lines = shippable_lines(order, mapping)
    allocation = _Allocation(order, lines)
    existing = deliveries_by_key(order)
    ignore = frozenset({str(mapping.discount_sku)} if mapping.discount_sku else ())
    status = report.status
    issues: list[DispatchIssue] = []
    deliveries: list[PlannedDelivery] = []
    known: list[PlannedDelivery] = []
    prima_despatched = status in DESPATCHED_STATUSES or bool(report.despatches)

    if report.despatches is not None:
        for despatch in sorted(report.despatches, key=lambda d: (d.despatched_on, d.despatch_id)):
            written = _written(number, despatch.despatch_id, order, existing, despatch=despatch)
            if written:
                known += written
                continue
            placed, problems = allocation.place(despatch, ignore)
            if problems:
                issues.append(
                    DispatchIssue(
                        kind=DispatchIssueKind.DESPATCH_LINES_MISMATCH,
                        message=f"Prima despatch {despatch.despatch_id} does not match the "
                        f"order ({'; '.join(problems)}): it was not passed on",
                        detail={
                            "order_number": number,
                            "despatch": despatch.despatch_id,
                            "problems": problems,
                        },
                    )
                )
                continue
            deliveries += _deliveries_for(
                number,
                despatch.despatch_id,
                placed,
                lines=lines,
                multiple=allocation.multiple,
                despatched_on=despatch.despatched_on,
                despatch=despatch,
            )
        if status in FULLY_DESPATCHED and allocation.left() and not issues:
            issues.append(
                DispatchIssue(
                    kind=DispatchIssueKind.DESPATCH_LINES_MISMATCH,
                    message=f"Prima reports the order {status.value.lower()}, but its despatch "
                    f"lines leave {allocation.left()} unit(s) not despatched",
                    detail={"order_number": number, "not_despatched": allocation.left()},
                )
            )
    elif status in FULLY_DESPATCHED and (
        written := _written(number, _FALLBACK_REFERENCE, order, existing, despatch=None)
    ):
        known += written
    elif status in FULLY_DESPATCHED:
        rest = allocation.take_rest()
        deliveries += _deliveries_for(
            number,
            _FALLBACK_REFERENCE,
            rest,
            lines=lines,
            multiple=allocation.multiple,
            despatched_on=today,
            despatch=None,
        )

    actions: list[OrderUpdateAction] = [_action(d, config) for d in deliveries]
    shipped_any = sum(allocation.delivered.values()) > 0
    if status is OrderStatus.CANCELLED:
        outcome = DispatchOutcome.CANCELLED
        actions += _cancellation(
            order,
            number=number,
            allocation=allocation,
            shipped_any=shipped_any,
            config=config,
            issues=issues,
        )
    elif not prima_despatched:
        outcome = DispatchOutcome.WAITING
    else:
        done = allocation.left() == 0 and (bool(lines) or status in FULLY_DESPATCHED)
        target = ShipmentState.SHIPPED if done else ShipmentState.PARTIAL
        outcome = DispatchOutcome.SHIPPED if done else DispatchOutcome.PARTIAL
        actions += _shipment_state(order, target, config)
    return DispatchPlan(
        outcome=outcome,
        actions=tuple(actions),
        deliveries=tuple(deliveries),
        known=tuple(known),
        issues=tuple(issues),
        lines=lines,
        despatched=dict(allocation.delivered),
        finished=outcome in (DispatchOutcome.SHIPPED, DispatchOutcome.CANCELLED),
    )


def _shipment_state(
    order: Order, target: ShipmentState, config: DispatchConfig
) -> list[OrderUpdateAction]:
    if str(order.shipment_state) == target.value:
        return []
    actions: list[OrderUpdateAction] = [ChangeShipmentState(shipment_state=target)]
    if target is ShipmentState.SHIPPED:
        if config.shipped_order_state and str(order.order_state) != config.shipped_order_state:
            actions.append(ChangeOrderState(order_state=OrderState(config.shipped_order_state)))
        state_key = config.shipped_state_key
    else:
        state_key = config.partial_state_key
    if state_key:
        actions.append(TransitionState(state=ResourceIdentifier(type_id="state", key=state_key)))
    return actions


def _cancellation(
    order: Order,
    *,
    number: str,
    allocation: _Allocation,
    shipped_any: bool,
    config: DispatchConfig,
    issues: list[DispatchIssue],
) -> list[OrderUpdateAction]:
    detail = {"order_number": number}
    if shipped_any:
        issues.append(
            DispatchIssue(
                kind=DispatchIssueKind.CANCELLED_AFTER_DESPATCH,
                message=f"Prima cancelled the rest of the order after part of it shipped: "
                f"refund the {allocation.left()} unit(s) that will not ship",
                detail={
                    **detail,
                    "not_shipped": {
                        line_id: quantity
                        for (_, line_id), quantity in sorted(allocation.remaining.items())
                        if quantity > 0
                    },
                },
            )
        )
        return []
    if str(order.order_state) == OrderState.CANCELLED.value:
        return []
    if config.on_prima_cancel is CancelPolicy.RAISE:
        issues.append(
            DispatchIssue(
                kind=DispatchIssueKind.ORDER_CANCELLED_IN_PRIMA,
                message="Prima cancelled the order; commercetools still shows it "
                f"{order.order_state}: cancel it there and refund, or place it again",
                detail=detail,
            )
        )
        return []
    issues.append(
        DispatchIssue(
            kind=DispatchIssueKind.REFUND_DUE,
            message="Prima cancelled the order and it was cancelled in commercetools: "
            "refund the payment",
            detail={**detail, "payment_state": str(order.payment_state or "")},
        )
    )
    actions: list[OrderUpdateAction] = [ChangeOrderState(order_state=OrderState.CANCELLED)]
    if config.cancelled_state_key:
        actions.append(
            TransitionState(
                state=ResourceIdentifier(type_id="state", key=config.cancelled_state_key)
            )
        )
    return actions
