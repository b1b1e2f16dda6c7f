"""Order update actions the library sends, applied to a copy of the order.

Each action function changes the order in place and returns the messages the change records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ct_prima_sync.errors import ValidationError

from ._store import MessageDraft, Project, Store

__all__ = ["ORDER_STATES", "apply_order_action", "resolve_channel"]

ORDER_STATES = frozenset({"Open", "Confirmed", "Complete", "Cancelled"})
SHIPMENT_STATES = frozenset(
    {"Shipped", "Delivered", "Ready", "Pending", "Delayed", "Partial", "Backorder", "Canceled"}
)
PAYMENT_STATES = frozenset({"BalanceDue", "Failed", "Pending", "CreditOwed", "Paid"})

Order = dict[str, Any]
Action = dict[str, Any]


def invalid_input(message: str) -> ValidationError:
    """The API's 400 ``InvalidInput``."""
    return ValidationError(message, status_code=400, codes=["InvalidInput"])


def invalid_operation(message: str) -> ValidationError:
    """The API's 400 ``InvalidOperation``."""
    return ValidationError(message, status_code=400, codes=["InvalidOperation"])


def _required(action: Action, field: str) -> Any:
    if action.get(field) is None:
        raise invalid_input(f"Missing required field '{field}' in action '{action['action']}'.")
    return action[field]


def _enum(action: Action, field: str, allowed: frozenset[str]) -> str:
    value = _required(action, field)
    if value not in allowed:
        raise invalid_input(
            f"Invalid value for '{field}': {value!r} is not one of {sorted(allowed)}."
        )
    return str(value)


def resolve_channel(project: Project, reference: Any) -> dict[str, str]:
    """Turn a channel ResourceIdentifier (id or key) into a Reference, or 400 if it is unknown."""
    if not isinstance(reference, dict):
        raise invalid_input("A channel reference must be an object with 'id' or 'key'.")
    for channel in project.resources["channels"].values():
        if ("id" in reference and channel["id"] == reference["id"]) or (
            "key" in reference and channel.get("key") == reference["key"]
        ):
            return {"typeId": "channel", "id": channel["id"]}
    raise ValidationError(
        "The referenced channel does not exist.",
        status_code=400,
        codes=["ReferencedResourceNotFound"],
    )


def _change_state(
    field: str, allowed: frozenset[str], message: str
) -> Callable[..., list[MessageDraft]]:
    def apply(order: Order, action: Action, store: Store, project: Project) -> list[MessageDraft]:
        new = _enum(action, field, allowed)
        old = order.get(field)
        order[field] = new
        old_field = "old" + field[0].upper() + field[1:]
        fields: dict[str, Any] = {field: new}
        if old is not None:
            fields[old_field] = old
        return [(message, fields)]

    return apply


def _shipping_info(order: Order, shipping_key: str | None) -> dict[str, Any]:
    if order.get("shippingMode") == "Multiple":
        for shipping in order.get("shipping", []):
            if shipping.get("shippingKey") == shipping_key:
                found: dict[str, Any] = shipping.setdefault("shippingInfo", {})
                return found
        raise invalid_operation("The order has no shipping with the given 'shippingKey'.")
    single = order.get("shippingInfo")
    if not isinstance(single, dict):
        raise invalid_operation("The order has no shippingInfo to add a delivery to.")
    return single


def _add_delivery(
    order: Order, action: Action, store: Store, project: Project
) -> list[MessageDraft]:
    key = action.get("deliveryKey")
    if key is not None and any(d.get("key") == key for d in _deliveries(order)):
        raise ValidationError(
            f"A delivery with key '{key}' already exists on the order.",
            status_code=400,
            codes=["DuplicateField"],
        )
    known = {item["id"] for item in order.get("lineItems", []) + order.get("customLineItems", [])}
    items = action.get("items") or []
    for item in items:
        if item.get("id") not in known:
            raise invalid_operation("A delivery item does not refer to a line item of the order.")
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise invalid_input("A delivery item quantity must be a positive integer.")
    now = store.now()
    parcels = []
    for draft in action.get("parcels") or []:
        parcel = {"id": store.new_id(), "createdAt": now}
        parcel.update(
            {
                k: v
                for k, v in draft.items()
                if k in ("key", "measurements", "trackingData", "items", "custom")
            }
        )
        parcels.append(parcel)
    delivery: dict[str, Any] = {
        "id": store.new_id(),
        "createdAt": now,
        "items": items,
        "parcels": parcels,
    }
    if key is not None:
        delivery["key"] = key
    for optional in ("address", "custom"):
        if action.get(optional) is not None:
            delivery[optional] = action[optional]
    info = _shipping_info(order, action.get("shippingKey"))
    info.setdefault("deliveries", []).append(delivery)
    fields: dict[str, Any] = {"delivery": delivery}
    if action.get("shippingKey") is not None:
        fields["shippingKey"] = action["shippingKey"]
    return [("DeliveryAdded", fields)]


def _deliveries(order: Order) -> list[dict[str, Any]]:
    infos = [order.get("shippingInfo")] + [s.get("shippingInfo") for s in order.get("shipping", [])]
    return [d for info in infos if isinstance(info, dict) for d in info.get("deliveries", [])]


