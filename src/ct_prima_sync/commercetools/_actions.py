"""Typed update actions for orders and inventory entries, and drafts to create entries.

Every action is a frozen attrs class with two class-level facts:

- ``action``: the wire name (``"changeShipmentState"``);
- ``absolute``: whether applying it again, to a newer version, gives the same result. Absolute
  actions (set a state, a date, a custom field) may be re-sent with the version a 409 reported;
  the others (add or remove a quantity, add a delivery, transition a state machine, append sync
  info, and set a quantity, whose figure is worked out from the entry's reservations) must be
  re-decided on a fresh read first, or they would apply twice or against a changed precondition.

:func:`action_to_json` turns an action into the API's JSON (camelCase, unset fields left out).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final

import attrs
from attrs import field, frozen

from ..errors import ConfigurationError
from ._models.enums import OrderState, PaymentState, ShipmentState
from ._query import format_datetime

if TYPE_CHECKING:
    import cattrs

__all__ = [
    "AddDelivery",
    "AddQuantity",
    "ChangeOrderState",
    "ChangePaymentState",
    "ChangeQuantity",
    "ChangeShipmentState",
    "CustomFieldsDraft",
    "DeliveryItemDraft",
    "InventoryEntryDraft",
    "InventoryUpdateAction",
    "OrderUpdateAction",
    "ParcelDraft",
    "ParcelMeasurementsDraft",
    "RemoveQuantity",
    "ResourceIdentifier",
    "SetCustomField",
    "SetExpectedDelivery",
    "SetParcelTrackingData",
    "SetRestockableInDays",
    "TrackingDataDraft",
    "TransitionState",
    "UpdateAction",
    "UpdateSyncInfo",
    "action_to_json",
    "draft_to_json",
]


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"{attribute.name} must be an integer >= 0")


def _positive(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"{attribute.name} must be an integer > 0")


@frozen(kw_only=True)
class ResourceIdentifier:
    """A reference by ``id`` or ``key`` (exactly one).

    Example: ``ResourceIdentifier.channel(key="erp")``.
    """

    type_id: str
    id: str | None = None
    key: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.id is None) == (self.key is None):
            raise ConfigurationError(f"a {self.type_id} reference needs exactly one of id or key")

    @classmethod
    def channel(cls, *, id: str | None = None, key: str | None = None) -> ResourceIdentifier:
        """A channel reference."""
        return cls(type_id="channel", id=id, key=key)

    @classmethod
    def state(cls, *, id: str | None = None, key: str | None = None) -> ResourceIdentifier:
        """A state (state machine) reference."""
        return cls(type_id="state", id=id, key=key)


@frozen(kw_only=True)
class UpdateAction:
    """Base of every update action."""

    action: ClassVar[str]
    absolute: ClassVar[bool]


@frozen(kw_only=True)
class OrderUpdateAction(UpdateAction):
    """Base of the order update actions."""


@frozen(kw_only=True)
class InventoryUpdateAction(UpdateAction):
    """Base of the inventory entry update actions."""


@frozen(kw_only=True)
class ChangeOrderState(OrderUpdateAction):
    """Set ``orderState``."""

    action: ClassVar[str] = "changeOrderState"
    absolute: ClassVar[bool] = True
    order_state: OrderState


@frozen(kw_only=True)
class ChangeShipmentState(OrderUpdateAction):
    """Set ``shipmentState``."""

    action: ClassVar[str] = "changeShipmentState"
    absolute: ClassVar[bool] = True
    shipment_state: ShipmentState


@frozen(kw_only=True)
class ChangePaymentState(OrderUpdateAction):
    """Set ``paymentState``."""

    action: ClassVar[str] = "changePaymentState"
    absolute: ClassVar[bool] = True
    payment_state: PaymentState


@frozen(kw_only=True)
class DeliveryItemDraft:
    """``quantity`` of the line item (or custom line item) ``id`` in a delivery."""

    id: str
    quantity: int = field(validator=_positive)


@frozen(kw_only=True)
class ParcelMeasurementsDraft:
    """A parcel's size and weight."""

    height_in_millimeter: int | None = field(default=None, validator=_non_negative)
    length_in_millimeter: int | None = field(default=None, validator=_non_negative)
    width_in_millimeter: int | None = field(default=None, validator=_non_negative)
    weight_in_gram: int | None = field(default=None, validator=_non_negative)


@frozen(kw_only=True)
class TrackingDataDraft:
    """The carrier's tracking facts of a parcel."""

    tracking_id: str | None = None
    carrier: str | None = None
    provider: str | None = None
    provider_transaction: str | None = None
    is_return: bool | None = None


@frozen(kw_only=True)
class CustomFieldsDraft:
    """Custom fields of a new delivery or parcel: the custom ``type`` (a type reference by key or
    id) and its field values."""

    type: ResourceIdentifier
    fields: Mapping[str, Any] | None = None


@frozen(kw_only=True)
class ParcelDraft:
    """A parcel of a new delivery."""

    key: str | None = None
    measurements: ParcelMeasurementsDraft | None = None
    tracking_data: TrackingDataDraft | None = None
    items: tuple[DeliveryItemDraft, ...] | None = None
    custom: CustomFieldsDraft | None = None


@frozen(kw_only=True)
class AddDelivery(OrderUpdateAction):
    """Add a delivery with its items and parcels.

    Not absolute: sent twice it adds two deliveries. Give it a ``delivery_key`` and check for it on
    a fresh read before sending it again. ``address`` is commercetools' BaseAddress JSON; it is
    personal data and stays out of ``repr``.
    """

    action: ClassVar[str] = "addDelivery"
    absolute: ClassVar[bool] = False
    items: tuple[DeliveryItemDraft, ...] = ()
    parcels: tuple[ParcelDraft, ...] = ()
    delivery_key: str | None = None
    shipping_key: str | None = None
    address: Mapping[str, Any] | None = field(default=None, repr=False)
    custom: CustomFieldsDraft | None = None


