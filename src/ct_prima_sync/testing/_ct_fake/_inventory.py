"""Inventory entries: quantities, reservations and the update actions.

The rule (commercetools "Inventory overview", Reservation states in the API reference):

1. ``reserved = quantityOnStock - availableQuantity``; a new entry has nothing reserved.
2. ``changeQuantity`` sets ``quantityOnStock`` and keeps ``reserved``: ``availableQuantity``
   moves by the same delta. ``addQuantity`` / ``removeQuantity`` move both by the delta.
3. An order placed (or imported) with inventory mode ``TrackOnly`` or ``ReserveOnOrder``
   reserves: ``availableQuantity`` drops by the line quantity, ``quantityOnStock`` stays.
   ``TrackOnly`` succeeds even at zero or below; ``ReserveOnOrder`` fails with 400 ``OutOfStock``
   when ``availableQuantity`` is short, unless ``restockableInDays`` is set. Both fail with
   ``OutOfStock`` when no entry exists for the SKU and supply channel.
4. A committed reservation lowers ``quantityOnStock`` by the quantity (stock left the shelf);
   a released one raises ``availableQuantity`` back. The API does these in the background; the
   fake exposes them as :meth:`FakeCommercetools.commit_reservation` and
   :meth:`FakeCommercetools.release_reservation`.
5. The check of rule 3 happens when the order is placed; the reservation itself lands on the
   entry as background work, ``reservation_lag`` later (the API: up to about 10 seconds since
   the 2026-01-19 release), on whatever version the entry has by then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ct_prima_sync.errors import ValidationError

from ._orders import invalid_input, resolve_channel
from ._store import MessageDraft, Project, Store

__all__ = ["apply_inventory_action", "entry_draft", "find_entry", "reserve_for_order"]

Entry = dict[str, Any]


def _quantity(action: dict[str, Any], *, allow_negative: bool = False) -> int:
    value = action.get("quantity")
    if not isinstance(value, int) or isinstance(value, bool) or (value < 0 and not allow_negative):
        raise invalid_input(
            f"'quantity' of '{action.get('action')}' must be a non-negative integer."
        )
    return value


def _channel_id(reference: Any) -> str | None:
    return reference.get("id") if isinstance(reference, dict) else None


def find_entry(project: Project, sku: str, channel_id: str | None) -> Entry | None:
    """The entry for ``sku`` in supply channel ``channel_id`` (None: no channel), if any."""
    for entry in project.resources["inventory"].values():
        if entry["sku"] == sku and _channel_id(entry.get("supplyChannel")) == channel_id:
            return entry
    return None


def entry_draft(project: Project, draft: Any) -> Entry:
    """Validate an InventoryEntryDraft and build the new entry's body (nothing reserved)."""
    if not isinstance(draft, dict) or not isinstance(draft.get("sku"), str):
        raise invalid_input("An inventory entry draft needs a 'sku'.")
    on_stock = _quantity({"action": "create", "quantity": draft.get("quantityOnStock")})
    entry: Entry = {k: v for k, v in draft.items() if k not in ("supplyChannel",)}
    channel = None
    if draft.get("supplyChannel") is not None:
        entry["supplyChannel"] = resolve_channel(project, draft["supplyChannel"])
        channel = entry["supplyChannel"]["id"]
    if find_entry(project, draft["sku"], channel) is not None:
        raise ValidationError(
            "An inventory entry for this SKU and supply channel already exists.",
            status_code=400,
            codes=["DuplicateField"],
        )
    entry["quantityOnStock"] = on_stock
    entry["availableQuantity"] = on_stock
    return entry


def _quantity_message(entry: Entry, old_stock: int, old_available: int) -> MessageDraft:
    fields: dict[str, Any] = {
        "sku": entry["sku"],
        "oldQuantityOnStock": old_stock,
        "newQuantityOnStock": entry["quantityOnStock"],
        "oldAvailableQuantity": old_available,
        "newAvailableQuantity": entry["availableQuantity"],
    }
    if entry.get("supplyChannel") is not None:
        fields["supplyChannel"] = entry["supplyChannel"]
    return ("InventoryEntryQuantitySet", fields)