def _set_parcel_tracking(
    order: Order, action: Action, store: Store, project: Project
) -> list[MessageDraft]:
    parcel_id = _required(action, "parcelId")
    for delivery in _deliveries(order):
        for parcel in delivery.get("parcels", []):
            if parcel["id"] == parcel_id:
                if action.get("trackingData") is None:
                    parcel.pop("trackingData", None)
                else:
                    parcel["trackingData"] = action["trackingData"]
                fields = {"deliveryId": delivery["id"], "parcelId": parcel_id}
                if action.get("trackingData") is not None:
                    fields["trackingData"] = action["trackingData"]
                return [("ParcelTrackingDataUpdated", fields)]
    raise invalid_operation("The order has no parcel with the given 'parcelId'.")


def _set_custom_field(
    order: Order, action: Action, store: Store, project: Project
) -> list[MessageDraft]:
    name = _required(action, "name")
    custom = order.get("custom")
    if not isinstance(custom, dict):
        raise invalid_operation("The order has no custom type; set one before setting fields.")
    fields = custom.setdefault("fields", {})
    if action.get("value") is None:
        fields.pop(name, None)
    else:
        fields[name] = action["value"]
    return []


def _transition_state(
    order: Order, action: Action, store: Store, project: Project
) -> list[MessageDraft]:
    state = _required(action, "state")
    if not isinstance(state, dict) or not ("id" in state or "key" in state):
        raise invalid_input("'state' must be a reference with 'id' or 'key'.")
    # The fake keeps no State resources: the reference is stored as sent.
    order["state"] = {"typeId": "state", **{k: state[k] for k in ("id", "key") if k in state}}
    return [("OrderStateTransition", {"state": order["state"], "force": bool(action.get("force"))})]


def _update_sync_info(
    order: Order, action: Action, store: Store, project: Project
) -> list[MessageDraft]:
    channel = resolve_channel(project, _required(action, "channel"))
    entry: dict[str, Any] = {"channel": channel, "syncedAt": action.get("syncedAt") or store.now()}
    if action.get("externalId") is not None:
        entry["externalId"] = action["externalId"]
    order.setdefault("syncInfo", []).append(entry)
    return []


def _add_payment(
    order: Order, action: Action, store: Store, project: Project
) -> list[MessageDraft]:
    payment = _required(action, "payment")
    if not isinstance(payment, dict) or payment.get("id") not in project.resources["payments"]:
        raise invalid_input("'payment' must reference an existing payment by 'id'.")
    reference = {"typeId": "payment", "id": payment["id"]}
    info = order.setdefault("paymentInfo", {"payments": []})
    if reference not in info["payments"]:
        info["payments"].append(reference)
    return [("OrderPaymentAdded", {"payment": reference})]


_RETURN_PAYMENT = {"Returned": "Initial", "Advised": "NonRefundable"}


def _add_return_info(
    order: Order, action: Action, store: Store, project: Project
) -> list[MessageDraft]:
    lines = {i["id"] for i in order.get("lineItems", [])}
    customs = {i["id"] for i in order.get("customLineItems", [])}
    now = store.now()
    items = []
    for draft in _required(action, "items"):
        state = draft.get("shipmentState")
        if state not in _RETURN_PAYMENT:
            raise invalid_input("A return item needs shipmentState Returned or Advised.")
        item: dict[str, Any] = {
            "id": store.new_id(),
            "quantity": draft.get("quantity"),
            "shipmentState": state,
            "paymentState": _RETURN_PAYMENT[state],
            "createdAt": now,
            "lastModifiedAt": now,
        }
        if draft.get("lineItemId") in lines:
            item.update(type="LineItemReturnItem", lineItemId=draft["lineItemId"])
        elif draft.get("customLineItemId") in customs:
            item.update(type="CustomLineItemReturnItem", customLineItemId=draft["customLineItemId"])
        else:
            raise invalid_operation("A return item does not refer to a line item of the order.")
        for optional in ("key", "comment"):
            if draft.get(optional) is not None:
                item[optional] = draft[optional]
        items.append(item)
    info: dict[str, Any] = {"items": items}
    for optional in ("returnTrackingId", "returnDate"):
        if action.get(optional) is not None:
            info[optional] = action[optional]
    order.setdefault("returnInfo", []).append(info)
    return [("ReturnInfoAdded", {"returnInfo": info})]


_ACTIONS: dict[str, Callable[[Order, Action, Store, Project], list[MessageDraft]]] = {
    "addPayment": _add_payment,
    "changeOrderState": _change_state("orderState", ORDER_STATES, "OrderStateChanged"),
    "changeShipmentState": _change_state(
        "shipmentState", SHIPMENT_STATES, "OrderShipmentStateChanged"
    ),
    "changePaymentState": _change_state("paymentState", PAYMENT_STATES, "OrderPaymentStateChanged"),
    "addDelivery": _add_delivery,
    "addReturnInfo": _add_return_info,
    "setParcelTrackingData": _set_parcel_tracking,
    "setCustomField": _set_custom_field,
    "transitionState": _transition_state,
    "updateSyncInfo": _update_sync_info,
}


def apply_order_action(
    order: Order, action: Any, store: Store, project: Project
) -> list[MessageDraft]:
    """Apply one update action to ``order`` in place; 400 for an unknown or malformed action."""
    if not isinstance(action, dict) or not isinstance(action.get("action"), str):
        raise invalid_input("Each update action must be an object with an 'action' name.")
    handler = _ACTIONS.get(action["action"])
    if handler is None:
        raise invalid_input(f"Unknown update action '{action['action']}' for orders.")
    messages = handler(order, action, store, project)
    return [(kind, {"orderId": order["id"], **fields}) for kind, fields in messages]
