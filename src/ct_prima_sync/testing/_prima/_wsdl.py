"""The emulated omlink service's WSDL, in each style the probe understands, and the strict reading
of a SOAP call that such a WSDL promises.

Three styles (:class:`WsdlStyle`): document/literal with qualified parameters, document/literal
with unqualified parameters (``elementFormDefault="unqualified"``, the XML Schema default), and
RPC/literal (message parts, unqualified by definition). Names come from :class:`SoapNames`, so a
test can publish unusual ones and prove that the probe reads them and the client then speaks them.

A real SOAP stack checks a call against its WSDL: :func:`read_call` does the same, refusing an
unknown operation, a parameter by another name, in another namespace or in another order with a
message that names what it expected (the emulator answers it as a SOAP Client fault).
"""

from __future__ import annotations

import enum
import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr

from ...errors import PayloadError
from ...prima._xml import SoapCall, SoapNames
from ...prima._xml._tree import local_name, parse_document

__all__ = ["WsdlStyle", "minimal_wsdl", "read_call", "wsdl_for"]


class WsdlStyle(enum.StrEnum):
    """How the WSDL binds the operations, and so how parameters travel."""

    DOCUMENT_QUALIFIED = "document-qualified"
    """document/literal, parameter elements in the service namespace."""
    DOCUMENT_UNQUALIFIED = "document-unqualified"
    """document/literal, parameter elements in no namespace."""
    RPC_LITERAL = "rpc-literal"
    """rpc/literal: parts named after the parameters, unqualified."""

    @property
    def qualified(self) -> bool:
        """True when parameter elements are in the service namespace."""
        return self is WsdlStyle.DOCUMENT_QUALIFIED

    @classmethod
    def of(cls, names: SoapNames) -> WsdlStyle:
        """The document/literal style that matches ``names.qualified_parameters``."""
        return cls.DOCUMENT_QUALIFIED if names.qualified_parameters else cls.DOCUMENT_UNQUALIFIED


def _parameters(names: SoapNames, *, company: bool) -> list[str]:
    """The input parameters of one operation, in the WSDL's order."""
    if not company:
        return [names.request_parameter]
    if names.company_parameter_first:
        return [names.company_parameter, names.request_parameter]
    return [names.request_parameter, names.company_parameter]


def _document_types(names: SoapNames, style: WsdlStyle) -> str:
    form = "qualified" if style.qualified else "unqualified"
    suffix = names.response_suffix

    def element(name: str, parameters: list[str]) -> str:
        fields = "".join(f'<xsd:element name="{p}" type="xsd:string"/>' for p in parameters)
        return (
            f'  <xsd:element name="{name}"><xsd:complexType><xsd:sequence>{fields}'
            "</xsd:sequence></xsd:complexType></xsd:element>\n"
        )

    op, cop, reply = names.operation, names.company_operation, [names.reply_parameter]
    return (
        f" <types><xsd:schema targetNamespace={quoteattr(names.service_namespace)}"
        f' elementFormDefault="{form}">\n'
        + element(op, _parameters(names, company=False))
        + element(op + suffix, reply)
        + element(cop, _parameters(names, company=True))
        + element(cop + suffix, reply)
        + " </xsd:schema></types>\n"
    )


def _messages(names: SoapNames, style: WsdlStyle) -> str:
    suffix = names.response_suffix
    text = ""
    for op, company in ((names.operation, False), (names.company_operation, True)):
        if style is WsdlStyle.RPC_LITERAL:
            parts = "".join(
                f'<part name="{p}" type="xsd:string"/>' for p in _parameters(names, company=company)
            )
            reply = f'<part name="{names.reply_parameter}" type="xsd:string"/>'
        else:
            parts = f'<part name="parameters" element="tns:{op}"/>'
            reply = f'<part name="parameters" element="tns:{op}{suffix}"/>'
        text += f' <message name="{op}">{parts}</message>\n'
        text += f' <message name="{op}{suffix}">{reply}</message>\n'
    return text


