"""What ``ExceptionRecord.detail`` holds, per kind of exception.

``detail`` is redacted, JSON-able data: codes, paths, amounts, Prima's error text, ids; never
personal data or secrets. Every exception about an order carries ``order_number`` (when the
order has one); exceptions raised by a flow other than orders carry ``flow``. The keys each kind
adds are typed below; :data:`DETAIL_TYPES` maps a kind to its type so a host can ``cast``::

    from typing import cast
    from ct_prima_sync.engine import DETAIL_TYPES, PrimaRejectedDetail

    for record in engine.exceptions(kind="PRIMA_REJECTED"):
        detail = cast(PrimaRejectedDetail, record.detail)
        print(detail["order_number"], detail["request_error"])

Kinds not listed (the dispatch and stock flows' own) carry :class:`ExceptionDetail`'s keys,
a ``message`` and facts of their own (docs/dispatch.md, docs/stock.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypedDict

from ..mapping import IssueCode
from ._problems import ProblemKind

__all__ = [
    "DETAIL_TYPES",
    "CommercetoolsApiDetail",
    "CommercetoolsDetail",
    "CustomerDetail",
    "DepotDetail",
    "ExceptionDetail",
    "MappingIssueDetail",
    "MappingIssuesDetail",
    "OutageDetail",
    "PayloadDetail",
    "PrimaErrorDetail",
    "PrimaRejectedDetail",
    "UnexpectedDetail",
    "WriteBackDetail",
    "detail_type",
    "with_order_number",
]


class ExceptionDetail(TypedDict, total=False):
    """The keys any kind may carry."""

    order_number: str
    """The commercetools order number: on every exception about an order that has one."""
    stage: str
    """The pipeline step that met the problem (``map``, ``customer``, ``submit``,
    ``write_back``, ``message``, ...)."""
    flow: str
    """The flow that raised it when not the order flow (``dispatch``, ``stock``, ...)."""
    message: str
    """One sentence for the owner: what is wrong and what to do."""


class PrimaErrorDetail(ExceptionDetail, total=False):
    """``PRIMA_UNAVAILABLE``, ``PRIMA_AMBIGUOUS``, ``PRIMA_PROTOCOL``."""

    error: str
    """The library's description of the failure (never a payload)."""


class PrimaCodeDetail(TypedDict):
    """One ``(E:nnn) message`` part of a Prima refusal."""

    code: str
    message: str


class PrimaRejectedDetail(ExceptionDetail, total=False):
    """``PRIMA_REJECTED``, ``ORDER_NUMBER_COLLISION``, ``PRICE_BOOK_MISMATCH``: Prima refused
    the order."""

    request_error: str
    """Prima's error text as people read it (each ``(E:nnn)`` part, no stack trace)."""
    codes: list[PrimaCodeDetail]
    """Every ``(E:nnn)`` part of the reply, in order."""
    deciding_code: str | None
    """The first code that is not a follow-on: the one that decided the kind and owner."""
    raw_error: str
    """Prima's whole text, stack-trace tails included, for whoever looks into Prima's side."""
    why: str
    """``ORDER_NUMBER_COLLISION``: why the number is taken to be another order's."""


class CustomerDetail(ExceptionDetail, total=False):
    """``CUSTOMER_UNRESOLVED``: no Prima account for the order's customer."""

    hint: str
    """Which settings would resolve it."""


class CommercetoolsDetail(ExceptionDetail, total=False):
    """``CT_ORDER_NOT_FOUND`` and ``CT_UNAVAILABLE`` without a status."""

    correlation_id: str | None
    """The ``X-Correlation-ID`` of the request: quote it to commercetools support."""


class CommercetoolsApiDetail(CommercetoolsDetail, total=False):
    """``CT_UNAVAILABLE`` / ``CT_WRITE_BACK_FAILED`` from an API status."""

    status_code: int
    codes: list[str]
    """commercetools' error codes (``ConcurrentModification``, ...)."""


