"""Requests written straight to text are ElementTree's text, character for character.

The oracle is ElementTree itself: the same request written through ``TreeSink`` (the elements
``new_element`` makes) and serialised by ``ET.tostring``; and for the SOAP envelope, the whole
envelope tree serialised as it always was. Orders written from the schema's plan
(``_order_text``) are held to both that and the general way (``write_order`` through
``TextSink``).
"""

from __future__ import annotations

import decimal
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import date, datetime
from functools import partial

import pytest
from attrs import evolve
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ct_prima_sync.errors import PayloadError
from ct_prima_sync.money import Money
from ct_prima_sync.prima import SalesOrder, SkuCode
from ct_prima_sync.prima._xml import (
    CustomerFindRequest,
    Encoding,
    OmlinkCodec,
    OmlinkRequest,
    OmlinkSchema,
    SoapEnvelope,
    SoapNames,
    SubmitOrdersRequest,
)
from ct_prima_sync.prima._xml._order_text import date_formatter
from ct_prima_sync.prima._xml._text import NotPlain, TextSink, TreeSink
from ct_prima_sync.prima._xml._tree import Names, format_money, money_formatter
from ct_prima_sync.testing import make_sales_order

from .test_omlink_codec_roundtrip import HOSTILE_TEXT, REQUESTS, sales_orders

ENCODINGS = list(Encoding)
_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,6}", fullmatch=True)
#: Library names an installation may rename (elements and attributes of every request kind).
_RENAMEABLE = [
    "Request", "RequestType", "Data", "OrderNumber", "UniqueId", "Customer", "Email",
    "OrderHeaderData", "OrderLineData", "Quantity", "Price", "Product", "MtrxCode1", "sku",
    "JournalLine", "Amount", "OrderChargeData", "OrderPaymentData", "AddrLine1", "TaxRate",
]  # fmt: skip
_RENAMES = st.dictionaries(st.sampled_from(_RENAMEABLE), _NAME, max_size=4)
#: Any text at all, with what XML cannot carry (it must be refused alike on both paths).
_ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


def _element_tree_text(root: ET.Element, encoding: Encoding) -> str:
    if encoding is Encoding.ISO_8859_1:
        body = ET.tostring(root, encoding="iso-8859-1", xml_declaration=False).decode("latin-1")
    else:
        body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="{encoding.value}"?>{body}'


def _through_element_tree(codec: OmlinkCodec, request: OmlinkRequest) -> str:
    sink = TreeSink(Names(codec.schema.attribute_names))
    codec.write_request(sink, request)
    assert sink.root is not None
    return _element_tree_text(sink.root, codec.encoding)


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(request=REQUESTS, extended=st.booleans(), renames=_RENAMES)
def test_every_request_is_written_as_element_tree_writes_it(
    encoding: Encoding, request: OmlinkRequest, extended: bool, renames: dict[str, str]
) -> None:
    schema = OmlinkSchema(
        extended_orders=extended, ats_max_rows_attribute="MaxRows", attribute_names=renames
    )
    codec = OmlinkCodec(schema, encoding=encoding)
    assert codec.encode_request(request) == _through_element_tree(codec, request)


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(max_examples=200, deadline=None)
@given(account=_ANY_TEXT, email=_ANY_TEXT)
@example(account=HOSTILE_TEXT, email="a\x01b")
@example(account="\t\r\n&<>\"'", email="\x7f\x80\xff\u0100")
@example(account="a\ud800b", email="")
def test_escaping_and_refusals_are_element_tree_s(
    encoding: Encoding, account: str, email: str
) -> None:
    codec = OmlinkCodec(encoding=encoding)
    request = CustomerFindRequest(account_code=account, email=email)
    assert _outcome(lambda: codec.encode_request(request)) == _outcome(
        lambda: _through_element_tree(codec, request)
    )