def wsdl_for(names: SoapNames, location: str, style: WsdlStyle | None = None) -> bytes:
    """The WSDL of a service speaking ``names`` in ``style`` at ``location``."""
    style = style or WsdlStyle.of(names)
    tns = quoteattr(names.service_namespace)
    suffix = names.response_suffix
    rpc = style is WsdlStyle.RPC_LITERAL
    body = f'<soap:body use="literal" namespace={tns}/>' if rpc else '<soap:body use="literal"/>'
    port_ops = binding_ops = ""
    for op, action in (
        (names.operation, names.soap_action),
        (names.company_operation, names.company_soap_action),
    ):
        port_ops += (
            f'  <operation name="{op}"><input message="tns:{op}"/>'
            f'<output message="tns:{op}{suffix}"/></operation>\n'
        )
        binding_ops += (
            f'  <operation name="{op}"><soap:operation soapAction={quoteattr(action)}/>'
            f"<input>{body}</input><output>{body}</output></operation>\n"
        )
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<definitions name="omlink" targetNamespace={tns} xmlns:tns={tns}\n'
        '  xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"\n'
        '  xmlns:xsd="http://www.w3.org/2001/XMLSchema">\n'
        + ("" if rpc else _document_types(names, style))
        + _messages(names, style)
        + ' <portType name="omlinkObj">\n'
        + port_ops
        + " </portType>\n"
        + ' <binding name="omlinkObj" type="tns:omlinkObj">\n'
        + f'  <soap:binding style="{"rpc" if rpc else "document"}"'
        + ' transport="http://schemas.xmlsoap.org/soap/http"/>\n'
        + binding_ops
        + " </binding>\n"
        + ' <service name="omlinkService"><port name="omlinkObj" binding="tns:omlinkObj">\n'
        + f"  <soap:address location={quoteattr(location)}/></port></service>\n"
        + "</definitions>\n"
    )
    return text.encode("utf-8")


def minimal_wsdl(names: SoapNames, location: str) -> bytes:
    """The document/literal WSDL matching ``names`` (see :func:`wsdl_for` for the other styles)."""
    return wsdl_for(names, location)


def _label(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}" if namespace else f"{name} (unqualified)"


def _tag_label(tag: object) -> str:
    text = tag if isinstance(tag, str) else "?"
    if text.startswith("{"):
        return text
    return f"{text} (unqualified)"


def read_call(body: bytes | str, names: SoapNames, style: WsdlStyle | None = None) -> SoapCall:
    """The call in a SOAP request body, checked as strictly as the WSDL of ``names`` promises.

    Raises :class:`PayloadError` naming what the WSDL expects and what came instead.
    """
    style = style or WsdlStyle.of(names)
    root = parse_document(body, PayloadError)
    soap_body = None
    if local_name(root.tag) == "envelope":
        soap_body = next((c for c in root if local_name(c.tag) == "body"), None)
    call = next(iter(soap_body), None) if soap_body is not None else None
    if call is None:
        raise PayloadError("not a SOAP envelope with an operation in its Body")
    ns = names.service_namespace
    operations = {
        f"{{{ns}}}{names.operation}": False,
        f"{{{ns}}}{names.company_operation}": True,
    }
    if call.tag not in operations:
        raise PayloadError(
            f"no operation {_tag_label(call.tag)}: this service has "
            f"{_label(ns, names.operation)} and {_label(ns, names.company_operation)}"
        )
    company = operations[str(call.tag)]
    param_ns = ns if style.qualified else ""
    expected = [_label(param_ns, p) for p in _parameters(names, company=company)]
    children: list[ET.Element] = list(call)
    got = [_tag_label(c.tag) for c in children]
    if got != expected:
        raise PayloadError(
            f"{call.tag.rpartition('}')[2]} expects the parameters {', '.join(expected)}; "
            f"got {', '.join(got) or 'none'}"
        )
    params = _parameters(names, company=company)
    values = {p: (c.text or "") for p, c in zip(params, children, strict=True)}
    request = values[names.request_parameter]
    if not request.strip():
        raise PayloadError("the SOAP call carries no request string")
    return SoapCall(
        operation=call.tag.rpartition("}")[2],
        request=request,
        company_id=values[names.company_parameter] if company else None,
    )
