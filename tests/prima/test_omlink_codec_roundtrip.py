"""The omlink codec: whatever one side writes, the other reads back unchanged, in both encodings."""

from __future__ import annotations

from datetime import UTC, date, datetime

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ct_prima_sync.errors import PayloadError
from ct_prima_sync.money import Money
from ct_prima_sync.prima import (
    CustomerDetails,
    Depot,
    Despatch,
    DespatchDetails,
    DespatchLine,
    JournalBatch,
    JournalLine,
    JournalPostingResult,
    OrderStatus,
    OrderStatusReport,
    PostalAddress,
    PrimaCustomer,
    SalesOrder,
    SalesOrderCharge,
    SalesOrderLine,
    SalesOrderPayment,
    SalesOrderTotals,
    SkuCode,
    StockLevel,
    SubmitResult,
    TaxTotal,
)
from ct_prima_sync.prima._error_codes import short_error_text
from ct_prima_sync.prima._xml import (
    AtsRangeRequest,
    AtsSkusRequest,
    CustomerCreateRequest,
    CustomerFindRequest,
    DepotListRequest,
    DespatchDetailsRequest,
    Encoding,
    OmlinkCodec,
    OmlinkRequest,
    OmlinkSchema,
    OrderStatusRequest,
    PostJournalRequest,
    ReplyDialect,
    RequestTypeNames,
    SubmitOrdersRequest,
)

ENCODINGS = list(Encoding)
HOSTILE_TEXT = "Fish & Chips <b>\"quoted\"</b> 'single' Łódź 東京 😀 é\tline\nbreak\r]]>"

# Any text XML 1.0 can carry: no C0 controls but tab/newline/CR, no surrogates, no U+FFFE/FFFF.
_XML_CHARS = st.characters(
    exclude_categories=["Cs"],
    exclude_characters=[chr(c) for c in range(32) if c not in (9, 10, 13)] + ["\ufffe", "\uffff"],
)
TEXT = st.text(_XML_CHARS, max_size=20)
NONEMPTY = st.text(_XML_CHARS, min_size=1, max_size=12).filter(lambda s: s.strip() == s and s)
CURRENCY = st.sampled_from(["EUR", "GBP", "JPY", "KWD"])
WHEN = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 (hypothesis bounds are naive)
    max_value=datetime(2099, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda d: d.replace(microsecond=0))
DAY = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
RATE = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False)


def money(currency: str) -> st.SearchStrategy[Money]:
    return st.integers(-(10**12), 10**12).map(lambda units: Money.of(units, currency))


def skus(nonempty: st.SearchStrategy[str] = NONEMPTY) -> st.SearchStrategy[SkuCode]:
    return st.builds(SkuCode, product=nonempty, matrix=st.lists(nonempty, max_size=4).map(tuple))


def addresses(
    text: st.SearchStrategy[str] = TEXT, nonempty: st.SearchStrategy[str] = NONEMPTY
) -> st.SearchStrategy[PostalAddress]:
    return st.builds(
        PostalAddress,
        lines=st.lists(nonempty, max_size=6).map(tuple),
        post_code=text,
        country=st.sampled_from(["", "GB", "DE"]),
    )


def customers(
    text: st.SearchStrategy[str] = TEXT, nonempty: st.SearchStrategy[str] = NONEMPTY
) -> st.SearchStrategy[CustomerDetails]:
    return st.builds(
        CustomerDetails,
        account_code=text,
        title=text,
        forename=text,
        surname=text,
        company=text,
        email=text,
        phone=text,
        mobile=text,
        address=addresses(text, nonempty),
        receive_mail=st.booleans(),
        receive_email=st.booleans(),
        receive_text=st.booleans(),
        receive_phone=st.booleans(),
        external_id=text,
    )


SKU = skus()
ADDRESS = addresses()
CUSTOMER = customers()
EXTRAS = st.dictionaries(st.sampled_from(["Brand", "Season", "SourceMedia"]), TEXT, max_size=2)