def _outcome(write: Callable[[], str]) -> tuple[str, str]:
    """The text written, or the refusal's path and message."""
    try:
        return ("text", write())
    except PayloadError as refused:
        return (f"refused at {refused.path}", str(refused))


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_namespaced_name_goes_through_element_tree(encoding: Encoding) -> None:
    # The schema refuses such renames; a host's own Names (or a configured extra attribute)
    # still gets ElementTree's text.
    names = Names({"Data": "{urn:site}Data", "Email": "{urn:x}Mail"})
    codec = OmlinkCodec(encoding=encoding)
    codec._names = names
    request = CustomerFindRequest(account_code="C1", email="é€")
    with pytest.raises(NotPlain):
        codec.write_request(TextSink(names), request)
    text = codec.encode_request(request)
    assert "ns0:Data" in text
    sink = TreeSink(names)
    codec.write_request(sink, request)
    assert sink.root is not None
    assert text == _element_tree_text(sink.root, encoding)


# -- the SOAP envelope ---------------------------------------------------------------------------

_NAMESPACES = st.sampled_from(
    [
        "",
        "urn:omlink",
        "http://schemas.xmlsoap.org/soap/envelope/",
        "http://www.w3.org/2001/XMLSchema",  # ElementTree has a prefix for it (xs)
        "http://schemas.xmlsoap.org/wsdl/",  # and for this one (wsdl)
        'urn:a"b&c<d>',
    ]
)
_SOAP_NAMES = st.builds(
    SoapNames,
    envelope_namespace=_NAMESPACES,
    service_namespace=_NAMESPACES,
    operation=_NAME,
    company_operation=_NAME,
    request_parameter=_NAME,
    company_parameter=_NAME,
    qualified_parameters=st.booleans(),
    company_parameter_first=st.booleans(),
)
_REQUEST_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


def _whole_envelope(envelope: SoapEnvelope, request: str, company_id: str | None) -> bytes:
    """The envelope as it was always written: the whole tree through ``serialize``."""
    return envelope._to_bytes(envelope._request_envelope(request, company_id))


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(max_examples=300, deadline=None)
@given(
    names=_SOAP_NAMES,
    requests=st.lists(_REQUEST_TEXT, min_size=1, max_size=3),
    company_id=st.none() | _REQUEST_TEXT,
)
@example(names=SoapNames(), requests=["", "<Request/>", HOSTILE_TEXT], company_id=None)
@example(names=SoapNames(), requests=["a]]>b"], company_id="\x00omlink-request\x00")
def test_the_envelope_is_element_tree_s_byte_for_byte(
    encoding: Encoding, names: SoapNames, requests: list[str], company_id: str | None
) -> None:
    envelope = SoapEnvelope(names, encoding)
    for request in requests:  # the second and later ones from the cached frame
        assert envelope.wrap_request(request, company_id) == _whole_envelope(
            envelope, request, company_id
        )


@pytest.fixture
def restored_prefixes() -> Iterator[None]:
    saved = dict(ET._namespace_map)  # type: ignore[attr-defined]
    yield
    ET._namespace_map.clear()  # type: ignore[attr-defined]
    ET._namespace_map.update(saved)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("restored_prefixes")
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_prefix_registered_later_changes_the_envelope_as_it_changes_element_tree(
    encoding: Encoding,
) -> None:
    envelope = SoapEnvelope(encoding=encoding)
    before = envelope.wrap_request("<Request/>", "C1")
    assert b"ns0:Envelope" in before
    ET.register_namespace("soapenv", SoapNames().envelope_namespace)
    after = envelope.wrap_request("<Request/>", "C1")
    assert b"soapenv:Envelope" in after
    assert after == _whole_envelope(envelope, "<Request/>", "C1")


# -- amounts -------------------------------------------------------------------------------------

_UNITS = st.integers(-(10**19), 10**19) | st.integers(-(10**40), 10**40) | st.integers(-999, 999)


@settings(max_examples=500, deadline=None)
@given(units=_UNITS, digits=st.integers(0, 20))
@example(units=10**19 - 1, digits=20)
@example(units=-(10**19) + 1, digits=0)
@example(units=10**19, digits=3)
def test_amounts_are_written_as_decimal_writes_them(units: int, digits: int) -> None:
    amount = Money(units, "EUR", digits)
    assert money_formatter()(amount) == format_money(amount)


