"""What a simulated Prima was asked: the request kinds and the log of every request received."""

from __future__ import annotations

import enum
import threading
from collections import Counter
from collections.abc import Sequence

from attrs import frozen

__all__ = ["PrimaRequestKind", "PrimaRequestRecord", "RequestLog"]


class PrimaRequestKind(enum.StrEnum):
    """The operations of the PrimaGateway, as the fake and the emulator count and fault them."""

    SUBMIT_ORDERS = "submit_orders"
    ORDER_STATUS = "order_status"
    DESPATCH_DETAILS = "despatch_details"
    AVAILABLE_TO_SELL = "available_to_sell"
    CATALOGUE_AVAILABLE_TO_SELL = "catalogue_available_to_sell"
    FIND_CUSTOMER = "find_customer"
    CREATE_CUSTOMER = "create_customer"
    LIST_DEPOTS = "list_depots"
    POST_JOURNAL = "post_journal"
    CANCEL_ORDER = "cancel_order"
    RECORD_RETURN = "record_return"

    @property
    def is_write(self) -> bool:
        """True for requests that change Prima's state."""
        return self in _WRITES


_WRITES = frozenset(
    {
        PrimaRequestKind.SUBMIT_ORDERS,
        PrimaRequestKind.CREATE_CUSTOMER,
        PrimaRequestKind.POST_JOURNAL,
        PrimaRequestKind.CANCEL_ORDER,
        PrimaRequestKind.RECORD_RETURN,
    }
)


@frozen(kw_only=True)
class PrimaRequestRecord:
    """One request as the simulated Prima received it.

    ``keys`` are the business keys it carried (order numbers, batch id, SKUs, account code), never
    personal data. ``applied`` says whether it changed or read Prima's state; ``fault`` names the
    injected fault, if any (both together show "applied, but the reply was lost").
    """

    sequence: int
    kind: PrimaRequestKind
    keys: tuple[str, ...] = ()
    applied: bool = True
    fault: str = ""


class RequestLog:
    """Every request a simulated Prima received, in arrival order (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[PrimaRequestRecord] = []

    def record(
        self, kind: PrimaRequestKind, keys: Sequence[str], *, applied: bool, fault: str
    ) -> PrimaRequestRecord:
        with self._lock:
            record = PrimaRequestRecord(
                sequence=len(self._records) + 1,
                kind=kind,
                keys=tuple(keys),
                applied=applied,
                fault=fault,
            )
            self._records.append(record)
            return record

    def records(self, kind: PrimaRequestKind | None = None) -> list[PrimaRequestRecord]:
        with self._lock:
            return [r for r in self._records if kind is None or r.kind is kind]

    def submission_count(self, order_number: str) -> int:
        with self._lock:
            return sum(
                record.keys.count(order_number)
                for record in self._records
                if record.kind is PrimaRequestKind.SUBMIT_ORDERS and record.applied
            )

    def submission_counts(self) -> Counter[str]:
        with self._lock:
            return Counter(
                number
                for record in self._records
                if record.kind is PrimaRequestKind.SUBMIT_ORDERS and record.applied
                for number in record.keys
            )