class WriteBackDetail(CommercetoolsApiDetail, total=False):
    """``CT_WRITE_BACK_FAILED``: Prima has the order, its reference could not be written to the
    commercetools order; retried through the ledger, never sent to Prima again (the
    commercetools keys when commercetools answered)."""

    prima_reference: str
    """Prima's reference for the order: what the write-back writes."""
    attempts: int
    """Write-backs of the order that failed so far."""
    original_kind: str
    """How the failure itself was classified when not as a write-back failure
    (``CT_ORDER_NOT_FOUND``, ``UNEXPECTED_ERROR``, ...)."""
    error_type: str
    """For an unexpected failure, its type."""


class PayloadDetail(ExceptionDetail, total=False):
    """``CT_PAYLOAD_INVALID``: commercetools sent an order the library cannot read."""

    path: str
    """The offending field, e.g. ``lineItems[3].price.value.centAmount``."""


class UnexpectedDetail(ExceptionDetail, total=False):
    """``UNEXPECTED_ERROR``: a bug or an unforeseen failure (only the type is kept)."""

    error_type: str


class OutageDetail(ExceptionDetail, total=False):
    """``PRIMA_UNAVAILABLE`` / ``CT_UNAVAILABLE`` recorded once for an outage (no order)."""

    system: str
    consecutive_failures: int
    orders_waiting: int
    possibly_applied: int


class MappingIssueDetail(TypedDict, total=False):
    """One issue of a mapping exception."""

    path: str
    message: str
    difference: str
    """For ``TOTALS_MISMATCH``, ``TAX_RATE_MISMATCH``, ``PAYMENT_MISMATCH``: the amount off."""


class MappingIssuesDetail(ExceptionDetail, total=False):
    """A mapping issue code (``UNMAPPED_SKU``, ``TOTALS_MISMATCH``, ...): every issue of that code
    the order has."""

    issues: list[MappingIssueDetail]
    config_hash: str
    """The hash of the mapping configuration the order was checked with; the checkout guard's
    verdicts carry the same hash, so a differing one shows the guard ran on another
    configuration."""


class DepotDetail(MappingIssuesDetail, total=False):
    """``UNKNOWN_DEPOT``: depots the mapping chose that Prima does not know. Checked against the
    mapping's ``[depots] valid`` list (the default) it is a mapping issue (``issues``,
    ``config_hash``); checked against Prima's own depot list (``depots_from_prima``) it names
    the ``depots``."""

    depots: list[str]


DETAIL_TYPES: Final[Mapping[str, type[Any]]] = {
    **{code.value: MappingIssuesDetail for code in IssueCode},
    ProblemKind.PRIMA_UNAVAILABLE.value: PrimaErrorDetail,
    ProblemKind.PRIMA_AMBIGUOUS.value: PrimaErrorDetail,
    ProblemKind.PRIMA_PROTOCOL.value: PrimaErrorDetail,
    ProblemKind.PRIMA_REJECTED.value: PrimaRejectedDetail,
    ProblemKind.ORDER_NUMBER_COLLISION.value: PrimaRejectedDetail,
    ProblemKind.PRICE_BOOK_MISMATCH.value: PrimaRejectedDetail,
    ProblemKind.CUSTOMER_UNRESOLVED.value: CustomerDetail,
    ProblemKind.CUSTOMER_LOCKED.value: ExceptionDetail,
    ProblemKind.CT_UNAVAILABLE.value: CommercetoolsApiDetail,
    ProblemKind.CT_ORDER_NOT_FOUND.value: CommercetoolsDetail,
    ProblemKind.CT_PAYLOAD_INVALID.value: PayloadDetail,
    ProblemKind.CT_WRITE_BACK_FAILED.value: WriteBackDetail,
    ProblemKind.UNEXPECTED_ERROR.value: UnexpectedDetail,
    "UNKNOWN_DEPOT": DepotDetail,  # the order flow's own check, after mapping
}
"""The type of ``detail`` for each kind the order flow raises."""


def detail_type(kind: str) -> type[Any]:
    """The ``TypedDict`` describing ``detail`` for exceptions of ``kind``
    (:class:`ExceptionDetail` for kinds of other flows)."""
    return DETAIL_TYPES.get(kind, ExceptionDetail)


def with_order_number(detail: Mapping[str, Any], order_number: str | None) -> dict[str, Any]:
    """``detail`` with the order's number added (a number already there is kept)."""
    out = dict(detail)
    if order_number and not out.get("order_number"):
        out["order_number"] = order_number
    return out
