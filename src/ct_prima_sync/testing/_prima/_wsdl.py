"""A minimal WSDL for the emulated omlink service (one document-literal operation pair)."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from ...prima._xml import SoapNames

__all__ = ["minimal_wsdl"]


def minimal_wsdl(names: SoapNames, location: str) -> bytes:
    """The WSDL that ``GET ?wsdl`` (or ``/wsdl?targetURI=urn:omlink``) answers with."""
    tns = quoteattr(names.service_namespace)
    op, cop = names.operation, names.company_operation
    req, rep, company = names.request_parameter, names.reply_parameter, names.company_parameter
    suffix = names.response_suffix
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions name="omlink" targetNamespace={tns} xmlns:tns={tns}
  xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
  xmlns:xsd="http://www.w3.org/2001/XMLSchema">
 <types><xsd:schema targetNamespace={tns} elementFormDefault="qualified">
  <xsd:element name="{op}"><xsd:complexType><xsd:sequence>
   <xsd:element name="{req}" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:element>
  <xsd:element name="{op}{suffix}"><xsd:complexType><xsd:sequence>
   <xsd:element name="{rep}" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:element>
  <xsd:element name="{cop}"><xsd:complexType><xsd:sequence>
   <xsd:element name="{company}" type="xsd:string"/>
   <xsd:element name="{req}" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:element>
  <xsd:element name="{cop}{suffix}"><xsd:complexType><xsd:sequence>
   <xsd:element name="{rep}" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:element>
 </xsd:schema></types>
 <message name="{op}"><part name="parameters" element="tns:{op}"/></message>
 <message name="{op}{suffix}"><part name="parameters" element="tns:{op}{suffix}"/></message>
 <message name="{cop}"><part name="parameters" element="tns:{cop}"/></message>
 <message name="{cop}{suffix}"><part name="parameters" element="tns:{cop}{suffix}"/></message>
 <portType name="omlinkObj">
  <operation name="{op}"><input message="tns:{op}"/><output message="tns:{op}{suffix}"/></operation>
  <operation name="{cop}"><input message="tns:{cop}"/>
   <output message="tns:{cop}{suffix}"/></operation>
 </portType>
 <binding name="omlinkObj" type="tns:omlinkObj">
  <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
  <operation name="{op}"><soap:operation soapAction=""/>
   <input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation>
  <operation name="{cop}"><soap:operation soapAction=""/>
   <input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation>
 </binding>
 <service name="omlinkService"><port name="omlinkObj" binding="tns:omlinkObj">
  <soap:address location={quoteattr(location)}/></port></service>
</definitions>
"""
    return text.encode("utf-8")
