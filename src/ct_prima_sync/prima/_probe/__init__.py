"""First contact with an installation: read its WSDL and propose the SOAP names it asks for.

The pure parts take plain strings, so a test or an iPaaS step can call them without a network.
"""

from ._names import SoapProposal, propose_soap_names
from ._wsdl import WsdlDescription, WsdlMessage, WsdlOperation, WsdlParameter, read_wsdl

__all__ = [
    "SoapProposal",
    "WsdlDescription",
    "WsdlMessage",
    "WsdlOperation",
    "WsdlParameter",
    "propose_soap_names",
    "read_wsdl",
]
