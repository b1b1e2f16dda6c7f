"""The test-driving methods FakePrima and PrimaEmulator share: they move the world's orders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from ...prima import Despatch
from ._orders import PrimaOrder
from ._requests import PrimaRequestKind, PrimaRequestRecord
from ._world import PrimaWorld

__all__ = ["ScenarioDriver"]


class ScenarioDriver:
    """Lifecycle steps and assertions helpers over ``self.world`` (a :class:`PrimaWorld`)."""

    world: PrimaWorld

    def authorise(self, order_number: str) -> None:
        """Authorise an order (payment and credit checks passed)."""
        self.world.authorise(order_number)

    def allocate(self, order_number: str) -> None:
        """Mark an order allocated in the warehouse."""
        self.world.allocate(order_number)

    def hold(self, order_number: str) -> None:
        """Put an order on hold."""
        self.world.hold(order_number)

    def release(self, order_number: str) -> None:
        """Release a held order."""
        self.world.release(order_number)

    def despatch(
        self,
        order_number: str,
        lines: Mapping[int, int] | None = None,
        *,
        carrier: str = "",
        carrier_service: str = "",
        tracking_numbers: Sequence[str] = (),
        on: date | None = None,
    ) -> Despatch:
        """Ship some (``{line_number: quantity}``) or all (None) of an order's outstanding lines."""
        return self.world.despatch(
            order_number,
            lines,
            carrier=carrier,
            carrier_service=carrier_service,
            tracking_numbers=tracking_numbers,
            on=on,
        )

    def invoice(self, order_number: str) -> None:
        """Invoice a despatched order."""
        self.world.invoice(order_number)

    def cancel(self, order_number: str, *, rest: bool = False) -> None:
        """Cancel an order that has not shipped (``rest``: what a part-despatched order has not
        shipped yet); its stock allocation is released."""
        self.world.cancel(order_number, rest=rest)

    def report_status_as(self, order_number: str, text: str) -> None:
        """Make Prima report ``text`` as the order's status until its status next moves."""
        self.world.report_status_as(order_number, text)

    def forget(self, order_number: str) -> None:
        """Remove an order from Prima (archived or purged): it becomes unknown."""
        self.world.forget(order_number)

    def order(self, order_number: str) -> PrimaOrder:
        """A snapshot of an accepted order."""
        return self.world.order(order_number)

    def requests(self, kind: PrimaRequestKind | None = None) -> list[PrimaRequestRecord]:
        """Every request received (of one kind when given)."""
        return self.world.requests(kind)

    def submission_count(self, order_number: str) -> int:
        """How many submissions that reached Prima carried this order number."""
        return self.world.submission_count(order_number)
