"""What the dispatch flow raises for a person, with a stable kind and an owner.

*Conditions* describe a state that may pass (Prima does not know the order, the order is
stalled): they stay open while the condition holds, count an occurrence per check, and are
resolved automatically once it no longer does. *Events* happened once (Prima cancelled the order,
the shop changed it): they wait for a person to resolve them. docs/dispatch.md lists each kind
with what to do.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final

from attrs import field, frozen

from ._issues import IssueOwner

__all__ = ["CONDITION_KINDS", "DispatchIssue", "DispatchIssueKind"]


class DispatchIssueKind(enum.StrEnum):
    """Stable kinds of dispatch exceptions."""

    PRIMA_ORDER_UNKNOWN = "PRIMA_ORDER_UNKNOWN"
    DISPATCH_STATUS_UNKNOWN = "DISPATCH_STATUS_UNKNOWN"
    ORDER_STALLED = "ORDER_STALLED"
    DESPATCH_LINES_MISMATCH = "DESPATCH_LINES_MISMATCH"
    ORDER_CANCELLED_IN_PRIMA = "ORDER_CANCELLED_IN_PRIMA"
    REFUND_DUE = "REFUND_DUE"
    CANCELLED_AFTER_DESPATCH = "CANCELLED_AFTER_DESPATCH"
    CT_ORDER_CANCELLED = "CT_ORDER_CANCELLED"
    CT_ORDER_CHANGED = "CT_ORDER_CHANGED"
    CT_ORDER_DELETED = "CT_ORDER_DELETED"
    CT_RETURN_RECORDED = "CT_RETURN_RECORDED"

    @property
    def owner(self) -> IssueOwner:
        """Who acts on an exception of this kind."""
        return _OWNERS[self]


_OWNERS: Final[dict[DispatchIssueKind, IssueOwner]] = {
    DispatchIssueKind.PRIMA_ORDER_UNKNOWN: IssueOwner.OPERATIONS,
    DispatchIssueKind.DISPATCH_STATUS_UNKNOWN: IssueOwner.OPERATIONS,
    DispatchIssueKind.ORDER_STALLED: IssueOwner.OPERATIONS,
    DispatchIssueKind.DESPATCH_LINES_MISMATCH: IssueOwner.OPERATIONS,
    DispatchIssueKind.ORDER_CANCELLED_IN_PRIMA: IssueOwner.ECOMMERCE,
    DispatchIssueKind.REFUND_DUE: IssueOwner.FINANCE,
    DispatchIssueKind.CANCELLED_AFTER_DESPATCH: IssueOwner.FINANCE,
    DispatchIssueKind.CT_ORDER_CANCELLED: IssueOwner.OPERATIONS,
    DispatchIssueKind.CT_ORDER_CHANGED: IssueOwner.OPERATIONS,
    DispatchIssueKind.CT_ORDER_DELETED: IssueOwner.OPERATIONS,
    DispatchIssueKind.CT_RETURN_RECORDED: IssueOwner.OPERATIONS,
}

#: Kinds that describe a condition and are resolved automatically once it no longer holds.
CONDITION_KINDS: Final = frozenset(
    {
        DispatchIssueKind.PRIMA_ORDER_UNKNOWN,
        DispatchIssueKind.DISPATCH_STATUS_UNKNOWN,
        DispatchIssueKind.ORDER_STALLED,
        DispatchIssueKind.DESPATCH_LINES_MISMATCH,
    }
)


@frozen(kw_only=True)
class DispatchIssue:
    """One thing a person must know about an order's dispatch. ``detail`` is JSON-able and free
    of personal data (order numbers, line ids, SKUs, quantities, Prima's texts)."""

    kind: DispatchIssueKind
    message: str
    detail: Mapping[str, Any] = field(factory=dict)

    @property
    def owner(self) -> IssueOwner:
        """Who acts on it."""
        return self.kind.owner
