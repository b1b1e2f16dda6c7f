"""What Prima said about an order in one check, and what that tells before commercetools is
read (pure): whether the order needs a plan, and the conditions to raise.

Prima's status text is matched case- and space-insensitively (``PART DESPATCHED`` is ``Part
Despatched``); a value the library does not know is reported (``DISPATCH_STATUS_UNKNOWN``), never
guessed. An order Prima does not know raises ``PRIMA_ORDER_UNKNOWN``; one not (fully) despatched
``stalled_after_hours`` after Prima accepted it raises ``ORDER_STALLED``. An unchanged status with
no new despatch needs no read of commercetools: an open order costs one Prima request per check
and nothing more.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from attrs import frozen

from ..prima._models import Despatch, OrderStatus
from ._dispatch_config import DispatchConfig
from ._dispatch_issues import DispatchIssue, DispatchIssueKind

__all__ = [
    "DESPATCHED_STATUSES",
    "FULLY_DESPATCHED",
    "WAITING_STATUSES",
    "Assessment",
    "PrimaDespatchReport",
    "assess_report",
]

#: Prima statuses that mean goods left the warehouse (all of them, or part).
DESPATCHED_STATUSES: Final = frozenset(
    {OrderStatus.PART_DESPATCHED, OrderStatus.DESPATCHED, OrderStatus.INVOICED}
)
#: Prima statuses of an order that shipped in full.
FULLY_DESPATCHED: Final = frozenset({OrderStatus.DESPATCHED, OrderStatus.INVOICED})
#: Prima statuses of an order that has not shipped yet.
WAITING_STATUSES: Final = frozenset(
    {OrderStatus.OUTSTANDING, OrderStatus.ON_HOLD, OrderStatus.AUTHORISED, OrderStatus.ALLOCATED}
)


@frozen(kw_only=True)
class PrimaDespatchReport:
    """What Prima said about an order in one check. ``despatches`` is None when the installation
    gives no despatch details (the fallback), else everything despatched so far."""

    order_number: str
    status: OrderStatus
    raw: str = ""
    despatches: tuple[Despatch, ...] | None = None


@frozen(kw_only=True)
class Assessment:
    """What a check tells before commercetools is read: whether the order must be read and
    planned (``needs_order``) and the conditions to raise (unknown order or status, stalled)."""

    needs_order: bool
    issues: tuple[DispatchIssue, ...] = ()


def assess_report(
    report: PrimaDespatchReport,
    *,
    known_status: str,
    known_despatches: frozenset[str],
    accepted_at: datetime,
    now: datetime,
    config: DispatchConfig,
) -> Assessment:
    """Decide from Prima's answer alone. ``known_status`` is the status text recorded at the
    previous check and ``known_despatches`` the despatch references already delivered: an
    unchanged despatched status with no new despatch needs no read of commercetools."""
    status = report.status
    issues: list[DispatchIssue] = []
    if status is OrderStatus.UNKNOWN_TO_PRIMA:
        issues.append(
            DispatchIssue(
                kind=DispatchIssueKind.PRIMA_ORDER_UNKNOWN,
                message="Prima does not know this order (any more): check it in Prima",
                detail={"order_number": report.order_number},
            )
        )
    elif status is OrderStatus.OTHER:
        issues.append(
            DispatchIssue(
                kind=DispatchIssueKind.DISPATCH_STATUS_UNKNOWN,
                message=f"Prima reports status {report.raw!r}, which the sync does not know: "
                "nothing was changed in commercetools",
                detail={"order_number": report.order_number, "prima_status": report.raw},
            )
        )
    age = now - accepted_at
    stalled_after = timedelta(hours=config.stalled_after_hours)
    if (
        status not in FULLY_DESPATCHED
        and status is not OrderStatus.CANCELLED
        and age >= stalled_after
    ):
        issues.append(
            DispatchIssue(
                kind=DispatchIssueKind.ORDER_STALLED,
                message=f"not {'fully ' if status in DESPATCHED_STATUSES else ''}despatched "
                f"{age.total_seconds() / 3600:.0f} hours after Prima accepted it "
                f"(Prima status {report.raw or status.value!r})",
                detail={
                    "order_number": report.order_number,
                    "prima_status": report.raw or status.value,
                    "hours_since_accepted": round(age.total_seconds() / 3600, 1),
                },
            )
        )
    news = status in DESPATCHED_STATUSES or status is OrderStatus.CANCELLED
    if news and report.despatches is not None:
        fresh = {d.despatch_id for d in report.despatches} - known_despatches
        news = bool(fresh) or _folded(report.raw or status.value) != _folded(known_status)
    elif news:
        news = _folded(report.raw or status.value) != _folded(known_status)
    return Assessment(needs_order=news, issues=tuple(issues))


def _folded(text: str) -> str:
    return "".join(text.split()).casefold()
