"""Test support for hosts of ct-prima-sync: stateful fakes of commercetools and Prima.

``FakeCommercetools`` is an in-memory commercetools project speaking the HTTP API (mount it with
``fake.transport()`` or serve it with ``fake.serve()``); see docs/testing.md.
``FakePrima`` (the PrimaGateway in memory) and ``PrimaEmulator`` (omlink over HTTP) share one
``PrimaWorld`` and one fault plan (``PrimaFaultPlan``); see docs/testing.md, "Prima".
The pytest plugin (:mod:`ct_prima_sync.testing.pytest_plugin`, loaded through the ``pytest11``
entry point) wires them into fixtures, ``sync_engine`` among them; see docs/testing.md, "The
pytest plugin".
"""

from ._ct_fake import (
    CommercetoolsFault,
    CommercetoolsFaultKind,
    CommercetoolsFaultScript,
    CommercetoolsRequestRecord,
    FakeCommercetools,
    FiredCommercetoolsFault,
)
from ._prima import (
    FakePrima,
    FiredPrimaFault,
    PrimaCatalogue,
    PrimaEmulator,
    PrimaFault,
    PrimaFaultKind,
    PrimaFaultPlan,
    PrimaOrder,
    PrimaRequestKind,
    PrimaRequestRecord,
    PrimaWorld,
    RequestRateLog,
    WsdlStyle,
    make_sales_order,
    seed_catalogue,
    wsdl_for,
)

__all__ = [
    "CommercetoolsFault",
    "CommercetoolsFaultKind",
    "CommercetoolsFaultScript",
    "CommercetoolsRequestRecord",
    "FakeCommercetools",
    "FakePrima",
    "FiredCommercetoolsFault",
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
