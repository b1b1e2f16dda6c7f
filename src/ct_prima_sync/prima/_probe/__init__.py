"""First contact with an installation: read its WSDL, ask read-only questions, propose settings.

The pure parts (:func:`read_wsdl`, :func:`propose_soap_names`, :func:`describe_reply`, the report)
take plain strings, so a test or an iPaaS step can call them without a network; :func:`probe_prima`
is the thin shell that fetches and sends.
"""

from ._names import SoapProposal, propose_soap_names
from ._reply import ReplyShape, describe_reply, unknown_order_marker
from ._report import ProbeReport, build_report
from ._run import MAX_PRODUCTS, MAX_SKUS, probe_prima, wsdl_url_for
from ._steps import ProbeKind, ProbeStep, WireAnswer, read_step
from ._wsdl import WsdlDescription, WsdlMessage, WsdlOperation, WsdlParameter, read_wsdl

__all__ = [
    "MAX_PRODUCTS",
    "MAX_SKUS",
    "ProbeKind",
    "ProbeReport",
    "ProbeStep",
    "ReplyShape",
    "SoapProposal",
    "WireAnswer",
    "WsdlDescription",
    "WsdlMessage",
    "WsdlOperation",
    "WsdlParameter",
    "build_report",
    "describe_reply",
    "probe_prima",
    "propose_soap_names",
    "read_step",
    "read_wsdl",
    "unknown_order_marker",
    "wsdl_url_for",
]
