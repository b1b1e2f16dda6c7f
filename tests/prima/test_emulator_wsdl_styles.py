"""The emulator's WSDL styles: it speaks what its WSDL says and refuses calls that do not fit."""

from __future__ import annotations

import httpx
import pytest
from attrs import evolve
from defusedxml.ElementTree import fromstring as safe_fromstring

from ct_prima_sync.errors import PrimaSoapMismatchError
from ct_prima_sync.prima import OmlinkClient, OmlinkConfig, OrderStatus, SkuCode, SoapNames
from ct_prima_sync.testing import PrimaEmulator, PrimaWorld, WsdlStyle, make_sales_order

TEE = SkuCode(product="TEE1", matrix=("BLK", "M"))
ENDPOINT = "http://prima.test/live/live"


def names_for(style: WsdlStyle) -> SoapNames:
    """Unusual names, as an installation might publish them in ``style``."""
    return SoapNames(
        service_namespace="urn:prima:live:omlink",
        request_parameter="pcRequestXML",
        company_parameter="piCompanyNo",
        reply_parameter="pcReplyXML",
        qualified_parameters=style.qualified,
        company_parameter_first=style is not WsdlStyle.RPC_LITERAL,
    )


def _world() -> PrimaWorld:
    world = PrimaWorld()
    world.add_depot("WH1", "Main")
    world.add_product(TEE)
    world.set_stock(TEE, "WH1", 7)
    return world


def _client(
    emulator: PrimaEmulator, names: SoapNames, company_id: str | None = None
) -> OmlinkClient:
    config = OmlinkConfig(endpoint=ENDPOINT, soap=names, company_id=company_id)
    return OmlinkClient(config, transport=emulator.transport())


@pytest.mark.parametrize("style", list(WsdlStyle))
@pytest.mark.parametrize("company_id", [None, "02"])
def test_a_client_with_the_published_names_works_in_each_style(
    style: WsdlStyle, company_id: str | None
) -> None:
    names = names_for(style)
    world = _world()
    emulator = PrimaEmulator(world, soap_names=names, wsdl_style=style)
    with _client(emulator, names, company_id) as client:
        (result,) = client.submit_orders([make_sales_order("CT-1", [(TEE, 1, "WH1")])])
        assert result.accepted
        assert client.order_status("CT-1").status.known_to_prima
        assert client.order_status("NEVER").status is OrderStatus.UNKNOWN_TO_PRIMA
        assert [level.available for level in client.available_to_sell([TEE])] == [6]


@pytest.mark.parametrize("style", list(WsdlStyle))
def test_a_client_with_the_default_names_is_refused_with_the_names_expected(
    style: WsdlStyle,
) -> None:
    world = _world()
    emulator = PrimaEmulator(world, soap_names=names_for(style), wsdl_style=style)
    with _client(emulator, SoapNames()) as client, pytest.raises(PrimaSoapMismatchError) as caught:
        client.submit_orders([make_sales_order("CT-1", [(TEE, 1, "WH1")])])
    assert "wsomhandler" in caught.value.fault
    assert "prima probe" in str(caught.value)
    assert world.orders() == []


def test_a_parameter_in_the_wrong_namespace_is_refused_naming_both() -> None:
    names = names_for(WsdlStyle.DOCUMENT_UNQUALIFIED)
    emulator = PrimaEmulator(_world(), soap_names=names)
    with (
        _client(emulator, evolve(names, qualified_parameters=True)) as client,
        pytest.raises(PrimaSoapMismatchError) as caught,
    ):
        client.order_status("CT-1")
    assert "pcRequestXML (unqualified)" in caught.value.fault
    assert "{urn:prima:live:omlink}pcRequestXML" in caught.value.fault


def test_the_company_parameter_in_the_wrong_place_is_refused() -> None:
    names = names_for(WsdlStyle.RPC_LITERAL)
    emulator = PrimaEmulator(_world(), soap_names=names, wsdl_style=WsdlStyle.RPC_LITERAL)
    wrong = evolve(names, company_parameter_first=True)
    with _client(emulator, wrong, "02") as client, pytest.raises(PrimaSoapMismatchError):
        client.order_status("CT-1")


@pytest.mark.parametrize("style", list(WsdlStyle))
def test_the_wsdl_names_the_service_address_it_was_asked_at(style: WsdlStyle) -> None:
    emulator = PrimaEmulator(soap_names=names_for(style), wsdl_style=style)
    with httpx.Client(transport=emulator.transport(), base_url="http://prima.test") as http:
        for url in ("/live/live/wsdl?targetURI=urn:omlink", "/live/live?wsdl"):
            root = safe_fromstring(http.get(url).content)
            address = root.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
            assert address is not None
            assert address.get("location") == ENDPOINT
            binding = root.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}binding")
            assert binding is not None
            assert binding.get("style") == ("rpc" if style is WsdlStyle.RPC_LITERAL else "document")


def test_a_published_location_can_name_another_host() -> None:
    emulator = PrimaEmulator(wsdl_location="http://prima-internal:8080/live/live")
    with httpx.Client(transport=emulator.transport(), base_url="http://prima.test") as http:
        assert b"http://prima-internal:8080/live/live" in http.get("/live/live?wsdl").content


def test_a_style_that_contradicts_the_names_is_refused() -> None:
    with pytest.raises(ValueError, match="disagree"):
        PrimaEmulator(soap_names=SoapNames(), wsdl_style=WsdlStyle.RPC_LITERAL)
