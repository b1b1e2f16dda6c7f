"""The go-live report: what shadow (and hold-mode) runs recorded, set against what Prima holds
for the same order numbers.

Prima is asked ``OrderStatus`` for each recorded order (the one read every installation answers);
:func:`difference` then decides, as a pure function of the record and the answer:

===============  ==========================  ==========================================
library          Prima                       difference
===============  ==========================  ==========================================
would send       does not know the number    ``missing_in_prima``: the old integration
                                             did not send it (the library will)
would send       holds it, cancelled          ``cancelled_in_prima``: check the shop
would send       holds it                    none: both agree
would hold back  holds it                    ``only_in_prima``: the old integration sent
                                             an order the library stops (``kinds``)
would hold back  does not know it            none: both hold it back
sent held        holds it (on hold or not)   none
not checked      (anything)                  ``not_checked``: run the shadow again
===============  ==========================  ==========================================

Prima that does not answer ends the report early: the orders not asked are ``not_checked``.
"""

from __future__ import annotations

import enum
import logging
from collections import Counter
from datetime import datetime
from typing import Any, Final

from attrs import field, frozen

from ..errors import PrimaRejectedError, PrimaUnavailableError
from ..prima import OrderStatus, OrderStatusReport, PrimaGateway
from ..state import ShadowRecord, ShadowVerdict, StateStore

__all__ = ["Comparison", "ComparisonReport", "Difference", "compare_with_prima", "difference"]

_log = logging.getLogger("ct_prima_sync.engine.golive")

#: Prima not answering this many orders in a row ends the report.
_GIVE_UP_AFTER: Final = 3


class Difference(enum.StrEnum):
    """How the library and Prima disagree about one order (see the module docstring)."""

    MISSING_IN_PRIMA = "missing_in_prima"
    CANCELLED_IN_PRIMA = "cancelled_in_prima"
    ONLY_IN_PRIMA = "only_in_prima"
    NOT_CHECKED = "not_checked"


def difference(record: ShadowRecord, report: OrderStatusReport | None) -> Difference | None:
    """The difference between what the library did or would do and what Prima holds; None when
    they agree. ``report`` None: Prima was not asked (or did not answer)."""
    if report is None or record.verdict is ShadowVerdict.NOT_CHECKED:
        return Difference.NOT_CHECKED
    in_prima = report.status.known_to_prima
    if record.verdict is ShadowVerdict.WOULD_EXCEPT:
        return Difference.ONLY_IN_PRIMA if in_prima else None
    if not in_prima:
        return Difference.MISSING_IN_PRIMA
    if record.verdict is ShadowVerdict.WOULD_SEND and report.status is OrderStatus.CANCELLED:
        return Difference.CANCELLED_IN_PRIMA
    return None


@frozen(kw_only=True)
class Comparison:
    """One order in the report."""

    record: ShadowRecord
    prima_status: str
    prima_reference: str
    difference: Difference | None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able form (no payload)."""
        r = self.record
        return {
            "order_number": r.order_number,
            "order_id": r.order_id,
            "library": str(r.verdict),
            "kinds": list(r.kinds),
            "prima_status": self.prima_status,
            "prima_reference": self.prima_reference or None,
            "difference": None if self.difference is None else str(self.difference),
        }


@frozen(kw_only=True)
class ComparisonReport:
    """Every recorded order with Prima's answer and the difference, if any."""

    checked_at: datetime
    rows: tuple[Comparison, ...] = field(repr=False)

    @property
    def differences(self) -> tuple[Comparison, ...]:
        """The rows where the library and Prima disagree (or that could not be checked)."""
        return tuple(row for row in self.rows if row.difference is not None)

    def counts(self) -> dict[str, int]:
        """Rows per difference, with ``agree`` for the rest."""
        counts = Counter(str(row.difference) if row.difference else "agree" for row in self.rows)
        return {name: counts[name] for name in ["agree", *(str(d) for d in Difference)]}

    def as_dict(self, *, all_rows: bool = False) -> dict[str, Any]:
        """A JSON-able form: the counts and the differing rows (``all_rows``: every row)."""
        return {
            "checked_at": self.checked_at.isoformat(),
            "orders": len(self.rows),
            **self.counts(),
            "rows": [row.as_dict() for row in (self.rows if all_rows else self.differences)],
        }


def compare_with_prima(
    store: StateStore,
    prima: PrimaGateway,
    *,
    now: datetime,
    since: datetime | None = None,
    limit: int | None = None,
) -> ComparisonReport:
    """Ask Prima about every order shadow and hold-mode runs recorded (since ``since``, at most
    ``limit``) and report the differences."""
    rows: list[Comparison] = []
    unanswered = 0
    for record in store.list_shadow_orders(since=since, limit=limit):
        report: OrderStatusReport | None = None
        if unanswered < _GIVE_UP_AFTER and record.verdict is not ShadowVerdict.NOT_CHECKED:
            try:
                report = prima.order_status(record.order_number or record.order_id)
                unanswered = 0
            except (PrimaUnavailableError, PrimaRejectedError) as error:
                unanswered += 1
                _log.warning(
                    "Prima did not answer about an order: %s",
                    type(error).__name__,
                    extra={"order_number": record.order_number},
                )
        rows.append(
            Comparison(
                record=record,
                prima_status="(not asked)" if report is None else str(report.status),
                prima_reference="" if report is None else report.prima_reference,
                difference=difference(record, report),
            )
        )
    return ComparisonReport(checked_at=now, rows=tuple(rows))
