"""Prima: the models, the PrimaGateway protocol the engine depends on, the omlink client, and the
probe that reads an installation's WSDL and proposes its settings (first contact).

The models load at once; the client, the codec and the rest load on first use, so that importing
the pure mapping (which needs only the models) never loads httpx.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ._models import (
    CustomerDetails,
    Depot,
    Despatch,
    DespatchDetails,
    DespatchLine,
    JournalBatch,
    JournalLine,
    JournalPostingResult,
    OrderStatus,
    OrderStatusReport,
    PostalAddress,
    PrimaCustomer,
    SalesOrder,
    SalesOrderCharge,
    SalesOrderLine,
    SalesOrderPayment,
    SalesOrderTotals,
    SkuCode,
    StockLevel,
    SubmitResult,
    TaxTotal,
)

if TYPE_CHECKING:
    from ._client import OmlinkClient
    from ._config import OmlinkConfig, RetryPolicy
    from ._flow import ConcurrencyLimiter, FlowControl, ManualClock, RateLimiter
    from ._gateway import PrimaGateway
    from ._journal_csv import JOURNAL_COLUMNS, JournalCsvFormat, JournalCsvSink, write_journal_csv
    from ._order_changes import PrimaOrderChanges, ReturnLine
    from ._probe import (
        ProbeKind,
        ProbeReport,
        ProbeStep,
        ReplyShape,
        SoapProposal,
        WsdlDescription,
        WsdlMessage,
        WsdlOperation,
        WsdlParameter,
        describe_reply,
        probe_prima,
        propose_soap_names,
        read_wsdl,
    )
    from ._xml import Encoding, OmlinkCodec, OmlinkSchema, RequestTypeNames, SoapNames

_LAZY = {
    "OmlinkClient": "._client",
    "OmlinkConfig": "._config",
    "RetryPolicy": "._config",
    "ConcurrencyLimiter": "._flow",
    "FlowControl": "._flow",
    "ManualClock": "._flow",
    "RateLimiter": "._flow",
    "PrimaGateway": "._gateway",
    "JOURNAL_COLUMNS": "._journal_csv",
    "JournalCsvFormat": "._journal_csv",
    "JournalCsvSink": "._journal_csv",
    "write_journal_csv": "._journal_csv",
    "Encoding": "._xml",
    "OmlinkCodec": "._xml",
    "OmlinkSchema": "._xml",
    "RequestTypeNames": "._xml",
    "SoapNames": "._xml",
    "PrimaOrderChanges": "._order_changes",
    "ReturnLine": "._order_changes",
    "ProbeKind": "._probe",
    "ProbeReport": "._probe",
    "ProbeStep": "._probe",
    "ReplyShape": "._probe",
    "SoapProposal": "._probe",
    "WsdlDescription": "._probe",
    "WsdlMessage": "._probe",
    "WsdlOperation": "._probe",
    "WsdlParameter": "._probe",
    "describe_reply": "._probe",
    "probe_prima": "._probe",
    "propose_soap_names": "._probe",
    "read_wsdl": "._probe",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "JOURNAL_COLUMNS",
    "ConcurrencyLimiter",
    "CustomerDetails",
    "Depot",
    "Despatch",
    "DespatchDetails",
    "DespatchLine",
    "Encoding",
    "FlowControl",
    "JournalBatch",
    "JournalCsvFormat",
    "JournalCsvSink",
    "JournalLine",
    "JournalPostingResult",
    "ManualClock",
    "OmlinkClient",
    "OmlinkCodec",
    "OmlinkConfig",
    "OmlinkSchema",
    "OrderStatus",
    "OrderStatusReport",
    "PostalAddress",
    "PrimaCustomer",
    "PrimaGateway",
    "PrimaOrderChanges",
    "ProbeKind",
    "ProbeReport",
    "ProbeStep",
    "RateLimiter",
    "ReplyShape",
    "RequestTypeNames",
    "RetryPolicy",
    "ReturnLine",
    "SalesOrder",
    "SalesOrderCharge",
    "SalesOrderLine",
    "SalesOrderPayment",
    "SalesOrderTotals",
    "SkuCode",
    "SoapNames",
    "SoapProposal",
    "StockLevel",
    "SubmitResult",
    "TaxTotal",
    "WsdlDescription",
    "WsdlMessage",
    "WsdlOperation",
    "WsdlParameter",
    "describe_reply",
    "probe_prima",
    "propose_soap_names",
    "read_wsdl",
    "write_journal_csv",
]
