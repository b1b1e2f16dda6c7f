"""The SOAP envelope around omlink's request and reply strings, both directions.

Publicly documented: one operation, ``wsomhandler(request)`` (``comwsomhandler(company, request)``
on multi-company installations), in namespace ``urn:omlink``. The parameter element names come from
each installation's WSDL; the defaults below are the library's guess and are configuration.
Unwrapping a reply is lenient about them: the reply string is the text of the operation response's
first child element that has text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape as xml_escape

from attrs import frozen

from ...errors import (
    CtPrimaSyncError,
    PayloadError,
    PrimaProtocolError,
    PrimaSoapMismatchError,
    PrimaUnavailableError,
)
from ._tree import Encoding, escape_text, local_name, parse_document, serialize

__all__ = ["SoapCall", "SoapEnvelope", "SoapNames"]

SOAP_11_NAMESPACE = "http://schemas.xmlsoap.org/soap/envelope/"
#: Stands for the request string while the envelope's text around it is made (ElementTree
#: writes it as it is; should a name or company id hold it too, the envelope is written whole).
_PLACEHOLDER = "\x00omlink-request\x00"


def _namespace_prefixes() -> dict[str, str] | None:
    """ElementTree's registered namespace prefixes (``register_namespace`` changes them and
    thereby its text); None where ElementTree keeps them elsewhere."""
    prefixes = getattr(ET, "_namespace_map", None)
    return prefixes if isinstance(prefixes, dict) else None


@frozen(kw_only=True)
class SoapNames:
    """Namespace and element names of the SOAP layer (check them against the WSDL)."""

    envelope_namespace: str = SOAP_11_NAMESPACE
    service_namespace: str = "urn:omlink"
    operation: str = "wsomhandler"
    company_operation: str = "comwsomhandler"
    request_parameter: str = "XMLRequest"
    company_parameter: str = "CompanyID"
    reply_parameter: str = "XMLReply"
    response_suffix: str = "Response"
    qualified_parameters: bool = True
    """Parameter elements in the service namespace (document/literal); False leaves them
    unqualified, as RPC/literal WSDLs have them."""
    company_parameter_first: bool = True
    """``comwsomhandler`` takes the company before the request string (the WSDL's order)."""
    soap_action: str = ""
    """The ``SOAPAction`` of ``operation`` (the WSDL's ``soapAction``; OpenEdge leaves it empty)."""
    company_soap_action: str = ""
    """The ``SOAPAction`` of ``company_operation``."""


@frozen(kw_only=True)
class SoapCall:
    """A request as the server side sees it: the operation, the company (if any), the string."""

    operation: str
    request: str
    company_id: str | None = None


class SoapEnvelope:
    """Wraps and unwraps omlink strings in SOAP 1.1 envelopes."""

    def __init__(
        self, names: SoapNames | None = None, encoding: Encoding = Encoding.ISO_8859_1
    ) -> None:
        self.names = names or SoapNames()
        self.encoding = Encoding(encoding)
        # By company id: ElementTree's prefixes when made, and the text around the request.
        self._frames: dict[str | None, tuple[dict[str, str], tuple[str, str] | None]] = {}

    def _qname(self, namespace: str, name: str) -> str:
        return f"{{{namespace}}}{name}" if namespace else name

    def _envelope(self) -> tuple[ET.Element, ET.Element]:
        ns = self.names.envelope_namespace
        envelope = ET.Element(self._qname(ns, "Envelope"))
        body = ET.SubElement(envelope, self._qname(ns, "Body"))
        return envelope, body

    def _to_bytes(self, envelope: ET.Element) -> bytes:
        return serialize(envelope, self.encoding).encode(self.encoding.value)

    @property
    def content_type(self) -> str:
        """The HTTP Content-Type of an envelope."""
        return f"text/xml; charset={self.encoding.value}"

    # -- client side ----------------------------------------------------------------------------

    def wrap_request(self, request: str, company_id: str | None = None) -> bytes:
        """The HTTP body carrying ``request`` (``comwsomhandler`` when a company id is given).

        The envelope's text around the request string is ElementTree's, made once per company
        id (and again whenever ElementTree's namespace prefixes change); each request string is
        escaped into it as ElementTree escapes text, so the body is ElementTree's, byte for byte.
        """
        frame = self._frame(company_id) if request and isinstance(request, str) else None
        if frame is None:
            return self._to_bytes(self._request_envelope(request, company_id))
        before, after = frame
        text = f'<?xml version="1.0" encoding="{self.encoding.value}"?>{before}'
        text += escape_text(request) + after
        if self.encoding is Encoding.ISO_8859_1:
            return text.encode("iso-8859-1", "xmlcharrefreplace")
        return text.encode(self.encoding.value)

    def _request_envelope(self, request: str, company_id: str | None) -> ET.Element:
        names = self.names
        envelope, body = self._envelope()
        operation = names.company_operation if company_id is not None else names.operation
        call = ET.SubElement(body, self._qname(names.service_namespace, operation))
        param_ns = names.service_namespace if names.qualified_parameters else ""
        params = [(names.request_parameter, request)]
        if company_id is not None:
            company = (names.company_parameter, company_id)
            params.insert(0 if names.company_parameter_first else 1, company)
        for name, text in params:
            ET.SubElement(call, self._qname(param_ns, name)).text = text
        return envelope

    def _frame(self, company_id: str | None) -> tuple[str, str] | None:
        """ElementTree's text of the request envelope before and after the request string;
        None when it cannot be cut so (the envelope is then written whole)."""
        namespaces = _namespace_prefixes()
        if namespaces is None:
            return None
        cached = self._frames.get(company_id)
        if cached is not None and cached[0] == namespaces:
            return cached[1]
        try:
            body = ET.tostring(self._request_envelope(_PLACEHOLDER, company_id), encoding="unicode")
        except Exception:  # the whole envelope raises it again, as it always did
            return None
        before, found, after = body.partition(_PLACEHOLDER)
        frame = (before, after) if found and _PLACEHOLDER not in after else None
        self._frames[company_id] = (dict(namespaces), frame)
        return frame

    def soap_action(self, company_id: str | None = None) -> str:
        """The SOAPAction header value, quoted (empty by default, as OpenEdge adapters accept)."""
        names = self.names
        action = names.company_soap_action if company_id is not None else names.soap_action
        return '"' + action.replace('"', "") + '"'

    def unwrap_reply(self, body: bytes | str, request_type: str) -> str:
        """The reply string inside a SOAP response.

        A SOAP fault raises: ``Client`` faults as :class:`PrimaSoapMismatchError` (the SOAP layer
        refused the envelope, so nothing was applied, and the SOAP settings do not fit the
        installation), others as :class:`PrimaUnavailableError` that may have been applied.
        """
        root = parse_document(body, PrimaProtocolError)
        soap_body = _find_child(root, "body") if local_name(root.tag) == "envelope" else None
        if soap_body is None:
            raise PrimaProtocolError("the reply is not a SOAP envelope with a Body")
        response = next(iter(soap_body), None)
        if response is None:
            raise PrimaProtocolError("the SOAP Body is empty")
        if local_name(response.tag) == "fault":
            raise _fault_error(response, request_type)
        for child in response:
            if child.text and child.text.strip():
                return child.text
        raise PrimaProtocolError("the SOAP response carries no reply string")

    # -- server side ----------------------------------------------------------------------------

    def unwrap_request(self, body: bytes | str) -> SoapCall:
        """The operation, company id and request string of a SOAP request (for the emulator)."""
        root = parse_document(body, PayloadError)
        soap_body = _find_child(root, "body") if local_name(root.tag) == "envelope" else None
        call = next(iter(soap_body), None) if soap_body is not None else None
        if call is None:
            raise PayloadError("not a SOAP envelope with an operation in its Body")
        operation = call.tag.rpartition("}")[2] if isinstance(call.tag, str) else ""
        known = {self.names.operation.lower(), self.names.company_operation.lower()}
        if operation.lower() not in known:
            raise PayloadError(f"unknown SOAP operation {operation!r}")
        company = _find_child(call, self.names.company_parameter.lower())
        request = _find_child(call, self.names.request_parameter.lower())
        if request is None:
            request = next((c for c in call if c is not company), None)
        if request is None or not (request.text or "").strip():
            raise PayloadError("the SOAP call carries no request string")
        is_company = operation.lower() == self.names.company_operation.lower()
        return SoapCall(
            operation=operation,
            request=request.text or "",
            company_id=(company.text or "") if is_company and company is not None else None,
        )

    def wrap_reply(self, reply: str, operation: str | None = None) -> bytes:
        """The HTTP body carrying ``reply`` as the operation's response."""
        names = self.names
        envelope, body = self._envelope()
        response = ET.SubElement(
            body,
            self._qname(
                names.service_namespace, (operation or names.operation) + names.response_suffix
            ),
        )
        param_ns = names.service_namespace if names.qualified_parameters else ""
        param = ET.SubElement(response, self._qname(param_ns, names.reply_parameter))
        param.text = reply
        return self._to_bytes(envelope)

    def wrap_fault(self, fault_code: str, fault_string: str) -> bytes:
        """A SOAP 1.1 fault (``fault_code`` ``Client`` or ``Server``)."""
        ns = xml_escape(self.names.envelope_namespace, {'"': "&quot;"})
        text = (
            f'<?xml version="1.0" encoding="{self.encoding.value}"?>'
            f'<soap:Envelope xmlns:soap="{ns}"><soap:Body><soap:Fault>'
            f"<faultcode>soap:{xml_escape(fault_code)}</faultcode>"
            f"<faultstring>{xml_escape(fault_string)}</faultstring>"
            "</soap:Fault></soap:Body></soap:Envelope>"
        )
        return text.encode(self.encoding.value, errors="xmlcharrefreplace")


def _find_child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if local_name(child.tag) == name:
            return child
    return None


def _fault_error(fault: ET.Element, request_type: str) -> CtPrimaSyncError:
    code_el = _find_child(fault, "faultcode")
    text_el = _find_child(fault, "faultstring")
    code = (code_el.text or "").rpartition(":")[2].strip().lower() if code_el is not None else ""
    text = (text_el.text or "").strip() if text_el is not None else ""
    if code in {"client", "sender"}:
        # omlink carries every business answer inside the reply string: a Client fault is the SOAP
        # layer refusing the envelope itself (names, namespace, style), never a business refusal.
        return PrimaSoapMismatchError(text, request_type=request_type)
    return PrimaUnavailableError(
        f"Prima answered {request_type or 'the request'} with a SOAP {code or 'unknown'} fault",
        may_have_been_applied=True,
    )
