"""What can go wrong with an order, who owns it, and whether time alone can fix it.

Every problem the engine meets becomes an exception-queue record of one of these kinds. Mapping
issues keep their own codes (UNMAPPED_SKU, TOTALS_MISMATCH, ...) and owners; the kinds below cover
the rest of the pipeline. Transient kinds are retried with backoff; permanent ones wait for a
person to fix the cause and replay the order.
"""

from __future__ import annotations

import enum
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
from ..state import Owner
from ._customers import CustomerLockBusyError

__all__ = ["Problem", "ProblemKind", "problem_from_error"]


class ProblemKind(enum.StrEnum):
    """Exception kinds raised by the pipeline itself (mapping issues use their issue codes)."""

    PRIMA_UNAVAILABLE = "PRIMA_UNAVAILABLE"
    PRIMA_AMBIGUOUS = "PRIMA_AMBIGUOUS"
    PRIMA_REJECTED = "PRIMA_REJECTED"
    PRIMA_PROTOCOL = "PRIMA_PROTOCOL"
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


def problem_from_error(error: BaseException, *, stage: str) -> Problem:
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
        return Problem.of(
            ProblemKind.PRIMA_REJECTED, stage=stage, request_error=error.request_error
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
