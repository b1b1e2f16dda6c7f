"""A simulated Prima for tests: one world, served in memory (FakePrima) or over omlink HTTP."""

from ._catalogue import PrimaCatalogue, seed_catalogue
from ._emulator import PrimaEmulator
from ._factory import make_sales_order
from ._fake import FakePrima
from ._faults import FiredPrimaFault, PrimaFault, PrimaFaultKind, PrimaFaultPlan
from ._orders import PrimaOrder
from ._rate_log import RequestRateLog
from ._requests import PrimaRequestKind, PrimaRequestRecord
from ._world import PrimaWorld
from ._wsdl import WsdlStyle, wsdl_for

__all__ = [
    "FakePrima",
    "FiredPrimaFault",
    "PrimaCatalogue",
    "PrimaEmulator",
    "PrimaFault",
    "PrimaFaultKind",
    "PrimaFaultPlan",
    "PrimaOrder",
    "PrimaRequestKind",
    "PrimaRequestRecord",
    "PrimaWorld",
    "RequestRateLog",
    "WsdlStyle",
    "make_sales_order",
    "seed_catalogue",
    "wsdl_for",
]
