"""The replies a real Prima installation gave, read through the codec and through the client
over loopback HTTP (strings in tests/prima/real_replies.py, written from the public logs)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING

import pytest

from ct_prima_sync.errors import PrimaProtocolError, PrimaRejectedError, PrimaUnavailableError
from ct_prima_sync.prima import (
    ErrorCodeMeaning,
    ErrorCodeTable,
    OmlinkClient,
    OmlinkConfig,
    OmlinkSchema,
    OrderStatus,
    PrimaErrorCode,
    SkuCode,
    StockLevel,
    parse_error_codes,
)
from ct_prima_sync.prima._xml import Encoding, OmlinkCodec, SoapEnvelope
from ct_prima_sync.testing._prima._factory import make_sales_order
from ct_prima_sync.testing._prima._http import serve_wsgi

from . import real_replies as real

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

ETOS_F_050 = SkuCode(product="ETOS", matrix=("F", "050"))
ETOS_F_060 = SkuCode(product="ETOS", matrix=("F", "060"))


@pytest.fixture
def codec() -> OmlinkCodec:
    return OmlinkCodec()


# -- through the codec ---------------------------------------------------------------------------


def test_an_accepted_order_carries_the_customer_code_prima_chose(codec: OmlinkCodec) -> None:
    [result] = codec.decode_submit_reply(real.ACCEPTED_WITH_CUSTOMER_CODE, ["WEB-100045"])
    assert result.accepted
    assert result.customer_code == "0000367612"
    assert result.prima_reference == ""
    assert result.error_codes == ()


def test_e21_is_a_per_order_refusal_with_its_code_and_no_stack_trace(codec: OmlinkCodec) -> None:
    [result] = codec.decode_submit_reply(real.E21_DUPLICATE, ["WEB-100045"])
    assert not result.accepted
    assert not result.duplicate
    assert result.error_codes == (
        PrimaErrorCode(
            code="E:21",
            message="Sales Order Header already exists with Order Number equal to WEB-100045",
        ),
    )
    assert result.error == (
        "(E:21) Sales Order Header already exists with Order Number equal to WEB-100045"
    )
    assert "DEV MODE Stack Trace" in result.raw_error


def test_follow_on_codes_and_the_price_book_code_are_all_listed(codec: OmlinkCodec) -> None:
    [result] = codec.decode_submit_reply(real.E194_AND_E548, ["WEB-100046"])
    assert [c.code for c in result.error_codes] == ["E:194", "E:194", "E:548", "E:194"]
    assert result.error_codes[2].message == (
        "Price obtained from the Price Book has a different VAT Incl Prices Value to the Sales "
        "Order"
    )
    assert all("Stack Trace" not in c.message for c in result.error_codes)
    table = OmlinkSchema().error_codes
    assert table.deciding(result.error_codes) == result.error_codes[2]
    assert table.decide(result.error_codes) is ErrorCodeMeaning.PRICE_BOOK_MISMATCH
    assert result.raw_error.count("\n") == 3


def test_a_whole_request_refusal_reads_the_error_attribute(codec: OmlinkCodec) -> None:
    with pytest.raises(PrimaRejectedError) as caught:
        codec.decode_submit_reply(real.WHOLE_REQUEST_SAX_ERROR, ["WEB-1"])
    assert caught.value.request_error == real.SAX_TEXT
    assert caught.value.codes == ()
    assert caught.value.request_type == "MultiNewOrder"


def test_error_texts_are_read_in_order_of_preference(codec: OmlinkCodec) -> None:
    def refused(attrs: str, child: str = "") -> str:
        body = f"<Result {attrs}>{child}</Result>" if child else f"<Result {attrs}/>"
        return real.DECLARATION + body

    child_first = refused(
        'Error="root" RequestError="attr" RequestStatus="ERROR" RequestType="OrderStatus"',
        '<RequestError Error="child"/>',
    )
    root_next = refused('Error="root" RequestError="attr" RequestStatus="ERROR"')
    attribute_last = refused('RequestError="attr" RequestStatus="ERROR"')
    for text, expected in ((child_first, "child"), (root_next, "root"), (attribute_last, "attr")):
        with pytest.raises(PrimaRejectedError) as caught:
            codec.decode_order_status_reply(text)
        assert caught.value.request_error == expected


def test_error_text_is_decoded_from_iso_8859_1(codec: OmlinkCodec) -> None:
    text = real.E21_DUPLICATE.replace("Sales Order Header", "Commande déjà saisie £")
    [result] = codec.decode_submit_reply(text.encode("iso-8859-1"), ["WEB-100045"])
    assert result.error_codes[0].message.startswith("Commande déjà saisie £")


def test_multi_ats_reads_sku_rows_and_the_date_on_a_zero_row(codec: OmlinkCodec) -> None:
    levels = codec.decode_ats_reply(real.MULTI_ATS_SKU_ROWS, skus=True)
    assert levels == [
        StockLevel(sku=ETOS_F_050, available=1),
        StockLevel(sku=ETOS_F_060, available=0, available_date=date(2019, 3, 14)),
    ]


def test_the_whole_catalogue_reads_lower_case_sku_rows(codec: OmlinkCodec) -> None:
    levels = codec.decode_ats_reply(real.catalogue_sku_rows(5395))
    assert len(levels) == 5395
    assert levels[0] == StockLevel(
        sku=SkuCode(product="P00000", matrix=("C00", "000")), available=0
    )


def test_order_status_is_read_from_result_data(codec: OmlinkCodec) -> None:
    report = codec.decode_order_status_reply(real.ORDER_STATUS_PART_DESPATCHED)
    assert report.status is OrderStatus.PART_DESPATCHED
    assert report.order_number == "WEB-100045"


def test_a_reply_with_no_per_order_results_is_a_protocol_error(codec: OmlinkCodec) -> None:
    with pytest.raises(PrimaProtocolError, match="neither a RequestStatus nor a result"):
        codec.decode_submit_reply(real.NO_PER_ORDER_RESULTS, ["WEB-1"])
    blank = real.ACCEPTED_WITH_CUSTOMER_CODE.replace(' RequestStatus="OK"', "")
    with pytest.raises(PrimaProtocolError, match="RequestStatus"):
        codec.decode_submit_reply(blank, ["WEB-100045"])
    with pytest.raises(PrimaProtocolError, match="no result for 1 order"):
        codec.decode_submit_reply(real.ACCEPTED_WITH_CUSTOMER_CODE, ["WEB-100045", "WEB-9"])


def _tight(text: str) -> str:
    return text.replace(" />", "/>")  # ElementTree writes a space before "/>"; Prima does not


def test_the_emulator_writes_what_the_real_installation_wrote(codec: OmlinkCodec) -> None:
    [accepted] = codec.decode_submit_reply(real.ACCEPTED_WITH_CUSTOMER_CODE, ["WEB-100045"])
    written = codec.encode_submit_reply([accepted], ["9c1d2e3f4a5b"])
    assert _tight(written) == real.ACCEPTED_WITH_CUSTOMER_CODE
    levels = codec.decode_ats_reply(real.MULTI_ATS_SKU_ROWS, skus=True)
    assert _tight(codec.encode_ats_reply(levels, skus=True)) == real.MULTI_ATS_SKU_ROWS
    error = codec.encode_error_reply("MultiNewOrder", real.SAX_TEXT)
    assert _tight(error) == real.WHOLE_REQUEST_SAX_ERROR


def test_error_codes_parse_whatever_the_spacing() -> None:
    assert parse_error_codes("( E : 21 )  already exists\n") == (
        PrimaErrorCode(code="E:21", message="already exists"),
    )
    assert parse_error_codes("no code here") == ()


def test_the_code_table_is_configuration() -> None:
    table = ErrorCodeTable(duplicate_order_number=["E:21", "E:9021"], follow_on=[])
    assert table.meaning("E:9021") is ErrorCodeMeaning.DUPLICATE_ORDER_NUMBER
    assert table.meaning("E:194") is ErrorCodeMeaning.UNKNOWN
    only_follow_on = parse_error_codes("(E:194) a (E:194) b")
    assert OmlinkSchema().error_codes.decide(only_follow_on) is ErrorCodeMeaning.UNKNOWN


# -- through the client, over loopback HTTP ------------------------------------------------------


class _Canned:
    """A WSGI app answering each SOAP POST with the next canned reply string."""

    def __init__(self, replies: Iterable[str]) -> None:
        self._replies = list(replies)
        self._envelope = SoapEnvelope(encoding=Encoding.ISO_8859_1)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"].read(length)
        body = self._envelope.wrap_reply(self._replies.pop(0))
        start_response("200 OK", [("Content-Type", self._envelope.content_type)])
        return [body]


@contextmanager
def _client(*replies: str) -> Iterator[OmlinkClient]:
    with serve_wsgi(_Canned(replies), "127.0.0.1", 1.0) as url:
        config = OmlinkConfig(endpoint=url + "/live/live", rate_limit=1000.0, burst=100)
        with OmlinkClient(config) as client:
            yield client


def test_the_client_reads_every_real_shape_over_http() -> None:
    order = make_sales_order("WEB-100045", [(ETOS_F_050, 1, "WH1")])
    other = make_sales_order("WEB-100046", [(ETOS_F_050, 1, "WH1")])
    with _client(
        real.ACCEPTED_WITH_CUSTOMER_CODE,
        real.E21_DUPLICATE,
        real.E194_AND_E548,
        real.MULTI_ATS_SKU_ROWS,
        real.catalogue_sku_rows(50),
        real.ORDER_STATUS_PART_DESPATCHED,
    ) as client:
        [accepted] = client.submit_orders([order])
        [duplicate] = client.submit_orders([order])
        [price_book] = client.submit_orders([other])
        stock = client.available_to_sell([ETOS_F_050, ETOS_F_060])
        catalogue = list(client.iter_available_to_sell(chunk_size=1000))
        status = client.order_status("WEB-100045")
    assert accepted.customer_code == "0000367612"
    assert [c.code for c in duplicate.error_codes] == ["E:21"]
    assert [c.code for c in price_book.error_codes] == ["E:194", "E:194", "E:548", "E:194"]
    assert [level.available_date for level in stock] == [None, date(2019, 3, 14)]
    assert len(catalogue) == 50
    assert status.status is OrderStatus.PART_DESPATCHED


def test_the_client_raises_a_whole_request_refusal_typed_over_http() -> None:
    order = make_sales_order("WEB-1", [(ETOS_F_050, 1, "WH1")])
    with _client(real.WHOLE_REQUEST_SAX_ERROR, real.NO_PER_ORDER_RESULTS) as client:
        with pytest.raises(PrimaRejectedError, match="SAX parser error"):
            client.submit_orders([order])
        with pytest.raises(PrimaUnavailableError) as caught:
            client.submit_orders([order])
    assert caught.value.may_have_been_applied
