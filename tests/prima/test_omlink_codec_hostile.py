"""Untrusted replies: anything malformed, hostile or of the wrong shape becomes a typed error."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ct_prima_sync.errors import (
    PayloadError,
    PrimaError,
    PrimaProtocolError,
    PrimaRejectedError,
    PrimaSoapMismatchError,
    PrimaUnavailableError,
)
from ct_prima_sync.prima import (
    OrderStatus,
    OrderStatusReport,
    PrimaCustomer,
    SkuCode,
    StockLevel,
)
from ct_prima_sync.prima._xml import (
    Encoding,
    OmlinkCodec,
    OrderStatusRequest,
    SoapEnvelope,
    SoapNames,
)

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Reply RequestStatus="OK"><Data OrderNumber="&lol3;" OrderStatus="Despatched"/></Reply>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Reply RequestStatus="OK"><Data OrderNumber="&xxe;" OrderStatus="Despatched"/></Reply>"""
PLAIN_DTD = """<?xml version="1.0"?><!DOCTYPE Reply SYSTEM "http://127.0.0.1:9/omlink.dtd">
<Reply RequestStatus="OK"><Data OrderNumber="1" OrderStatus="Despatched"/></Reply>"""
DATA = '<Data OrderNumber="1" OrderStatus="Despatched"/>'
GOOD = f'<?xml version="1.0"?><Reply RequestStatus="OK">{DATA}</Reply>'

