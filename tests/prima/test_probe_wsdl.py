"""Reading an omlink WSDL into SoapNames: pure, plain strings in (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
from attrs import evolve

from ct_prima_sync.errors import PayloadError
from ct_prima_sync.prima import SoapNames
from ct_prima_sync.prima._probe import propose_soap_names, read_wsdl
from ct_prima_sync.testing import WsdlStyle, wsdl_for

DATA = Path(__file__).parents[1] / "data" / "prima"

UNUSUAL = SoapNames(
    service_namespace="urn:prima:live:omlink",
    request_parameter="pcRequestXML",
    company_parameter="piCompanyNo",
    reply_parameter="pcReplyXML",
    response_suffix="Result",
    company_parameter_first=False,
    soap_action="urn:prima#wsomhandler",
    company_soap_action="urn:prima#comwsomhandler",
)


def _unusual(style: WsdlStyle) -> SoapNames:
    names = evolve(UNUSUAL, qualified_parameters=style.qualified)
    if style is WsdlStyle.RPC_LITERAL:  # RPC/literal responses are the operation plus "Response"
        names = evolve(names, response_suffix="Response")
    return names


@pytest.mark.parametrize("style", list(WsdlStyle))
def test_the_names_of_each_emulator_style_are_read_back_exactly(style: WsdlStyle) -> None:
    names = _unusual(style)
    wsdl = read_wsdl(wsdl_for(names, "http://prima.test/live/live", style))
    proposal = propose_soap_names(wsdl)
    assert proposal.names == names
    assert proposal.notes == ()
    assert proposal.style == (
        "rpc/literal" if style is WsdlStyle.RPC_LITERAL else "document/literal"
    )
    assert wsdl.location == "http://prima.test/live/live"


def test_the_default_names_are_what_the_default_emulator_publishes() -> None:
    proposal = propose_soap_names(read_wsdl(wsdl_for(SoapNames(), "http://prima.test/x/x")))
    assert proposal.names == SoapNames()


def test_an_openedge_shaped_wsdl_gives_the_wrapper_elements_and_the_schema_namespace() -> None:
    wsdl = read_wsdl((DATA / "openedge_style.wsdl").read_bytes())
    proposal = propose_soap_names(wsdl)
    assert proposal.names == SoapNames(
        service_namespace="urn:omlink:omlink",  # the schema's, not the WSDL's targetNamespace
        operation="wsomhandlerIn",  # the element that travels, not the operation's name
        company_operation="comwsomhandlerIn",
        request_parameter="pcXMLIn",
        company_parameter="pcCompanyCode",
        reply_parameter="pcXMLOut",  # not the procedure's "result"
        response_suffix="Response",
        qualified_parameters=False,
        company_parameter_first=True,
        soap_action="urn:omlink#wsomhandler",
    )
    assert wsdl.location == "http://prima-internal:8080/live/live"
    assert wsdl.operation("WSOMHANDLER") is not None
    assert any("result, pcXMLOut" in note for note in proposal.notes)


def test_text_that_was_decoded_already_is_read_whatever_encoding_it_declares() -> None:
    text = (DATA / "openedge_style.wsdl").read_bytes().decode("iso-8859-1")
    assert "Schröder" in text
    assert read_wsdl(text).service == "omlinkService"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<html><head><title>Login</title></head><body/></html>", "root element is <html>"),
        ('<x:definitions xmlns:x="urn:other"/>', "<definitions> in namespace urn:other"),
        ("<wsdl>", "not well-formed"),
        ("", "not well-formed"),
        (
            '<!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>',
            "hostile XML refused",
        ),
    ],
)
def test_what_is_not_a_wsdl_is_refused_with_what_it_is(text: str, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        read_wsdl(text)


def _wsdl(
    body: str, *, binding: str = "soap", style: str = "document", use: str = "literal"
) -> str:
    soap_ns = {
        "soap": "http://schemas.xmlsoap.org/wsdl/soap/",
        "soap12": "http://schemas.xmlsoap.org/wsdl/soap12/",
    }[binding]
    return f"""<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:s="{soap_ns}"
      xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="urn:t" targetNamespace="urn:t">
     {body}
     <message name="in"><part name="pcIn" type="xsd:string"/></message>
     <message name="out"><part name="pcOut" type="xsd:string"/></message>
     <portType name="P"><operation name="wsomhandler"><input message="tns:in"/>
       <output message="tns:out"/></operation></portType>
     <binding name="B" type="tns:P"><s:binding style="{style}"/>
      <operation name="wsomhandler"><s:operation soapAction=""/>
       <input><s:body use="{use}" namespace="urn:t"/></input>
       <output><s:body use="{use}" namespace="urn:t"/></output></operation></binding>
     <service name="S"><port name="Q" binding="tns:B"><s:address location="http://h/x"/></port>
     </service></definitions>"""


def test_rpc_encoded_is_read_with_a_note_that_the_library_sends_literal() -> None:
    proposal = propose_soap_names(read_wsdl(_wsdl("", style="rpc", use="encoded")))
    assert proposal.names is not None
    assert proposal.names.request_parameter == "pcIn"
    assert proposal.style == "rpc/encoded"
    assert any("use=encoded" in note for note in proposal.notes)
    assert any("no comwsomhandler" in note for note in proposal.notes)


def test_a_soap_12_only_binding_is_noted() -> None:
    wsdl = read_wsdl(_wsdl("", binding="soap12", style="rpc"))
    assert wsdl.soap_version == "1.2"
    assert any("SOAP 1.2 only" in note for note in wsdl.notes)


def test_what_lies_outside_the_document_is_noted_not_fetched() -> None:
    body = (
        '<import namespace="urn:x" location="http://elsewhere/more.wsdl"/>'
        '<types><xsd:schema targetNamespace="urn:t">'
        '<xsd:import schemaLocation="http://elsewhere/types.xsd"/></xsd:schema></types>'
    )
    notes = read_wsdl(_wsdl(body, style="rpc")).notes
    assert any("http://elsewhere/more.wsdl" in note for note in notes)
    assert any("http://elsewhere/types.xsd" in note for note in notes)


def test_renamed_omlink_operations_are_found_with_a_note_to_confirm_them() -> None:
    names = evolve(UNUSUAL, operation="OmHandler", company_operation="OmHandlerCompany")
    proposal = propose_soap_names(read_wsdl(wsdl_for(names, "http://prima.test/x/x")))
    assert proposal.names == names
    assert any("OmHandlerCompany was taken" in note for note in proposal.notes)


def test_a_wsdl_of_another_service_proposes_nothing_and_lists_what_it_has() -> None:
    text = _wsdl("", style="rpc").replace("wsomhandler", "getWeather")
    proposal = propose_soap_names(read_wsdl(text))
    assert proposal.names is None
    assert "getWeather" in proposal.notes[0]


def test_parameters_of_mixed_qualification_follow_the_request_parameter_with_a_note() -> None:
    body = """<types><xsd:schema targetNamespace="urn:t" elementFormDefault="unqualified">
      <xsd:element name="Company" type="xsd:string"/>
      <xsd:element name="wsomhandler"><xsd:complexType><xsd:sequence>
        <xsd:element name="pcIn" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="comwsomhandler"><xsd:complexType><xsd:sequence>
        <xsd:element ref="tns:Company"/><xsd:element name="pcIn" type="xsd:string"/>
      </xsd:sequence></xsd:complexType></xsd:element></xsd:schema></types>"""
    text = _wsdl(body).replace(
        '<message name="in"><part name="pcIn" type="xsd:string"/></message>',
        '<message name="in"><part name="p" element="tns:wsomhandler"/></message>'
        '<message name="cin"><part name="p" element="tns:comwsomhandler"/></message>',
    )
    text = text.replace(
        '<portType name="P">',
        '<portType name="P"><operation name="comwsomhandler"><input message="tns:cin"/>'
        '<output message="tns:out"/></operation>',
    ).replace(
        "<s:binding",
        '<operation name="comwsomhandler"><input><s:body use="literal"/></input></operation>'
        "<s:binding",
    )
    proposal = propose_soap_names(read_wsdl(text))
    assert proposal.names is not None
    assert proposal.names.company_parameter == "Company"
    assert proposal.names.qualified_parameters is False
    assert any("some parameters are qualified" in note for note in proposal.notes)
