"""What every part of the omlink codec shares: schema, names, element helpers, error guard."""

from __future__ import annotations

import enum
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import TypeVar

from ...errors import CtPrimaSyncError, PayloadError, PrimaProtocolError, PrimaRejectedError
from .._models import OrderStatus
from ._messages import (
    AtsRangeRequest,
    AtsSkusRequest,
    CancelOrderRequest,
    CustomerCreateRequest,
    CustomerFindRequest,
    DepotListRequest,
    DespatchDetailsRequest,
    OmlinkRequest,
    OmlinkSchema,
    OrderReturnRequest,
    OrderStatusRequest,
    PostJournalRequest,
    SubmitOrdersRequest,
)
from ._tree import Encoding, Names, new_element
from ._tree import serialize as _serialize

__all__ = [
    "REPLY_ROOTS",
    "SUBMIT_DUPLICATE",
    "SUBMIT_ERROR",
    "SUBMIT_OK",
    "CodecBase",
    "ReplyDialect",
    "guard",
    "parse_order_status",
]

_T = TypeVar("_T")
REPLY_ROOTS = ("Result", "Reply", "Response", "Request")
SUBMIT_OK = "OK"
SUBMIT_DUPLICATE = "DUPLICATE"
SUBMIT_ERROR = "ERROR"


def parse_order_status(raw: str) -> OrderStatus:
    """Prima's status text as an :class:`OrderStatus` (``OTHER`` for text the library lacks)."""
    key = raw.replace(" ", "").replace("_", "").replace("-", "").lower()
    for status in OrderStatus:
        if status in (OrderStatus.OTHER, OrderStatus.UNKNOWN_TO_PRIMA):
            continue
        if status.value.replace(" ", "").lower() == key:
            return status
    return OrderStatus.OTHER


class ReplyDialect(enum.StrEnum):
    """Which reply shapes the server half of the codec writes (the reader reads both).

    ``RESULT`` is what a real installation answers (root ``Result`` with ``Company``, the
    outcome of each order on its ``Data`` block, ``(E:nnn)`` texts in ``Error`` attributes, an
    order number already there refused with ``E:21``); ``LEGACY`` the older documented shape
    (root ``Reply``, ``Data@Result`` of ``OK``/``DUPLICATE``/``ERROR``, ``RequestError`` text).
    """

    RESULT = "result"
    LEGACY = "legacy"


class CodecBase:
    """The schema, encoding and element helpers every codec part uses."""

    def __init__(
        self,
        schema: OmlinkSchema | None = None,
        encoding: Encoding = Encoding.ISO_8859_1,
        *,
        dialect: ReplyDialect = ReplyDialect.RESULT,
    ) -> None:
        self.schema = schema or OmlinkSchema()
        self.encoding = Encoding(encoding)
        self.dialect = ReplyDialect(dialect)
        self._names = Names(self.schema.attribute_names)

    # -- shared helpers -------------------------------------------------------------------------

    def _root(self, tag: str, attrs: dict[str, str | None]) -> ET.Element:
        return new_element(self._names, tag, attrs)

    def _el(self, parent: ET.Element, tag: str, attrs: dict[str, str | None]) -> ET.Element:
        return new_element(self._names, tag, attrs, parent)

    def _serialize(self, root: ET.Element) -> str:
        return _serialize(root, self.encoding)

    def request_type_of(self, request: OmlinkRequest) -> str:
        """The ``RequestType`` name this installation uses for ``request``."""
        names = self.schema.request_types
        match request:
            case SubmitOrdersRequest():
                return names.submit_orders
            case OrderStatusRequest():
                return names.order_status
            case AtsRangeRequest():
                return names.ats_range
            case AtsSkusRequest():
                return names.ats_skus
            case CustomerFindRequest():
                return names.customer_find
            case CustomerCreateRequest():
                return names.customer_create
            case DespatchDetailsRequest():
                return names.despatch_details
            case DepotListRequest():
                return names.depot_list
            case PostJournalRequest():
                return names.post_journal
            case CancelOrderRequest():
                return names.cancel_order
            case OrderReturnRequest():
                return names.order_return


def guard(error: type[CtPrimaSyncError], action: Callable[[], _T]) -> _T:
    """Run a decoder; any stray failure (a model refusing a value) becomes ``error``."""
    try:
        return action()
    except (PrimaRejectedError, PrimaProtocolError, PayloadError) as exc:
        if isinstance(exc, (error, PrimaRejectedError)):
            raise
        raise error(str(exc)) from None
    except (ValueError, TypeError, LookupError, ArithmeticError) as exc:
        raise error(f"unexpected value in the XML ({type(exc).__name__})") from None