HOSTILE = {
    "billion laughs": BILLION_LAUGHS,
    "external entity": EXTERNAL_ENTITY,
    "DTD": PLAIN_DTD,
    "truncated": GOOD[: len(GOOD) // 2],
    "empty": "",
    "not XML": "Service Temporarily Unavailable",
    "wrong root": f'<html RequestStatus="OK">{DATA}</html>',
    "no status": '<Reply><Data OrderNumber="1" OrderStatus="Despatched"/></Reply>',
    "no data": '<Reply RequestStatus="OK"/>',
    "bad encoding": b'<?xml version="1.0" encoding="UTF-8"?><Reply RequestStatus="OK" A="\xff"/>',
    "unknown encoding": '<?xml version="1.0" encoding="X-NOPE"?><Reply RequestStatus="OK"/>',
}


@pytest.mark.parametrize("reply", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_or_malformed_replies_give_a_protocol_error(reply: str | bytes) -> None:
    with pytest.raises(PrimaProtocolError):
        OmlinkCodec().decode_order_status_reply(reply)


@pytest.mark.parametrize("reply", [BILLION_LAUGHS, EXTERNAL_ENTITY, PLAIN_DTD])
def test_hostile_soap_envelopes_are_refused(reply: str) -> None:
    with pytest.raises(PrimaProtocolError):
        SoapEnvelope().unwrap_reply(reply, "OrderStatus")


def test_element_and_attribute_names_match_whatever_their_case() -> None:
    reply = (
        '<REPLY requeststatus="ok"><data><SKU product="TEE" mtrxcode1="RED" '
        'AVAILABLEQUANTITY="7" availabledate="02/03/2026"/></data></REPLY>'
    )
    [level] = OmlinkCodec().decode_ats_reply(reply)
    assert level.sku == SkuCode(product="TEE", matrix=("RED",))
    assert level.available == 7
    assert level.available_date is not None
    assert (level.available_date.day, level.available_date.month) == (2, 3)


def test_an_error_reply_is_a_business_rejection_with_prima_text() -> None:
    reply = '<Reply RequestStatus="ERROR" RequestError="Order 77 not found"/>'
    with pytest.raises(PrimaRejectedError) as caught:
        OmlinkCodec().decode_order_status_reply(reply)
    assert caught.value.request_error == "Order 77 not found"
    assert caught.value.request_type == "OrderStatus"


BAD_VALUES = [
    '<Reply RequestStatus="OK"><Data><sku Product="P" AvailableQuantity="1.5"/></Data></Reply>',
    '<Reply RequestStatus="OK"><Data><sku Product="P" AvailableQuantity="1e3"/></Data></Reply>',
    '<Reply RequestStatus="OK"><Data><sku Product="" AvailableQuantity="1"/></Data></Reply>',
    '<Reply RequestStatus="OK"><Data><sku Product="P" AvailableQuantity="2"'
    ' AvailableDate="2026-13-45"/></Data></Reply>',
    '<Reply RequestStatus="OK"><Data><sku Product="P" MtrxCode1="a" MtrxCode2="b" MtrxCode3="c"'
    ' MtrxCode4="d" MtrxCode5="e" AvailableQuantity="NaN"/></Data></Reply>',
]


@pytest.mark.parametrize("reply", BAD_VALUES)
def test_values_of_the_wrong_shape_give_a_protocol_error(reply: str) -> None:
    with pytest.raises(PrimaProtocolError):
        OmlinkCodec().decode_ats_reply(reply)


DECODERS: list[Callable[[OmlinkCodec, str], object]] = [
    lambda c, t: c.decode_submit_reply(t, ["1"]),
    lambda c, t: c.decode_order_status_reply(t),
    lambda c, t: c.decode_ats_reply(t),
    lambda c, t: c.decode_customer_find_reply(t),
    lambda c, t: c.decode_customer_create_reply(t),
    lambda c, t: c.decode_despatch_reply(t),
    lambda c, t: c.decode_depot_list_reply(t),
    lambda c, t: c.decode_journal_reply(t),
]


@settings(max_examples=150, deadline=None)
@given(
    decoder=st.sampled_from(DECODERS),
    mutated=st.sampled_from(
        [
            OmlinkCodec().encode_ats_reply(
                [StockLevel(sku=SkuCode(product="P", matrix=("R",)), available=3)]
            ),
            OmlinkCodec().encode_customer_create_reply(PrimaCustomer(account_code="A1")),
            OmlinkCodec().encode_order_status_reply(
                OrderStatusReport(order_number="1", status=OrderStatus.DESPATCHED)
            ),
        ]
    ),
    cut=st.integers(0, 400),
    junk=st.text(max_size=5),
)
def test_no_mangled_reply_escapes_as_anything_but_a_prima_error(
    decoder: Callable[[OmlinkCodec, str], object], mutated: str, cut: int, junk: str
) -> None:
    text = mutated[:cut] + junk + mutated[cut + len(junk) :]
    with contextlib.suppress(PrimaProtocolError, PrimaRejectedError):
        decoder(OmlinkCodec(), text)


@given(text=st.text(max_size=80) | st.binary(max_size=80))
def test_random_bytes_as_a_request_give_a_payload_error_on_the_server_side(
    text: str | bytes,
) -> None:
    with contextlib.suppress(PayloadError):
        OmlinkCodec().decode_request(text)


@pytest.mark.parametrize("encoding", list(Encoding))
def test_soap_envelopes_round_trip_on_both_sides(encoding: Encoding) -> None:
    envelope = SoapEnvelope(encoding=encoding)
    request = OmlinkCodec(encoding=encoding).encode_request(
        OrderStatusRequest(order_number="Ünïcode & <ok> 東京")
    )
    call = envelope.unwrap_request(envelope.wrap_request(request))
    assert (call.operation, call.company_id, call.request) == ("wsomhandler", None, request)
    company_call = envelope.unwrap_request(envelope.wrap_request(request, company_id="02"))
    assert (company_call.operation, company_call.company_id) == ("comwsomhandler", "02")
    reply = OmlinkCodec(encoding=encoding).encode_error_reply("OrderStatus", "x & y")
    assert envelope.unwrap_reply(envelope.wrap_reply(reply, call.operation), "OrderStatus") == reply


def test_a_soap_client_fault_is_a_soap_mismatch_and_a_server_fault_is_ambiguous() -> None:
    envelope = SoapEnvelope()
    with pytest.raises(PrimaSoapMismatchError):
        envelope.unwrap_reply(envelope.wrap_fault("Client", "bad request"), "MultiNewOrder")
    with pytest.raises(PrimaUnavailableError) as caught:
        envelope.unwrap_reply(envelope.wrap_fault("Server", "AppServer down"), "MultiNewOrder")
    assert caught.value.may_have_been_applied is True


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body>502 Bad Gateway</body></html>",
        b'<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body/></Envelope>',
        b'<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body><x/></Body></Envelope>',
    ],
)
def test_a_reply_that_is_not_a_soap_response_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(PrimaError):
        SoapEnvelope().unwrap_reply(body, "OrderStatus")


def test_unqualified_rpc_style_parameters_are_written_and_read() -> None:
    envelope = SoapEnvelope(SoapNames(qualified_parameters=False, request_parameter="input"))
    body = envelope.wrap_request("<Request/>", company_id="7")
    assert b"<input>" in body
    assert b"<CompanyID>7</CompanyID>" in body
    call = envelope.unwrap_request(body)
    assert (call.request, call.company_id) == ("<Request/>", "7")
    assert envelope.unwrap_reply(envelope.wrap_reply("<Reply/>"), "X") == "<Reply/>"
