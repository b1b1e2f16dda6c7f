"""PrimaEmulator on the wire: WSDL, encodings, SOAP faults, hostile replies, loopback serving."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from attrs import evolve
from defusedxml.ElementTree import fromstring as safe_fromstring

from ct_prima_sync.errors import PrimaProtocolError, PrimaRejectedError, PrimaSoapMismatchError
from ct_prima_sync.money import Money
from ct_prima_sync.prima import (
    CustomerDetails,
    JournalBatch,
    JournalLine,
    OmlinkClient,
    OmlinkConfig,
    OrderStatus,
    ReturnLine,
    SkuCode,
)
from ct_prima_sync.prima._xml import (
    CustomerCreateRequest,
    DepotListRequest,
    Encoding,
    OmlinkCodec,
    OmlinkRequest,
    OrderStatusRequest,
    SoapEnvelope,
    SubmitOrdersRequest,
)
from ct_prima_sync.testing import (
    PrimaEmulator,
    PrimaFault,
    PrimaFaultKind,
    PrimaRequestKind,
    PrimaWorld,
    make_sales_order,
)

TEE = SkuCode(product="TEE1", matrix=("BLK", "M"))


def _emulator(sleep: list[float] | None = None) -> PrimaEmulator:
    world = PrimaWorld()
    world.add_depot("WH1", "Main")
    world.add_product(TEE)
    world.set_stock(TEE, "WH1", 50)
    slept = sleep if sleep is not None else []
    return PrimaEmulator(world, sleep=slept.append, timeout_hold=2.0)


@pytest.fixture
def emulator() -> PrimaEmulator:
    return _emulator()


@pytest.fixture
def http(emulator: PrimaEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=emulator.transport(), base_url="http://prima.test") as client:
        yield client


def _post(
    http: httpx.Client,
    request: OmlinkRequest,
    encoding: Encoding = Encoding.ISO_8859_1,
    company_id: str | None = None,
) -> httpx.Response:
    codec, envelope = OmlinkCodec(encoding=encoding), SoapEnvelope(encoding=encoding)
    body = envelope.wrap_request(codec.encode_request(request), company_id)
    return http.post("/", content=body, headers={"Content-Type": envelope.content_type})


def _reply(response: httpx.Response, encoding: Encoding = Encoding.ISO_8859_1) -> str:
    return SoapEnvelope(encoding=encoding).unwrap_reply(response.content, "test")


def test_the_wsdl_is_served_at_both_documented_addresses(http: httpx.Client) -> None:
    for url in ("/omlink/omlink?wsdl", "/omlink/omlink/wsdl?targetURI=urn:omlink"):
        response = http.get(url)
        assert response.status_code == 200
        root = safe_fromstring(response.content)
        assert root.tag == "{http://schemas.xmlsoap.org/wsdl/}definitions"
        assert root.get("targetNamespace") == "urn:omlink"
        assert b'name="wsomhandler"' in response.content
        assert b'name="comwsomhandler"' in response.content


@pytest.mark.parametrize("encoding", list(Encoding))
def test_the_reply_uses_the_encoding_the_request_declares(
    http: httpx.Client, encoding: Encoding
) -> None:
    details = CustomerDetails(email="zoë@example.test", forename="Zoë", surname="Šimić")
    response = _post(http, CustomerCreateRequest(details=details), encoding)
    assert response.headers["content-type"] == f"text/xml; charset={encoding.value}"
    assert response.content.startswith(
        f'<?xml version="1.0" encoding="{encoding.value}"?>'.encode()
    )
    customer = OmlinkCodec(encoding=encoding).decode_customer_create_reply(
        _reply(response, encoding)
    )
    assert customer.name == "Zoë Šimić"
    assert customer.email == "zoë@example.test"


def test_the_company_operation_is_answered_like_the_plain_one(http: httpx.Client) -> None:
    response = _post(http, DepotListRequest(), company_id="01")
    assert b"comwsomhandlerResponse" in response.content
    depots = OmlinkCodec().decode_depot_list_reply(_reply(response))
    assert [d.code for d in depots] == ["WH1"]


def test_an_unknown_order_status_is_an_error_reply(http: httpx.Client) -> None:
    response = _post(http, OrderStatusRequest(order_number="NOPE"))
    with pytest.raises(PrimaRejectedError, match="not found"):
        OmlinkCodec().decode_order_status_reply(_reply(response))


def test_arrivals_are_recorded_with_their_request_type(
    http: httpx.Client, emulator: PrimaEmulator
) -> None:
    _post(http, OrderStatusRequest(order_number="NOPE"))
    _post(http, DepotListRequest())
    _post(http, OrderStatusRequest(order_number="NOPE"))
    http.post("/", content=b"<hello/>")
    seen = emulator.arrivals
    assert (seen.total, seen.of_type("OrderStatus"), seen.of_type("DepotList")) == (4, 2, 1)


def test_a_body_that_is_not_soap_gets_a_soap_client_fault(http: httpx.Client) -> None:
    response = http.post("/", content=b"<hello/>")
    assert response.status_code == 500
    with pytest.raises(PrimaSoapMismatchError, match="SOAP Client fault: not a SOAP envelope"):
        _reply(response)


def test_an_unknown_request_type_gets_an_error_reply(http: httpx.Client) -> None:
    envelope = SoapEnvelope()
    body = envelope.wrap_request('<Request RequestType="Teleport"><Data/></Request>')
    response = http.post("/", content=body)
    assert response.status_code == 200
    with pytest.raises(PrimaRejectedError) as raised:
        OmlinkCodec().decode_depot_list_reply(_reply(response))
    assert "RequestType" in raised.value.request_error


def test_other_methods_are_refused(http: httpx.Client) -> None:
    assert http.put("/", content=b"x").status_code == 405


def _read_depots(response: httpx.Response, encoding: Encoding) -> list[str]:
    reply = SoapEnvelope(encoding=encoding).unwrap_reply(response.content, "DepotList")
    return [d.code for d in OmlinkCodec(encoding=encoding).decode_depot_list_reply(reply)]


HOSTILE = [
    PrimaFaultKind.TRUNCATED_XML,
    PrimaFaultKind.WRONG_ROOT,
    PrimaFaultKind.BILLION_LAUGHS,
    PrimaFaultKind.EXTERNAL_ENTITY,
]


@pytest.mark.parametrize("encoding", list(Encoding))
@pytest.mark.parametrize("in_reply", [False, True], ids=["as-body", "in-reply-string"])
@pytest.mark.parametrize("kind", HOSTILE)
def test_malformed_and_hostile_replies_are_refused_by_the_codec_with_a_typed_error(
    emulator: PrimaEmulator,
    http: httpx.Client,
    kind: PrimaFaultKind,
    in_reply: bool,
    encoding: Encoding,
) -> None:
    emulator.faults.script(None, PrimaFault(kind=kind, in_reply=in_reply))
    response = _post(http, DepotListRequest(), encoding)
    assert response.status_code == 200
    with pytest.raises(PrimaProtocolError):
        _read_depots(response, encoding)


def test_a_hostile_reply_after_applying_still_leaves_the_order_in_prima(
    emulator: PrimaEmulator, http: httpx.Client
) -> None:
    emulator.faults.script(None, PrimaFault(kind=PrimaFaultKind.BILLION_LAUGHS, applied=True))
    order = make_sales_order("WEB-1", [(TEE, 2, "WH1")])
    _post(http, SubmitOrdersRequest(orders=(order,), unique_ids=("u1",)))
    assert emulator.order("WEB-1").status is OrderStatus.OUTSTANDING
    assert emulator.world.available(TEE, "WH1") == 48


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (PrimaFaultKind.TIMEOUT, httpx.ReadTimeout),
        (PrimaFaultKind.REPLY_LOST, httpx.RemoteProtocolError),
        (PrimaFaultKind.CONNECTION_RESET, httpx.ConnectError),
    ],
)
def test_transport_faults_raise_what_httpx_raises_on_a_real_network(
    http: httpx.Client, emulator: PrimaEmulator, kind: PrimaFaultKind, error: type[Exception]
) -> None:
    emulator.faults.script(PrimaRequestKind.LIST_DEPOTS, PrimaFault(kind=kind))
    with pytest.raises(error):
        _post(http, DepotListRequest())
    assert _post(http, DepotListRequest()).status_code == 200


def test_rate_limiting_answers_429_with_retry_after(
    http: httpx.Client, emulator: PrimaEmulator
) -> None:
    emulator.faults.script(None, PrimaFault(kind=PrimaFaultKind.RATE_LIMITED, retry_after=12))
    response = _post(http, DepotListRequest())
    assert response.status_code == 429
    assert response.headers["retry-after"] == "12"


def test_latency_goes_through_the_injected_sleep() -> None:
    slept: list[float] = []
    emulator = _emulator(slept)
    emulator.faults.on_nth(
        PrimaRequestKind.LIST_DEPOTS, 2, PrimaFault(kind=PrimaFaultKind.LATENCY, delay=1.5)
    )
    with httpx.Client(transport=emulator.transport(), base_url="http://prima.test") as http:
        for _ in range(3):
            assert _post(http, DepotListRequest()).status_code == 200
    assert slept == [1.5]


# -- over real HTTP on 127.0.0.1 ----------------------------------------------------------------


def test_served_on_loopback_it_answers_and_stops_cleanly(emulator: PrimaEmulator) -> None:
    with emulator.serve() as url, httpx.Client(base_url=url) as http:
        assert url.startswith("http://127.0.0.1:")
        order = make_sales_order("WEB-1", [(TEE, 2, "WH1")])
        response = _post(http, SubmitOrdersRequest(orders=(order,), unique_ids=("u1",)))
        [result] = OmlinkCodec().decode_submit_reply(_reply(response), ["WEB-1"])
        assert result.accepted
        assert http.get("/wsdl?targetURI=urn:omlink").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/?wsdl", timeout=1)


def test_served_transport_faults_drop_or_hold_the_connection(emulator: PrimaEmulator) -> None:
    emulator.faults.script(
        PrimaRequestKind.SUBMIT_ORDERS,
        PrimaFault(kind=PrimaFaultKind.REPLY_LOST),
    )
    emulator.faults.script(PrimaRequestKind.LIST_DEPOTS, PrimaFault(kind=PrimaFaultKind.TIMEOUT))
    order = make_sales_order("WEB-1", [(TEE, 2, "WH1")])
    # Only the held request gets a short timeout (the hold is 2 s): on a loaded machine a short
    # timeout on the others would turn a slow answer into a false failure.
    with (
        emulator.serve() as url,
        httpx.Client(base_url=url, timeout=30) as http,
        httpx.Client(base_url=url, timeout=0.2) as impatient,
    ):
        with pytest.raises(httpx.TransportError):
            _post(http, SubmitOrdersRequest(orders=(order,), unique_ids=("u1",)))
        assert emulator.order("WEB-1").status is OrderStatus.OUTSTANDING
        with pytest.raises(httpx.ReadTimeout):
            _post(impatient, DepotListRequest())
        assert _post(http, DepotListRequest()).status_code == 200


def test_concurrent_submits_of_one_order_number_over_http_make_one_order() -> None:
    emulator = _emulator()
    order = make_sales_order("WEB-1", [(TEE, 2, "WH1")])
    results: list[bool] = []

    def submit(http: httpx.Client) -> None:
        response = _post(http, SubmitOrdersRequest(orders=(order,), unique_ids=("u",)))
        [result] = OmlinkCodec().decode_submit_reply(_reply(response), ["WEB-1"])
        results.append(not result.accepted and result.error_codes[0].code == "E:21")

    with emulator.serve() as url, httpx.Client(base_url=url) as http:
        threads = [threading.Thread(target=submit, args=(http,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(results) == [False] + [True] * 7
    assert emulator.world.available(TEE, "WH1") == 48
    assert emulator.submission_count("WEB-1") == 8


@pytest.mark.parametrize("encoding", list(Encoding))
def test_the_real_client_speaks_every_request_type_to_the_served_emulator(
    encoding: Encoding,
) -> None:
    emulator = _emulator()
    config = OmlinkConfig(
        endpoint="http://127.0.0.1/omlink/omlink",
        encoding=encoding,
        ats_per_depot=True,
        rate_limit=1_000_000.0,
        burst=1_000,
    )
    order = make_sales_order("WEB-ü&1", [(TEE, 3, "WH1")])
    batch = JournalBatch(
        batch_id="B-1",
        posting_date=date(2026, 1, 31),
        currency="EUR",
        lines=(
            JournalLine(account="4000", amount=Money.of(-500, "EUR")),
            JournalLine(account="1100", amount=Money.of(500, "EUR")),
        ),
    )
    with emulator.serve() as url:
        endpoint = f"{url}/omlink/omlink"
        with OmlinkClient(evolve(config, endpoint=endpoint), sleep=lambda _: None) as client:
            [result] = client.submit_orders([order])
            assert result.accepted
            assert client.order_status("WEB-ü&1").status is OrderStatus.OUTSTANDING
            emulator.despatch("WEB-ü&1", tracking_numbers=["TRK-1"], on=date(2026, 2, 2))
            details = client.despatch_details("WEB-ü&1")
            assert details.despatches[0].tracking_numbers == ("TRK-1",)
            assert [lv.available for lv in client.available_to_sell([TEE])] == [47]
            assert [lv.available for lv in client.iter_available_to_sell()] == [47]
            created = client.create_customer(CustomerDetails(email="émile@example.test"))
            assert client.find_customer(email="émile@example.test") == created
            assert [d.code for d in client.list_depots()] == ["WH1"]
            assert not client.post_journal(batch).duplicate
            client.record_return(
                "WEB-ü&1",
                [ReturnLine(line_reference="L1", sku=TEE, quantity=1, return_reference="R-1")],
            )
            [second] = client.submit_orders([make_sales_order("WEB-2", [(TEE, 1, "WH1")])])
            assert second.accepted
            client.cancel_order("WEB-2", reason="cancelled in the shop")
    assert emulator.order("WEB-ü&1").returns[0].return_reference == "R-1"
    assert emulator.order("WEB-2").status is OrderStatus.CANCELLED
    kinds = [record.kind for record in emulator.requests()]
    assert set(kinds) == set(PrimaRequestKind)


def test_a_reset_after_applying_looks_like_a_lost_reply(
    http: httpx.Client, emulator: PrimaEmulator
) -> None:
    emulator.faults.script(None, PrimaFault(kind=PrimaFaultKind.CONNECTION_RESET, applied=True))
    order = make_sales_order("WEB-1", [(TEE, 1, "WH1")])
    with pytest.raises(httpx.RemoteProtocolError):
        _post(http, SubmitOrdersRequest(orders=(order,), unique_ids=("u1",)))
    assert emulator.order("WEB-1").status is OrderStatus.OUTSTANDING
