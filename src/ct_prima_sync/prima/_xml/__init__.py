"""The omlink codec: XML request and reply strings and their SOAP envelope, both directions.

The client uses the request builders and reply readers; the emulator in
``ct_prima_sync.testing`` uses the request readers and reply builders, so both sides agree by
construction.
"""

from ._base import ReplyDialect
from ._codec import OmlinkCodec, parse_order_status
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
    RequestTypeNames,
    SubmitOrdersRequest,
)
from ._soap import SoapCall, SoapEnvelope, SoapNames
from ._tree import Encoding

__all__ = [
    "AtsRangeRequest",
    "AtsSkusRequest",
    "CancelOrderRequest",
    "CustomerCreateRequest",
    "CustomerFindRequest",
    "DepotListRequest",
    "DespatchDetailsRequest",
    "Encoding",
    "OmlinkCodec",
    "OmlinkRequest",
    "OmlinkSchema",
    "OrderReturnRequest",
    "OrderStatusRequest",
    "PostJournalRequest",
    "ReplyDialect",
    "RequestTypeNames",
    "SoapCall",
    "SoapEnvelope",
    "SoapNames",
    "SubmitOrdersRequest",
    "parse_order_status",
]