@pytest.mark.parametrize(
    "narrow",
    [decimal.Context(prec=10), decimal.Context(Emin=-5), decimal.Context(Emax=10, clamp=1)],
)
def test_a_narrow_decimal_context_keeps_decimal_s_own_text(narrow: decimal.Context) -> None:
    amount = Money(123456789012345, "KWD", 20)
    with decimal.localcontext(narrow):
        assert money_formatter() is format_money
        assert money_formatter()(amount) == format_money(amount)


# -- orders from the schema's plan ---------------------------------------------------------------

#: Text the plan writes as it is (letters, digits, spaces, beyond Latin-1), now and then with
#: what it leaves to the general way (a character to escape, one XML cannot carry).
_PLAIN_CHARS = st.sampled_from(list("Aa zZ09-./@+'é€東😀"))
_SPECIAL_CHARS = st.sampled_from(list('&<>"\t\n\r\x01'))
_PLAIN_TEXT = st.text(_PLAIN_CHARS, max_size=8)
_ORDER_TEXT = _PLAIN_TEXT | st.lists(_PLAIN_TEXT | _SPECIAL_CHARS, max_size=3).map("".join)
_ORDER_NONEMPTY = st.text(_PLAIN_CHARS, min_size=1, max_size=8).filter(lambda s: s.strip() == s)
_ORDER_EXTRAS: st.SearchStrategy[dict[str, str]] = st.dictionaries(
    st.sampled_from(["Brand", "Season"]), _ORDER_TEXT
)
#: Mostly orders the plan writes; some with a special character somewhere, or extra attributes.
_ORDERS = st.lists(
    sales_orders(text=_PLAIN_TEXT, nonempty=_ORDER_NONEMPTY, extras=st.just({}))
    | sales_orders(text=_ORDER_TEXT, nonempty=_ORDER_NONEMPTY, extras=_ORDER_EXTRAS),
    min_size=1,
    max_size=3,
)
#: Names of the order's elements and attributes an installation may rename, and wire names
#: among them (two library names on one wire name: the general way's dictionary keeps one).
_ORDER_RENAMEABLE = [
    "Request", "Data", "UniqueId", "OrderNumber", "ExternalId", "AddrLine3", "Country",
    "OrderHeaderData", "OrderNetValue", "OrderInvoiceData", "InvoiceName", "OrderDeliveryData",
    "OrderLineData", "MtrxCode2", "NetValue", "ExtTaxVal", "TaxRate", "Price", "DueDate",
    "OrderChargeData", "ChargeReference", "OrderPaymentData", "AuthDate", "OrderTaxData",
]  # fmt: skip
_ORDER_RENAMES = st.dictionaries(
    st.sampled_from(_ORDER_RENAMEABLE), _NAME | st.sampled_from(_ORDER_RENAMEABLE), max_size=4
)
_DATE_FORMATS = st.sampled_from(["%d/%m/%Y", "%Y-%m-%d", "%d.%m.%y", "%e %b %Y", "%Y%m%d"])
_DATETIME_FORMATS = st.sampled_from(
    ["%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%d/%m/%Y %I:%M %p", "%s", "%Y %% %j"]
)

_ORDER_SCHEMAS = st.builds(
    OmlinkSchema,
    extended_orders=st.booleans(),
    attribute_names=st.just({}) | _ORDER_RENAMES,
    date_format=_DATE_FORMATS,
    datetime_format=_DATETIME_FORMATS,
)


def _through_text_sink(codec: OmlinkCodec, request: OmlinkRequest) -> str:
    """The request written the general way: ``write_order``'s dictionaries through TextSink."""
    return codec.write_request(TextSink(Names(codec.schema.attribute_names)), request)


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(orders=_ORDERS, schema=_ORDER_SCHEMAS, unique_id=_ORDER_TEXT)
def test_orders_from_the_plan_are_written_as_element_tree_writes_them(
    encoding: Encoding, orders: list[SalesOrder], schema: OmlinkSchema, unique_id: str
) -> None:
    codec = OmlinkCodec(schema, encoding=encoding)
    request = SubmitOrdersRequest(
        orders=tuple(orders), unique_ids=tuple(f"{unique_id}{n}" for n in range(len(orders)))
    )
    written = _outcome(lambda: codec.encode_request(request))
    assert written == _outcome(lambda: _through_text_sink(codec, request))
    assert written == _outcome(lambda: _through_element_tree(codec, request))


