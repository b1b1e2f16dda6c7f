"""Sales orders inside a simulated Prima: the record, its snapshot and the status lifecycle."""

from __future__ import annotations

from collections.abc import Mapping

from attrs import define, field, frozen

from ...errors import InvalidTransitionError
from ...prima import Despatch, OrderStatus, ReturnLine, SalesOrder, SalesOrderLine

__all__ = ["OrderRecord", "PrimaOrder", "check_transition"]

# Which statuses each test-driven step may start from. Despatch moves stock, so it needs an order
# that is live (not held, cancelled or invoiced); cancel is refused once anything has shipped.
_ALLOWED_FROM: Mapping[str, frozenset[OrderStatus]] = {
    "hold": frozenset({OrderStatus.OUTSTANDING, OrderStatus.AUTHORISED, OrderStatus.ALLOCATED}),
    "release": frozenset({OrderStatus.ON_HOLD}),
    "authorise": frozenset({OrderStatus.OUTSTANDING, OrderStatus.ON_HOLD}),
    "allocate": frozenset({OrderStatus.OUTSTANDING, OrderStatus.AUTHORISED}),
    "despatch": frozenset(
        {
            OrderStatus.OUTSTANDING,
            OrderStatus.AUTHORISED,
            OrderStatus.ALLOCATED,
            OrderStatus.PART_DESPATCHED,
        }
    ),
    "invoice": frozenset({OrderStatus.DESPATCHED}),
    "cancel": frozenset(
        {
            OrderStatus.OUTSTANDING,
            OrderStatus.ON_HOLD,
            OrderStatus.AUTHORISED,
            OrderStatus.ALLOCATED,
        }
    ),
    "cancel the rest of": frozenset({OrderStatus.PART_DESPATCHED}),
}


def check_transition(step: str, order_number: str, status: OrderStatus) -> None:
    """Raise InvalidTransitionError when ``step`` cannot start from ``status``."""
    if status not in _ALLOWED_FROM[step]:
        raise InvalidTransitionError(f"cannot {step} order {order_number}: it is {status.value!r}")


@define(kw_only=True)
class OrderRecord:
    """The mutable order as the world keeps it (guarded by the world's lock)."""

    order: SalesOrder
    prima_reference: str
    account_code: str
    status: OrderStatus
    despatched: dict[int, int] = field(factory=dict)
    despatches: list[Despatch] = field(factory=list)
    submissions: int = 1
    status_text: str = ""
    """What Prima reports as the status when set (case and spacing variants, unknown values)."""
    returns: dict[str, ReturnLine] = field(factory=dict)
    cancellation_requests: int = 0

    def line(self, line_number: int) -> SalesOrderLine:
        for line in self.order.lines:
            if line.line_number == line_number:
                return line
        raise InvalidTransitionError(f"order {self.order.order_number} has no line {line_number}")

    def outstanding(self, line: SalesOrderLine) -> int:
        return line.quantity - self.despatched.get(line.line_number, 0)

    def fully_despatched(self) -> bool:
        return all(self.outstanding(line) == 0 for line in self.order.lines)

    def snapshot(self) -> PrimaOrder:
        return PrimaOrder(
            order=self.order,
            prima_reference=self.prima_reference,
            account_code=self.account_code,
            status=self.status,
            despatched=dict(self.despatched),
            despatches=tuple(self.despatches),
            submissions=self.submissions,
            returns=tuple(self.returns.values()),
            cancellation_requests=self.cancellation_requests,
        )


@frozen(kw_only=True)
class PrimaOrder:
    """A sales order as the simulated Prima holds it, for assertions in tests.

    ``submissions`` counts how many times the order number arrived (1 + rejected duplicates);
    ``despatched`` maps line numbers to the quantity shipped so far; ``returns`` are the returns
    the shop sent (by return reference) and ``cancellation_requests`` how often the shop asked
    to cancel.
    """

    order: SalesOrder
    prima_reference: str
    account_code: str
    status: OrderStatus
    despatched: Mapping[int, int]
    despatches: tuple[Despatch, ...]
    submissions: int
    returns: tuple[ReturnLine, ...] = ()
    cancellation_requests: int = 0

    @property
    def order_number(self) -> str:
        """The external order number Prima de-duplicates on."""
        return self.order.order_number