@frozen(kw_only=True)
class SetParcelTrackingData(OrderUpdateAction):
    """Replace the tracking data of a parcel, named by ``parcel_id`` or ``parcel_key``."""

    action: ClassVar[str] = "setParcelTrackingData"
    absolute: ClassVar[bool] = True
    parcel_id: str | None = None
    parcel_key: str | None = None
    tracking_data: TrackingDataDraft | None = None

    def __attrs_post_init__(self) -> None:
        if (self.parcel_id is None) == (self.parcel_key is None):
            raise ConfigurationError("setParcelTrackingData needs exactly one of parcel_id, key")


@frozen(kw_only=True)
class SetCustomField(OrderUpdateAction):
    """Set the custom field ``name`` to a JSON ``value``; ``None`` removes the field."""

    action: ClassVar[str] = "setCustomField"
    absolute: ClassVar[bool] = True
    name: str
    value: Any = None


@frozen(kw_only=True)
class TransitionState(OrderUpdateAction):
    """Move the order's state machine to ``state``.

    Not absolute: whether the transition is allowed depends on the current state.
    """

    action: ClassVar[str] = "transitionState"
    absolute: ClassVar[bool] = False
    state: ResourceIdentifier
    force: bool | None = None


@frozen(kw_only=True)
class UpdateSyncInfo(OrderUpdateAction):
    """Record that the order was exported through ``channel`` (the ERP reference as external id).

    Not absolute: every call appends one SyncInfo entry.
    """

    action: ClassVar[str] = "updateSyncInfo"
    absolute: ClassVar[bool] = False
    channel: ResourceIdentifier
    external_id: str | None = None
    synced_at: datetime | None = None


@frozen(kw_only=True)
class ChangeQuantity(InventoryUpdateAction):
    """Set ``quantityOnStock`` to ``quantity``.

    It sets a figure, so sending it twice never adds twice; but it is not ``absolute`` for the
    conflict rules: the right figure is worked out from what the entry held (the stock flow adds
    the entry's reservations back), so after a 409 the entry must be read again and the figure
    decided afresh, never re-sent unchanged on the new version.
    """

    action: ClassVar[str] = "changeQuantity"
    absolute: ClassVar[bool] = False
    quantity: int = field(validator=_non_negative)


@frozen(kw_only=True)
class AddQuantity(InventoryUpdateAction):
    """Add ``quantity`` to ``quantityOnStock`` (relative: never replay blindly)."""

    action: ClassVar[str] = "addQuantity"
    absolute: ClassVar[bool] = False
    quantity: int = field(validator=_positive)


@frozen(kw_only=True)
class RemoveQuantity(InventoryUpdateAction):
    """Remove ``quantity`` from ``quantityOnStock`` (relative: never replay blindly)."""

    action: ClassVar[str] = "removeQuantity"
    absolute: ClassVar[bool] = False
    quantity: int = field(validator=_positive)


@frozen(kw_only=True)
class SetRestockableInDays(InventoryUpdateAction):
    """Set (or with ``None`` remove) ``restockableInDays``."""

    action: ClassVar[str] = "setRestockableInDays"
    absolute: ClassVar[bool] = True
    restockable_in_days: int | None = field(default=None, validator=_non_negative)


@frozen(kw_only=True)
class SetExpectedDelivery(InventoryUpdateAction):
    """Set (or with ``None`` remove) ``expectedDelivery``."""

    action: ClassVar[str] = "setExpectedDelivery"
    absolute: ClassVar[bool] = True
    expected_delivery: datetime | None = None


@frozen(kw_only=True)
class InventoryEntryDraft:
    """A new inventory entry: one per (sku, supply channel)."""

    sku: str
    quantity_on_stock: int = field(validator=_non_negative)
    supply_channel: ResourceIdentifier | None = None
    restockable_in_days: int | None = field(default=None, validator=_non_negative)
    expected_delivery: datetime | None = None
    key: str | None = None


_CAMEL: Final = re.compile(r"_([a-z])")


def _camel(name: str) -> str:
    return _CAMEL.sub(lambda m: m.group(1).upper(), name)


@functools.cache
def _converter() -> cattrs.Converter:
    """The one converter for outgoing JSON: camelCase names, unset (``None``) fields left out.

    Built on first use: the pure mapping builds actions (dispatch plans) on import paths that
    must not pay for cattrs.
    """
    import cattrs  # noqa: PLC0415
    from cattrs.gen import make_dict_unstructure_fn, override  # noqa: PLC0415

    converter = cattrs.Converter()
    converter.register_unstructure_hook(datetime, format_datetime)
    converter.register_unstructure_hook(enum.Enum, lambda member: member.value)

    def attrs_hook(cls: type[Any]) -> Any:
        overrides = {a.name: override(rename=_camel(a.name)) for a in attrs.fields(cls)}
        inner = make_dict_unstructure_fn(cls, converter, **overrides)  # type: ignore[arg-type]

        def unstructure(value: Any) -> dict[str, Any]:
            data: dict[str, Any] = inner(value)
            return {k: v for k, v in data.items() if v is not None}

        return unstructure

    converter.register_unstructure_hook_factory(attrs.has, attrs_hook)
    return converter


def action_to_json(action: UpdateAction) -> dict[str, Any]:
    """The API's JSON for one update action."""
    return {"action": action.action, **_converter().unstructure(action)}


def draft_to_json(draft: InventoryEntryDraft) -> dict[str, Any]:
    """The API's JSON for an inventory entry draft."""
    data: dict[str, Any] = _converter().unstructure(draft)
    return data
