"""What can go wrong with an order, who owns it, and whether time alone can fix it.

Every problem the engine meets becomes an exception-queue record of one of these kinds. Mapping
issues keep their own codes (UNMAPPED_SKU, TOTALS_MISMATCH, ...) and owners; the kinds below cover
the rest of the pipeline. Transient kinds are retried with backoff; permanent ones wait for a
person to fix the cause and replay the order.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, Final

from attrs import frozen

from ..errors import (
    CommercetoolsApiError,
    CommercetoolsError,
    NotFoundError,
    PayloadError,
    PrimaProtocolError,
    PrimaRejectedError,
    PrimaUnavailableError,
)
from ..prima import PrimaErrorCode
from ..prima._error_codes import ErrorCodeMeaning, ErrorCodeTable
from ..state import Owner
from ._customer_lock import CustomerLockBusyError

__all__ = ["Problem", "ProblemKind", "problem_from_error", "refusal_problem"]


class ProblemKind(enum.StrEnum):
    """Exception kinds raised by the pipeline itself (mapping issues use their issue codes)."""

    PRIMA_UNAVAILABLE = "PRIMA_UNAVAILABLE"
    PRIMA_AMBIGUOUS = "PRIMA_AMBIGUOUS"
    PRIMA_REJECTED = "PRIMA_REJECTED"
    PRIMA_PROTOCOL = "PRIMA_PROTOCOL"
    ORDER_NUMBER_COLLISION = "ORDER_NUMBER_COLLISION"
    """Prima already has an order with this number (``E:21``) and this order was never sent
    before (or Prima's status check does not find it): another shop, project or a renumbering
    may own the number."""
    PRICE_BOOK_MISMATCH = "PRICE_BOOK_MISMATCH"
    """Prima's price book disagrees with the order's VAT-inclusive prices (``E:548``)."""
    CUSTOMER_UNRESOLVED = "CUSTOMER_UNRESOLVED"
    CUSTOMER_LOCKED = "CUSTOMER_LOCKED"
    CT_UNAVAILABLE = "CT_UNAVAILABLE"
    CT_ORDER_NOT_FOUND = "CT_ORDER_NOT_FOUND"
    CT_PAYLOAD_INVALID = "CT_PAYLOAD_INVALID"
    CT_WRITE_BACK_FAILED = "CT_WRITE_BACK_FAILED"
    UNEXPECTED_ERROR = "UNEXPECTED_ERROR"


_RULES: Final[dict[ProblemKind, tuple[Owner, bool]]] = {
    ProblemKind.PRIMA_UNAVAILABLE: (Owner.OPERATIONS, True),
    ProblemKind.PRIMA_AMBIGUOUS: (Owner.OPERATIONS, True),
    ProblemKind.PRIMA_REJECTED: (Owner.OPERATIONS, False),
    ProblemKind.PRIMA_PROTOCOL: (Owner.OPERATIONS, True),
    ProblemKind.ORDER_NUMBER_COLLISION: (Owner.OPERATIONS, False),
    ProblemKind.PRICE_BOOK_MISMATCH: (Owner.FINANCE, False),
    ProblemKind.CUSTOMER_UNRESOLVED: (Owner.ECOMMERCE, False),
    ProblemKind.CUSTOMER_LOCKED: (Owner.OPERATIONS, True),
    ProblemKind.CT_UNAVAILABLE: (Owner.ECOMMERCE, True),
    ProblemKind.CT_ORDER_NOT_FOUND: (Owner.ECOMMERCE, False),
    ProblemKind.CT_PAYLOAD_INVALID: (Owner.ECOMMERCE, False),
    ProblemKind.CT_WRITE_BACK_FAILED: (Owner.ECOMMERCE, True),
    ProblemKind.UNEXPECTED_ERROR: (Owner.OPERATIONS, True),
}


#: Stages that write to commercetools: the reference write-back and the dispatch flow's updates.
_WRITES: Final = frozenset({"write_back", "dispatch_write"})


@frozen(kw_only=True)
class Problem:
    """One problem with one order: what kind, whose, whether it is worth retrying, and the facts
    (redacted: codes, paths, amounts, Prima's error text; never personal data)."""

    kind: str
    owner: Owner
    transient: bool
    detail: dict[str, Any]

    @classmethod
    def of(cls, kind: ProblemKind, **detail: Any) -> Problem:
        """A problem of a pipeline kind, with the kind's owner and retry rule."""
        owner, transient = _RULES[kind]
        return cls(kind=kind.value, owner=owner, transient=transient, detail=detail)


_KIND_OF: Final = {
    ErrorCodeMeaning.DUPLICATE_ORDER_NUMBER: ProblemKind.ORDER_NUMBER_COLLISION,
    ErrorCodeMeaning.PRICE_BOOK_MISMATCH: ProblemKind.PRICE_BOOK_MISMATCH,
}
_HINTS: Final = {
    ProblemKind.ORDER_NUMBER_COLLISION: "Prima already has an order with this number that this "
    "sync never sent: find who owns it in Prima (another shop, project or a renumbering) before "
    "replaying",
    ProblemKind.PRICE_BOOK_MISMATCH: "the order's VAT-inclusive prices disagree with Prima's "
    "price book: check the mapping's price basis (VatInclusive) against the price book",
}


def refusal_problem(
    codes: Sequence[PrimaErrorCode],
    short_text: str,
    *,
    table: ErrorCodeTable,
    raw_text: str = "",
    **detail: Any,
) -> Problem:
    """The problem for a Prima refusal, decided by its first code that is not a follow-on.

    ``E:21`` (ORDER_NUMBER_COLLISION) is decided here only once the caller has ruled out that
    the order is this one (``_order_flow``). Unknown codes, or only follow-on ones, are
    PRIMA_REJECTED. The detail lists every code with its short message; the full text (with
    Prima's stack-trace tails) is kept as ``raw_error``.
    """
    kind = _KIND_OF.get(table.decide(codes), ProblemKind.PRIMA_REJECTED)
    listed = [{"code": c.code, "message": c.message} for c in codes]
    deciding = table.deciding(codes)
    message = f"Prima refused the order: {short_text}" if short_text else "Prima refused it"
    if kind in _HINTS:
        message = f"{message} ({_HINTS[kind]})"
    return Problem.of(
        kind,
        **detail,
        message=message,
        request_error=short_text,
        codes=listed,
        deciding_code=deciding.code if deciding is not None else None,
        raw_error=raw_text or short_text,
    )


def problem_from_error(
    error: BaseException, *, stage: str, table: ErrorCodeTable | None = None
) -> Problem:
    """Classify an exception raised while processing an order at ``stage``.

    Only the exception's type and the library's own messages (which never carry personal data)
    go into the detail; an unexpected exception keeps its type name only.
    """
    if isinstance(error, CustomerLockBusyError):
        return Problem.of(ProblemKind.CUSTOMER_LOCKED, stage=stage)
    if isinstance(error, PrimaUnavailableError):
        kind = (
            ProblemKind.PRIMA_AMBIGUOUS
            if error.may_have_been_applied
            else (ProblemKind.PRIMA_UNAVAILABLE)
        )
        return Problem.of(kind, stage=stage, error=str(error))
    if isinstance(error, PrimaRejectedError):
        return refusal_problem(
            error.codes,
            error.request_error,
            table=table or ErrorCodeTable(),
            raw_text=error.raw_error,
            stage=stage,
        )
    if isinstance(error, PrimaProtocolError):
        return Problem.of(ProblemKind.PRIMA_PROTOCOL, stage=stage, error=str(error))
    if isinstance(error, NotFoundError):
        return Problem.of(
            ProblemKind.CT_ORDER_NOT_FOUND, stage=stage, correlation_id=error.correlation_id
        )
    if isinstance(error, PayloadError):
        return Problem.of(ProblemKind.CT_PAYLOAD_INVALID, stage=stage, path=error.path)
    if isinstance(error, CommercetoolsApiError) and 400 <= error.status_code < 500:
        kind = ProblemKind.CT_WRITE_BACK_FAILED if stage in _WRITES else ProblemKind.CT_UNAVAILABLE
        return Problem(
            kind=kind.value,
            owner=Owner.ECOMMERCE,
            transient=error.status_code in (409, 429),
            detail={
                "stage": stage,
                "status_code": error.status_code,
                "codes": list(error.codes),
                "correlation_id": error.correlation_id,
            },
        )
    if isinstance(error, CommercetoolsError):
        kind = ProblemKind.CT_WRITE_BACK_FAILED if stage in _WRITES else ProblemKind.CT_UNAVAILABLE
        return Problem.of(kind, stage=stage, correlation_id=error.correlation_id)
    return Problem.of(ProblemKind.UNEXPECTED_ERROR, stage=stage, error_type=type(error).__name__)