@pytest.mark.parametrize(
    "schema",
    [
        OmlinkSchema(),
        OmlinkSchema(extended_orders=True),
        OmlinkSchema(attribute_names={"ExtTaxVal": "TaxValue", "OrderLineData": "Line"}),
    ],
    ids=["default", "extended", "renamed"],
)
def test_a_plain_order_comes_from_the_plan_and_an_unusual_one_the_general_way(
    schema: OmlinkSchema,
) -> None:
    codec = OmlinkCodec(schema)
    plan = codec._order_text_plan()
    assert plan is not None
    order = make_sales_order("CT-1", [(SkuCode(product="TEE", matrix=("BLK", "M")), 2, "WH1")])
    block = plan.data_block(order, "u1")
    assert block is not None
    request = SubmitOrdersRequest(orders=(order, order), unique_ids=("u1", "u2"))
    assert codec.encode_request(request) == _through_text_sink(codec, request)
    for unusual in (
        evolve(order, carrier="A & B"),
        evolve(order, order_channel="\x01"),
        evolve(order, extra_attributes={"Brand": "X"}),
    ):
        assert plan.data_block(unusual, "u1") is None
        request = SubmitOrdersRequest(orders=(order, unusual), unique_ids=("u1", "u2"))
        assert _outcome(partial(codec.encode_request, request)) == _outcome(
            partial(_through_text_sink, codec, request)
        )


def test_names_the_plan_cannot_write_leave_the_whole_schema_to_the_general_way() -> None:
    order = make_sales_order("CT-1", [(SkuCode(product="TEE"), 1, "WH1")])
    request = SubmitOrdersRequest(orders=(order,), unique_ids=("u1",))
    for renames in ({"NetValue": "Price"}, {"Forename": "Surname"}):
        codec = OmlinkCodec(OmlinkSchema(extended_orders=True, attribute_names=renames))
        assert codec._order_text_plan() is None
        assert codec.encode_request(request) == _through_element_tree(codec, request)
    codec = OmlinkCodec()
    codec._names = Names({"OrderLineData": "{urn:site}Line"})
    assert codec._order_text_plan() is None
    assert "ns0:Line" in codec.encode_request(request)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_narrow_decimal_context_writes_orders_the_general_way(encoding: Encoding) -> None:
    order = make_sales_order("CT-1", [(SkuCode(product="TEE"), 1, "WH1")])
    big = evolve(order.lines[0], price=Money(123456789012345, "EUR", 2))
    request = SubmitOrdersRequest(orders=(evolve(order, lines=(big,)),), unique_ids=("u1",))
    codec = OmlinkCodec(encoding=encoding)
    with decimal.localcontext(decimal.Context(prec=10)):
        assert codec.encode_request(request) == _through_element_tree(codec, request)


_DAYS = st.dates() | st.datetimes()
_FORMAT_PIECES = st.sampled_from(
    ["%d", "%m", "%Y", "%H", "%M", "%S", "%y", "%j", "%%", "%", "/", " ", ":", "T", "{", "}", "é"]
)


@settings(max_examples=500, deadline=None)
@given(value=_DAYS, pieces=st.lists(_FORMAT_PIECES, max_size=8), with_time=st.booleans())
@example(value=datetime(999, 12, 31, 23, 59, 59), pieces=["%d/%m/%Y"], with_time=True)  # noqa: DTZ001
@example(value=date(1000, 1, 1), pieces=["%Y-%m-%d"], with_time=False)
def test_dates_are_written_as_strftime_writes_them(
    value: date, pieces: list[str], with_time: bool
) -> None:
    fmt = "".join(pieces)
    with_time = with_time and isinstance(value, datetime)
    assert date_formatter(fmt, with_time=with_time)(value) == value.strftime(fmt)