def _move(
    delta_of: Callable[[Entry, int], int],
) -> Callable[[Entry, dict[str, Any]], list[MessageDraft]]:
    def apply(entry: Entry, action: dict[str, Any]) -> list[MessageDraft]:
        old_stock, old_available = entry["quantityOnStock"], entry["availableQuantity"]
        delta = delta_of(entry, _quantity(action))
        entry["quantityOnStock"] = old_stock + delta
        entry["availableQuantity"] = old_available + delta
        return [_quantity_message(entry, old_stock, old_available)]

    return apply


def _setter(field: str) -> Callable[[Entry, dict[str, Any]], list[MessageDraft]]:
    def apply(entry: Entry, action: dict[str, Any]) -> list[MessageDraft]:
        if action.get(field) is None:
            entry.pop(field, None)
        else:
            entry[field] = action[field]
        return []

    return apply


_ACTIONS: dict[str, Callable[[Entry, dict[str, Any]], list[MessageDraft]]] = {
    # changeQuantity is absolute on quantityOnStock; reservations are kept (rule 2).
    "changeQuantity": _move(lambda entry, quantity: quantity - entry["quantityOnStock"]),
    "addQuantity": _move(lambda entry, quantity: quantity),
    "removeQuantity": _move(lambda entry, quantity: -quantity),
    "setRestockableInDays": _setter("restockableInDays"),
    "setExpectedDelivery": _setter("expectedDelivery"),
}


def apply_inventory_action(entry: Entry, action: Any) -> list[MessageDraft]:
    """Apply one update action to ``entry`` in place; 400 for an unknown or malformed action."""
    if not isinstance(action, dict) or not isinstance(action.get("action"), str):
        raise invalid_input("Each update action must be an object with an 'action' name.")
    handler = _ACTIONS.get(action["action"])
    if handler is None:
        raise invalid_input(f"Unknown update action '{action['action']}' for inventory entries.")
    return handler(entry, action)


def _out_of_stock(sku: str) -> ValidationError:
    return ValidationError(
        f"Some line items are out of stock at the time of placing the order: {sku}.",
        status_code=400,
        codes=["OutOfStock"],
    )


def reserve_for_order(store: Store, project: Project, order: dict[str, Any]) -> None:
    """Reserve stock for the tracked line items of a new order (rule 3), all or nothing."""
    plan: list[tuple[Entry, int]] = []
    for line in order.get("lineItems", []):
        mode = line.get("inventoryMode") or order.get("inventoryMode") or "None"
        if mode not in ("TrackOnly", "ReserveOnOrder"):
            continue
        sku = str((line.get("variant") or {}).get("sku"))
        entry = find_entry(project, sku, _channel_id(line.get("supplyChannel")))
        if entry is None:
            raise _out_of_stock(str(sku))
        quantity = int(line.get("quantity", 0))
        already = sum(q for e, q in plan if e is entry)
        short = entry["availableQuantity"] - already < quantity
        if mode == "ReserveOnOrder" and short and entry.get("restockableInDays") is None:
            raise _out_of_stock(str(sku))
        plan.append((entry, quantity))
    for entry, quantity in plan:
        store.later(_reservation(store, project, entry["id"], quantity))


def _reservation(
    store: Store, project: Project, entry_id: str, quantity: int
) -> Callable[[], None]:
    def land() -> None:
        current = project.resources["inventory"].get(entry_id)
        if current is not None:  # an entry deleted meanwhile has nothing left to reserve on
            adjust_entry(store, project, current, available=-quantity)

    return land


def adjust_entry(
    store: Store, project: Project, entry: Entry, *, available: int = 0, on_stock: int = 0
) -> Entry:
    """Move an entry's quantities as the platform does in the background (a new version)."""

    def change(updated: Entry) -> list[MessageDraft]:
        updated["availableQuantity"] += available
        updated["quantityOnStock"] += on_stock
        return []

    return store.update(project, "inventory", entry, entry["version"], change)
