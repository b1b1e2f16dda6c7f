"""Prima's reference back on the commercetools order, once and only once.

What is written comes from :class:`~ct_prima_sync.engine.WriteBack`: ``updateSyncInfo`` on an
OrderExport channel, a custom field, an order state, a state transition. The actions are decided
from the order as commercetools shows it, so an order that already carries the reference gets
nothing, and a 409 is answered by reading the order again and deciding afresh.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ..commercetools import (
    ChangeOrderState,
    CommercetoolsClient,
    Order,
    OrderState,
    OrderUpdateAction,
    OrderUpdateOutcome,
    ResourceIdentifier,
    SetCustomField,
    TransitionState,
    UpdateSyncInfo,
)
from ._clock import Clock
from ._config import WriteBack

__all__ = ["ReferenceWriter"]


class ReferenceWriter:
    """Writes Prima's reference to commercetools orders; shared by the engine's worker threads
    (the OrderExport channel's id is read once)."""

    def __init__(self, *, ct: CommercetoolsClient, settings: WriteBack, clock: Clock) -> None:
        self._ct = ct
        self._settings = settings
        self._clock = clock
        self._channel_id: str | None = None
        self._channel_lock = threading.Lock()

    def write(self, order: Order, reference: str) -> None:
        """Apply what :meth:`actions` says is missing, deciding afresh after a 409."""
        self._ct.orders.apply(
            order.id,
            order.version,
            self.actions(order, reference),
            reread=lambda fresh: self.actions(fresh, reference),
        )

    def write_many(self, orders: Sequence[tuple[Order, str]]) -> list[OrderUpdateOutcome | None]:
        """Apply what :meth:`actions` says is missing on each ``(order, reference)``, all in one
        GraphQL request; per order its outcome (``None``: nothing was missing, nothing sent).
        Nothing is retried here: an order whose update did not apply (a conflict, an error, a
        request without an answer) is the caller's to write with :meth:`write`, which decides
        again from the order as commercetools shows it."""
        planned = [(order, self.actions(order, reference)) for order, reference in orders]
        sent = self._ct.orders.apply_many([(o.id, o.version, a) for o, a in planned if a])
        outcomes = iter(sent)
        return [next(outcomes) if actions else None for _, actions in planned]

    def actions(self, order: Order, reference: str) -> list[OrderUpdateAction]:
        """What still has to be written; empty when commercetools already shows it all, so that
        re-reading after a 409 or a crash never writes twice."""
        settings = self._settings
        actions: list[OrderUpdateAction] = []
        channel_id = self._sync_channel()
        if channel_id and not any(
            s.channel.id == channel_id and s.external_id == reference for s in order.sync_info
        ):
            actions.append(
                UpdateSyncInfo(
                    channel=ResourceIdentifier(type_id="channel", id=channel_id),
                    external_id=reference,
                    synced_at=self._clock.now(),
                )
            )
        if settings.custom_field and _custom_value(order, settings.custom_field) != reference:
            actions.append(SetCustomField(name=settings.custom_field, value=reference))
        if settings.order_state and str(order.order_state) != settings.order_state:
            actions.append(ChangeOrderState(order_state=OrderState(settings.order_state)))
        if settings.transition_state_key and actions:
            actions.append(
                TransitionState(
                    state=ResourceIdentifier(type_id="state", key=settings.transition_state_key)
                )
            )
        return actions

    def _sync_channel(self) -> str | None:
        key = self._settings.sync_channel_key
        if not key:
            return None
        with self._channel_lock:
            if self._channel_id is None:
                self._channel_id = self._ct.channels.get_by_key(key).id
            return self._channel_id


def _custom_value(order: Order, name: str) -> object:
    if order.custom is None:
        return None
    return order.custom.fields.get(name)