@st.composite
def sales_orders(
    draw: st.DrawFn,
    text: st.SearchStrategy[str] = TEXT,
    nonempty: st.SearchStrategy[str] = NONEMPTY,
    extras: st.SearchStrategy[dict[str, str]] = EXTRAS,
) -> SalesOrder:
    """A sales order with ``text`` (``nonempty``) in its text fields and ``extras`` as its extra
    attributes."""
    TEXT, NONEMPTY = text, nonempty  # noqa: N806 (the module's strategies, or the caller's)
    SKU, ADDRESS, CUSTOMER = skus(nonempty), addresses(text, nonempty), customers(text, nonempty)  # noqa: N806
    currency = draw(CURRENCY)
    amount = money(currency)
    lines = tuple(
        SalesOrderLine(
            line_number=index,
            sku=draw(SKU),
            quantity=draw(st.integers(1, 10_000)),
            price=draw(amount),
            net=draw(amount),
            tax=draw(amount),
            gross=draw(amount),
            warehouse=draw(TEXT),
            tax_code=draw(TEXT),
            tax_rate=draw(RATE),
            discount=draw(amount),
            promotion=draw(TEXT),
            line_reference=draw(TEXT),
            narrative=draw(TEXT),
            reserve=draw(st.booleans()),
            due_date=draw(st.none() | DAY),
        )
        for index in range(1, draw(st.integers(1, 3)) + 1)
    )
    charges = tuple(
        SalesOrderCharge(
            charge_code=draw(NONEMPTY),
            value=draw(amount),
            net=draw(amount),
            tax=draw(amount),
            gross=draw(amount),
            tax_code=draw(TEXT),
            tax_rate=draw(RATE),
            reference=draw(TEXT),
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    payments = tuple(
        SalesOrderPayment(
            pay_method=draw(NONEMPTY),
            amount=draw(amount),
            sub_pay_method=draw(TEXT),
            provider=draw(TEXT),
            transaction_id=draw(TEXT),
            auth_reference=draw(TEXT),
            authorised_at=draw(st.none() | WHEN),
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    invoice = draw(st.none() | ADDRESS)
    return SalesOrder(
        order_number=draw(NONEMPTY),
        external_id=draw(TEXT),
        order_date=draw(WHEN),
        currency=currency,
        vat_inclusive=draw(st.booleans()),
        order_channel=draw(TEXT),
        customer=draw(CUSTOMER),
        lines=lines,
        totals=SalesOrderTotals(
            net=draw(amount),
            tax=draw(amount),
            gross=draw(amount),
            by_rate=tuple(
                TaxTotal(tax_code=draw(TEXT), rate=draw(RATE), net=draw(amount), tax=draw(amount))
                for _ in range(draw(st.integers(0, 2)))
            ),
        ),
        charges=charges,
        payments=payments,
        delivery_address=draw(st.none() | ADDRESS),
        invoice_address=invoice,
        invoice_name=draw(TEXT) if invoice is not None else "",
        carrier=draw(TEXT),
        carrier_service=draw(TEXT),
        order_type=draw(TEXT),
        hold=draw(st.booleans()),
        hold_narrative=draw(TEXT),
        customer_reference=draw(TEXT),
        order_paid=draw(st.booleans()),
        extra_attributes=draw(extras),
    )


@st.composite
def journal_batches(draw: st.DrawFn) -> JournalBatch:
    currency = draw(CURRENCY)
    return JournalBatch(
        batch_id=draw(NONEMPTY),
        posting_date=draw(DAY),
        currency=currency,
        description=draw(TEXT),
        lines=tuple(
            JournalLine(
                account=draw(NONEMPTY),
                amount=draw(money(currency)),
                description=draw(TEXT),
                reference=draw(TEXT),
                tax_code=draw(TEXT),
            )
            for _ in range(draw(st.integers(0, 4)))
        ),
    )


REQUESTS: st.SearchStrategy[OmlinkRequest] = st.one_of(
    st.lists(sales_orders(), min_size=1, max_size=2).flatmap(
        lambda orders: st.lists(NONEMPTY, min_size=len(orders), max_size=len(orders)).map(
            lambda ids: SubmitOrdersRequest(orders=tuple(orders), unique_ids=tuple(ids))
        )
    ),
    st.builds(OrderStatusRequest, order_number=NONEMPTY),
    st.builds(AtsRangeRequest, product_from=TEXT, product_to=TEXT, max_rows=st.integers(0, 10_000)),
    st.builds(AtsSkusRequest, skus=st.lists(SKU, max_size=5).map(tuple)),
    st.builds(CustomerFindRequest, account_code=TEXT, email=TEXT),
    st.builds(CustomerCreateRequest, details=CUSTOMER),
    st.builds(DespatchDetailsRequest, order_number=NONEMPTY),
    st.just(DepotListRequest()),
    st.builds(PostJournalRequest, batch=journal_batches()),
)


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(request=REQUESTS)
def test_every_request_reads_back_as_written(encoding: Encoding, request: OmlinkRequest) -> None:
    schema = OmlinkSchema(extended_orders=True, ats_max_rows_attribute="MaxRows")
    codec = OmlinkCodec(schema, encoding=encoding)
    text = codec.encode_request(request)
    assert text.startswith(f'<?xml version="1.0" encoding="{encoding.value}"?>')
    if encoding is Encoding.ISO_8859_1:
        text.encode("latin-1")  # everything else went out as character references
    assert codec.decode_request(text) == request


@pytest.mark.parametrize("encoding", ENCODINGS)
@given(text=st.text(_XML_CHARS, max_size=60))
@example(text=HOSTILE_TEXT)
@example(text="&amp; &lt; &#38; &unknown; <![CDATA[x]]> <!-- c -->")
def test_any_text_survives_escaping(encoding: Encoding, text: str) -> None:
    codec = OmlinkCodec(encoding=encoding)
    request = CustomerFindRequest(account_code=text, email=text)
    assert codec.decode_request(codec.encode_request(request)) == request
    reply = codec.encode_customer_find_reply(
        PrimaCustomer(account_code=text or "X", email=text, name=text)
    )
    assert codec.decode_customer_find_reply(reply) == PrimaCustomer(
        account_code=text or "X", email=text, name=text
    )


def test_characters_xml_cannot_carry_are_refused_when_building() -> None:
    with pytest.raises(PayloadError):
        OmlinkCodec().encode_request(OrderStatusRequest(order_number="A\x00B"))


def test_money_goes_out_with_the_currency_fraction_digits() -> None:
    codec = OmlinkCodec()
    batch = JournalBatch(
        batch_id="B1",
        posting_date=date(2026, 1, 31),
        currency="KWD",
        lines=(
            JournalLine(account="4000", amount=Money.of(1500, "KWD")),
            JournalLine(account="1200", amount=Money.of(-1500, "KWD")),
        ),
    )
    text = codec.encode_request(PostJournalRequest(batch=batch))
    assert 'Amount="1.500"' in text
    assert 'Amount="-1.500"' in text
    assert 'PostingDate="31/01/2026"' in text


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(max_examples=40, deadline=None)
@given(
    results=st.lists(
        st.builds(
            SubmitResult,
            order_number=NONEMPTY,
            accepted=st.booleans(),
            prima_reference=TEXT,
            error=TEXT,
        ),
        min_size=1,
        max_size=4,
        unique_by=lambda r: r.order_number,
    ),
    duplicate=st.booleans(),
)
def test_legacy_submit_replies_read_back_per_order(
    encoding: Encoding, results: list[SubmitResult], duplicate: bool
) -> None:
    codec = OmlinkCodec(encoding=encoding, dialect=ReplyDialect.LEGACY)
    results = [
        SubmitResult(
            order_number=r.order_number,
            accepted=r.accepted,
            duplicate=duplicate and r.accepted,
            prima_reference=r.prima_reference,
            # Whitespace alone is no error text: the reader looks on for one elsewhere.
            error="" if r.accepted or not r.error.strip() else short_error_text(r.error),
            raw_error="" if r.accepted or not r.error.strip() else r.error,
        )
        for r in results
    ]
    numbers = [r.order_number for r in reversed(results)]
    decoded = codec.decode_submit_reply(codec.encode_submit_reply(results), numbers)
    assert decoded == list(reversed(results))


@pytest.mark.parametrize("encoding", ENCODINGS)
@given(
    status=st.sampled_from([s for s in OrderStatus if s.known_to_prima and s != "Other"]),
    reference=TEXT,
)
def test_legacy_order_status_replies_read_back(
    encoding: Encoding, status: OrderStatus, reference: str
) -> None:
    codec = OmlinkCodec(encoding=encoding, dialect=ReplyDialect.LEGACY)
    report = OrderStatusReport(
        order_number="CT-1", status=status, raw=status.value, prima_reference=reference
    )
    assert codec.decode_order_status_reply(codec.encode_order_status_reply(report)) == report


def test_a_status_the_library_does_not_know_keeps_its_text() -> None:
    codec = OmlinkCodec()
    report = OrderStatusReport(order_number="CT-1", status=OrderStatus.OTHER, raw="Picking")
    assert codec.decode_order_status_reply(codec.encode_order_status_reply(report)) == report


STOCK = st.builds(
    StockLevel,
    sku=SKU,
    available=st.integers(-1000, 10**9),
    depot=TEXT,
    available_date=st.none() | DAY,
)


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(max_examples=40, deadline=None)
@given(levels=st.lists(STOCK, max_size=6), skus=st.booleans())
def test_stock_replies_read_back_in_order(
    encoding: Encoding, levels: list[StockLevel], skus: bool
) -> None:
    codec = OmlinkCodec(encoding=encoding)
    assert codec.decode_ats_reply(codec.encode_ats_reply(levels, skus=skus), skus=skus) == levels


PRIMA_CUSTOMER = st.builds(
    PrimaCustomer, account_code=NONEMPTY, email=TEXT, name=TEXT, external_id=TEXT
)


@pytest.mark.parametrize("encoding", ENCODINGS)
@given(customer=PRIMA_CUSTOMER, found=st.booleans())
def test_customer_replies_read_back(
    encoding: Encoding, customer: PrimaCustomer, found: bool
) -> None:
    codec = OmlinkCodec(encoding=encoding)
    maybe = customer if found else None
    assert codec.decode_customer_find_reply(codec.encode_customer_find_reply(maybe)) == maybe
    assert codec.decode_customer_create_reply(codec.encode_customer_create_reply(customer)) == (
        customer
    )


DESPATCH = st.builds(
    DespatchDetails,
    order_number=NONEMPTY,
    status=st.sampled_from([s for s in OrderStatus if s.known_to_prima and s != "Other"]),
    despatches=st.lists(
        st.builds(
            Despatch,
            despatch_id=NONEMPTY,
            despatched_on=DAY,
            lines=st.lists(
                st.builds(
                    DespatchLine,
                    line_number=st.integers(1, 99),
                    sku=SKU,
                    quantity=st.integers(0, 999),
                ),
                max_size=3,
            ).map(tuple),
            carrier=TEXT,
            carrier_service=TEXT,
            tracking_numbers=st.lists(NONEMPTY, max_size=3).map(tuple),
        ),
        max_size=3,
    ).map(tuple),
)


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(max_examples=40, deadline=None)
@given(details=DESPATCH)
def test_despatch_replies_read_back(encoding: Encoding, details: DespatchDetails) -> None:
    codec = OmlinkCodec(encoding=encoding)
    assert codec.decode_despatch_reply(codec.encode_despatch_reply(details)) == details


@pytest.mark.parametrize("encoding", ENCODINGS)
@given(depots=st.lists(st.builds(Depot, code=NONEMPTY, name=TEXT), max_size=5))
def test_depot_replies_read_back(encoding: Encoding, depots: list[Depot]) -> None:
    codec = OmlinkCodec(encoding=encoding)
    assert codec.decode_depot_list_reply(codec.encode_depot_list_reply(depots)) == depots


@pytest.mark.parametrize("encoding", ENCODINGS)
@given(result=st.builds(JournalPostingResult, batch_id=NONEMPTY, prima_reference=TEXT))
def test_journal_replies_read_back(encoding: Encoding, result: JournalPostingResult) -> None:
    codec = OmlinkCodec(encoding=encoding)
    assert codec.decode_journal_reply(codec.encode_journal_reply(result)) == result


def test_an_installation_can_rename_request_types_and_attributes() -> None:
    schema = OmlinkSchema(
        request_types=RequestTypeNames(customer_find="FindCust"),
        attribute_names={"Email": "EMailAddress", "ExtTaxVal": "TaxValue"},
    )
    codec = OmlinkCodec(schema)
    text = codec.encode_request(CustomerFindRequest(account_code="", email="x@example.com"))
    assert 'RequestType="FindCust"' in text
    assert 'EMailAddress="x@example.com"' in text
    assert codec.decode_request(text) == CustomerFindRequest(email="x@example.com")


def test_orders_carry_the_documented_attribute_names() -> None:
    from ct_prima_sync.testing._prima._factory import make_sales_order

    order = make_sales_order("CT-1001", [(SkuCode(product="TEE", matrix=("RED", "M")), 2, "WH1")])
    text = OmlinkCodec().encode_request(SubmitOrdersRequest(orders=(order,), unique_ids=("u1",)))
    for fragment in (
        'RequestType="MultiNewOrder"',
        'UniqueId="u1"',
        'OrderNumber="CT-1001"',
        'TPGUID="CT-1001"',
        "<OrderHeaderData ",
        'Currency="EUR"',
        "<OrderLineData ",
        'Product="TEE"',
        'MtrxCode1="RED"',
        'MtrxCode2="M"',
        'Quantity="2"',
        'Price="10.00"',
        'Warehouse="WH1"',
    ):
        assert fragment in text


def test_by_default_orders_carry_only_confirmed_fields() -> None:
    from ct_prima_sync.prima._xml._messages import UNCONFIRMED_ORDER_FIELDS
    from ct_prima_sync.testing._prima._factory import make_sales_order

    order = make_sales_order("CT-1", [(SkuCode(product="TEE", matrix=("RED", "M")), 2, "WH1")])
    request = SubmitOrdersRequest(orders=(order,), unique_ids=("u1",))
    default = OmlinkCodec().encode_request(request)
    extended = OmlinkCodec(OmlinkSchema(extended_orders=True)).encode_request(request)
    assert not [name for name in UNCONFIRMED_ORDER_FIELDS if f"{name}=" in default]
    assert "<OrderTaxData" not in default
    assert 'NetValue="' in extended
    assert "<OrderTaxData " in extended


def test_order_dates_are_sent_in_utc() -> None:
    from datetime import timedelta, timezone

    from ct_prima_sync.testing._prima._factory import make_sales_order

    order = make_sales_order("CT-1", [(SkuCode(product="P"), 1, "W")])
    local = datetime(2026, 3, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    order = attrs.evolve(order, order_date=local)
    codec = OmlinkCodec()
    text = codec.encode_request(SubmitOrdersRequest(orders=(order,), unique_ids=("u",)))
    assert 'OrderDate="28/02/2026 23:30:00"' in text
    decoded = codec.decode_request(text)
    assert isinstance(decoded, SubmitOrdersRequest)
    assert decoded.orders[0].order_date == local
