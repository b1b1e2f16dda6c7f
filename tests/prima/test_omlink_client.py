"""OmlinkClient over httpx.MockTransport: every gateway call, errors, retries and ambiguity."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import date

import httpx
import pytest

from ct_prima_sync.errors import (
    ConfigurationError,
    PayloadError,
    PrimaProtocolError,
    PrimaRateLimitedError,
    PrimaRejectedError,
    PrimaSoapMismatchError,
    PrimaUnavailableError,
)
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
    ManualClock,
    OmlinkClient,
    OmlinkConfig,
    OmlinkSchema,
    OrderStatus,
    OrderStatusReport,
    PrimaCustomer,
    PrimaGateway,
    RetryPolicy,
    SkuCode,
    StockLevel,
    SubmitResult,
)
from ct_prima_sync.prima._client import random_unique_id
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
    OrderStatusRequest,
    PostJournalRequest,
    SoapEnvelope,
    SubmitOrdersRequest,
)
from ct_prima_sync.testing._prima._factory import make_sales_order

ENDPOINT = "http://prima.test:8080/live/live"
TEE = SkuCode(product="TEE", matrix=("RED", "M"))
CUSTOMER = CustomerDetails(forename="Ada", surname="Lovelace", email="ada@example.com")
BATCH = JournalBatch(
    batch_id="B-1",
    posting_date=date(2026, 1, 31),
    currency="EUR",
    lines=(
        JournalLine(account="4000", amount=Money.of(1234, "EUR")),
        JournalLine(account="1200", amount=Money.of(-1234, "EUR")),
    ),
)


class MiniPrima:
    """A tiny in-test Prima built on the codec's server half; records every request."""

    def __init__(self, encoding: Encoding = Encoding.ISO_8859_1) -> None:
        self.codec = OmlinkCodec(encoding=encoding)
        self.envelope = SoapEnvelope(encoding=encoding)
        self.requests: list[OmlinkRequest] = []
        self.http: list[httpx.Request] = []
        self.company_ids: list[str | None] = []

    def reply_for(self, request: OmlinkRequest) -> str:
        codec = self.codec
        match request:
            case SubmitOrdersRequest(orders=orders):
                return codec.encode_submit_reply(
                    [
                        SubmitResult(
                            order_number=o.order_number, accepted=True, customer_code="C0000001"
                        )
                        for o in orders
                    ]
                )
            case OrderStatusRequest(order_number=number):
                if number == "missing":
                    return codec.encode_error_reply("OrderStatus", "Order not found")
                return codec.encode_order_status_reply(
                    OrderStatusReport(order_number=number, status=OrderStatus.DESPATCHED)
                )
            case DespatchDetailsRequest(order_number=number):
                return codec.encode_despatch_reply(
                    DespatchDetails(
                        order_number=number,
                        status=OrderStatus.DESPATCHED,
                        despatches=(
                            Despatch(
                                despatch_id="D1",
                                despatched_on=date(2026, 2, 1),
                                lines=(DespatchLine(line_number=1, sku=TEE, quantity=2),),
                                tracking_numbers=("TRK1",),
                            ),
                        ),
                    )
                )
            case AtsSkusRequest(skus=skus):
                return codec.encode_ats_reply(
                    [StockLevel(sku=s, available=5, depot="WH1") for s in skus], skus=True
                )
            case AtsRangeRequest():
                return codec.encode_ats_reply([StockLevel(sku=TEE, available=9)])
            case CustomerFindRequest(account_code=code):
                found = PrimaCustomer(account_code=code) if code == "C1" else None
                return codec.encode_customer_find_reply(found)
            case CustomerCreateRequest():
                return codec.encode_customer_create_reply(PrimaCustomer(account_code="C9"))
            case DepotListRequest():
                return codec.encode_depot_list_reply([Depot(code="WH1", name="Main")])
            case PostJournalRequest(batch=batch):
                return codec.encode_journal_reply(
                    JournalPostingResult(batch_id=batch.batch_id, prima_reference="J1")
                )
        raise AssertionError(request)

    def __call__(self, http_request: httpx.Request) -> httpx.Response:
        self.http.append(http_request)
        call = self.envelope.unwrap_request(http_request.content)
        self.company_ids.append(call.company_id)
        request = self.codec.decode_request(call.request)
        self.requests.append(request)
        body = self.envelope.wrap_reply(self.reply_for(request), call.operation)
        return httpx.Response(200, content=body, headers={"Content-Type": "text/xml"})


def make_client(
    handler: Callable[[httpx.Request], httpx.Response],
    clock: ManualClock | None = None,
    **settings: object,
) -> OmlinkClient:
    clock = clock or ManualClock()
    config = OmlinkConfig(endpoint=ENDPOINT, **settings)  # type: ignore[arg-type]
    return OmlinkClient(
        config,
        transport=httpx.MockTransport(handler),
        clock=clock,
        sleep=clock.sleep,
        random=lambda: 0.5,
        unique_id=lambda: "u-1",
    )


@pytest.fixture
def prima() -> MiniPrima:
    return MiniPrima()


@pytest.fixture
def client(prima: MiniPrima) -> Iterator[OmlinkClient]:
    with make_client(prima) as client:
        yield client


def test_the_client_is_a_prima_gateway(client: OmlinkClient) -> None:
    gateway: PrimaGateway = client  # mypy checks the structure, isinstance the runtime protocol
    assert isinstance(gateway, PrimaGateway)


@pytest.mark.parametrize("encoding", list(Encoding))
def test_every_gateway_call_gets_its_answer(encoding: Encoding) -> None:
    prima = MiniPrima(encoding)
    extended = OmlinkSchema(extended_orders=True)  # every field round-trips
    with make_client(prima, encoding=encoding, schema=extended) as client:
        order = make_sales_order("CT-1", [(TEE, 2, "WH1")], customer=CUSTOMER)
        assert client.submit_orders([order]) == [
            SubmitResult(order_number="CT-1", accepted=True, customer_code="C0000001")
        ]
        assert client.order_status("CT-1").status is OrderStatus.DESPATCHED
        assert client.despatch_details("CT-1").despatches[0].tracking_numbers == ("TRK1",)
        assert client.available_to_sell([TEE]) == [StockLevel(sku=TEE, available=5)]
        assert list(client.iter_available_to_sell()) == [StockLevel(sku=TEE, available=9)]
        assert client.find_customer(account_code="C1") == PrimaCustomer(account_code="C1")
        assert client.find_customer(email="nobody@example.com") is None
        assert client.create_customer(CUSTOMER) == PrimaCustomer(account_code="C9")
        assert client.list_depots() == [Depot(code="WH1", name="Main")]
        assert client.post_journal(BATCH).prima_reference == "J1"
    sent = prima.requests[0]
    assert isinstance(sent, SubmitOrdersRequest)
    assert sent.orders == (order,)
    assert sent.unique_ids == ("u-1",)
    content_type = prima.http[0].headers["Content-Type"]
    assert content_type == f"text/xml; charset={encoding.value}"


def test_a_company_id_switches_to_comwsomhandler(prima: MiniPrima) -> None:
    with make_client(prima, company_id="02") as client:
        client.list_depots()
    assert prima.company_ids == ["02"]
    assert b"comwsomhandler" in prima.http[0].content


def test_an_error_reply_to_order_status_means_unknown_to_prima(client: OmlinkClient) -> None:
    report = client.order_status("missing")
    assert report.status is OrderStatus.UNKNOWN_TO_PRIMA
    assert report.order_number == "missing"
    assert not report.status.known_to_prima


def test_an_installation_can_narrow_which_errors_mean_unknown(prima: MiniPrima) -> None:
    client = make_client(prima, unknown_order_error="no such order")
    with client, pytest.raises(PrimaRejectedError) as caught:
        client.order_status("missing")
    assert caught.value.request_error == "Order not found"


def test_ats_per_depot_is_kept_only_where_the_installation_reports_it(prima: MiniPrima) -> None:
    with make_client(prima, ats_per_depot=True) as client:
        assert client.available_to_sell([TEE]) == [StockLevel(sku=TEE, available=5, depot="WH1")]


def test_many_skus_go_out_in_chunks(prima: MiniPrima) -> None:
    skus = [SkuCode(product=f"P{i:03}") for i in range(25)]
    with make_client(prima, ats_chunk_size=10) as client:
        levels = client.available_to_sell(skus)
    assert [level.sku for level in levels] == skus
    assert [len(r.skus) for r in prima.requests if isinstance(r, AtsSkusRequest)] == [10, 10, 5]


def failing(
    exc: Exception | None = None, *, response: httpx.Response | None = None
) -> tuple[list[httpx.Request], Callable[[httpx.Request], httpx.Response]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if exc is not None:
            raise exc
        assert response is not None
        return response

    return seen, handler


def test_a_refused_connection_surely_did_not_apply_the_order() -> None:
    seen, handler = failing(httpx.ConnectError("refused"))
    with make_client(handler) as client, pytest.raises(PrimaUnavailableError) as caught:
        client.submit_orders([make_sales_order("CT-1", [(TEE, 1, "WH1")])])
    assert caught.value.may_have_been_applied is False
    assert len(seen) == 1


@pytest.mark.parametrize(
    "exc",
    [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("reset"), httpx.ReadError("reset")],
    ids=["read timeout", "server disconnected", "reset after sending"],
)
def test_a_lost_answer_to_an_order_is_ambiguous_and_never_resent(exc: Exception) -> None:
    seen, handler = failing(exc)
    with make_client(handler) as client, pytest.raises(PrimaUnavailableError) as caught:
        client.submit_orders([make_sales_order("CT-1", [(TEE, 1, "WH1")])])
    assert caught.value.may_have_been_applied is True
    assert len(seen) == 1


def test_a_server_error_after_sending_a_journal_is_ambiguous_and_not_resent() -> None:
    seen, handler = failing(response=httpx.Response(502, text="Bad Gateway"))
    with make_client(handler) as client, pytest.raises(PrimaUnavailableError) as caught:
        client.post_journal(BATCH)
    assert caught.value.may_have_been_applied is True
    assert len(seen) == 1


def test_read_only_requests_retry_with_backoff_then_give_up() -> None:
    clock = ManualClock()
    seen, handler = failing(httpx.ConnectError("refused"))
    client = make_client(handler, clock, retry=RetryPolicy(attempts=3, base_delay=1.0))
    with client, pytest.raises(PrimaUnavailableError) as caught:
        client.order_status("CT-1")
    assert caught.value.may_have_been_applied is False
    assert len(seen) == 3
    assert clock() == pytest.approx(0.75 + 1.5)  # 1 s then 2 s, jitter 0.75 with random 0.5


def test_a_read_that_fails_once_succeeds_on_retry(prima: MiniPrima) -> None:
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ReadTimeout("slow")
        return prima(request)

    with make_client(flaky) as client:
        assert client.list_depots() == [Depot(code="WH1", name="Main")]
    assert calls["n"] == 2


def test_retry_after_from_a_gateway_is_honoured_for_reads(prima: MiniPrima) -> None:
    clock = ManualClock()
    calls = {"n": 0}

    def limited(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(429, headers={"Retry-After": "7"})
        return prima(request)

    with make_client(limited, clock) as client:
        assert client.list_depots()
    assert calls["n"] == 2
    assert clock() >= 7.0


def test_a_rate_limited_order_is_surely_not_applied_and_not_resent() -> None:
    seen, handler = failing(response=httpx.Response(429, headers={"Retry-After": "3"}))
    with make_client(handler) as client, pytest.raises(PrimaRateLimitedError) as caught:
        client.submit_orders([make_sales_order("CT-1", [(TEE, 1, "WH1")])])
    assert caught.value.may_have_been_applied is False
    assert caught.value.retry_after == 3.0
    assert len(seen) == 1


def test_a_retry_after_longer_than_allowed_gives_up_at_once() -> None:
    seen, handler = failing(response=httpx.Response(503, headers={"Retry-After": "3600"}))
    with make_client(handler) as client, pytest.raises(PrimaRateLimitedError):
        client.list_depots()
    assert len(seen) == 1


def test_a_soap_client_fault_is_a_soap_mismatch_and_not_retried() -> None:
    fault = SoapEnvelope().wrap_fault("Client", "Invalid request")
    seen, handler = failing(response=httpx.Response(500, content=fault))
    with make_client(handler) as client, pytest.raises(PrimaSoapMismatchError) as caught:
        client.list_depots()
    assert len(seen) == 1
    assert isinstance(caught.value, ConfigurationError)
    assert "Invalid request" in str(caught.value)
    assert "prima probe" in str(caught.value)


def test_a_soap_client_fault_on_order_status_never_reads_as_an_unknown_order() -> None:
    # An ERROR reply means "Prima does not know the order"; a refused envelope means nothing of
    # the kind, and reading it as unknown would make the engine send the order again.
    fault = SoapEnvelope().wrap_fault("Client", "unknown element XMLRequest")
    _, handler = failing(response=httpx.Response(500, content=fault))
    with make_client(handler) as client, pytest.raises(PrimaSoapMismatchError):
        client.order_status("CT-1")


def test_a_soap_server_fault_on_an_order_is_ambiguous() -> None:
    fault = SoapEnvelope().wrap_fault("Server", "AppServer error")
    seen, handler = failing(response=httpx.Response(500, content=fault))
    with make_client(handler) as client, pytest.raises(PrimaUnavailableError) as caught:
        client.submit_orders([make_sales_order("CT-1", [(TEE, 1, "WH1")])])
    assert caught.value.may_have_been_applied is True
    assert len(seen) == 1


def test_a_wrong_endpoint_is_a_protocol_error_not_a_retry() -> None:
    seen, handler = failing(response=httpx.Response(404, text="Not Found"))
    with make_client(handler) as client, pytest.raises(PrimaProtocolError):
        client.list_depots()
    assert len(seen) == 1


def test_an_unreadable_answer_to_an_order_is_ambiguous(prima: MiniPrima) -> None:
    body = prima.envelope.wrap_reply("<Reply RequestStatus='OK'><Data OrderNumber=", "wsomhandler")
    _, handler = failing(response=httpx.Response(200, content=body))
    with make_client(handler) as client, pytest.raises(PrimaUnavailableError) as caught:
        client.submit_orders([make_sales_order("CT-1", [(TEE, 1, "WH1")])])
    assert caught.value.may_have_been_applied is True


def test_an_unreadable_answer_to_a_read_is_a_protocol_error() -> None:
    _, handler = failing(response=httpx.Response(200, text="<html>login</html>"))
    with make_client(handler) as client, pytest.raises(PrimaProtocolError):
        client.list_depots()


def test_no_rate_limit_slot_within_max_wait_means_not_sent(prima: MiniPrima) -> None:
    clock = ManualClock()
    with make_client(prima, clock, rate_limit=1.0, burst=1, max_wait=0.5) as client:
        client.list_depots()
        with pytest.raises(PrimaRateLimitedError) as caught:
            client.submit_orders([make_sales_order("CT-1", [(TEE, 1, "WH1")])])
    assert caught.value.may_have_been_applied is False
    assert len(prima.requests) == 1


def test_a_closed_client_refuses_work_and_close_is_idempotent(prima: MiniPrima) -> None:
    client = make_client(prima)
    client.close()
    client.close()
    assert client.closed
    with pytest.raises(PrimaUnavailableError) as caught:
        client.submit_orders([make_sales_order("CT-1", [(TEE, 1, "WH1")])])
    assert caught.value.may_have_been_applied is False
    assert prima.requests == []


def test_a_client_given_an_http_client_leaves_it_open(prima: MiniPrima) -> None:
    http = httpx.Client(transport=httpx.MockTransport(prima))
    with OmlinkClient(OmlinkConfig(endpoint=ENDPOINT), http=http) as client:
        client.list_depots()
    assert not http.is_closed
    http.close()


def test_credentials_are_sent_but_never_shown(prima: MiniPrima) -> None:
    with make_client(
        prima, username="svc", password="s3cret", header_name="X-Api-Key", header_value="k3y"
    ) as client:
        client.list_depots()
        assert "s3cret" not in repr(client.config)
        assert "k3y" not in repr(client.config)
        assert "s3cret" not in repr(client)
    headers = prima.http[0].headers
    assert headers["Authorization"].startswith("Basic ")
    assert headers["X-Api-Key"] == "k3y"


def test_logs_name_the_request_but_no_personal_data(
    prima: MiniPrima, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ct_prima_sync.prima")
    with make_client(prima) as client:
        client.create_customer(CUSTOMER)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "CustomerCreate" in text
    assert "200" in text
    for secret in ("Ada", "Lovelace", "ada@example.com"):
        assert secret not in caplog.text
    assert caplog.records[0].prima_request_type == "CustomerCreate"  # type: ignore[attr-defined]


def test_find_customer_needs_something_to_find(client: OmlinkClient) -> None:
    with pytest.raises(PayloadError):
        client.find_customer()


def test_an_empty_batch_of_orders_sends_nothing(prima: MiniPrima, client: OmlinkClient) -> None:
    assert client.submit_orders([]) == []
    assert prima.requests == []


def test_a_closed_shared_http_client_means_not_sent(prima: MiniPrima) -> None:
    http = httpx.Client(transport=httpx.MockTransport(prima))
    http.close()
    client = OmlinkClient(OmlinkConfig(endpoint=ENDPOINT), http=http)
    with client, pytest.raises(PrimaUnavailableError) as caught:
        client.post_journal(BATCH)
    assert caught.value.may_have_been_applied is False


def test_a_soap_mismatch_reads_as_one_line_however_long_the_fault() -> None:
    fault = "Error in SOAP request\n  element XMLRequest\tunknown\n" + "x" * 1000
    error = PrimaSoapMismatchError(fault, request_type="OrderStatus")
    assert "\n" not in str(error)
    assert "Error in SOAP request element XMLRequest unknown" in str(error)
    assert len(str(error)) < 600
    assert error.fault == fault


def test_the_default_unique_ids_are_random_version_4_uuids_in_hex() -> None:
    ids = [random_unique_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for unique_id in ids:
        parsed = uuid.UUID(hex=unique_id)
        assert parsed.hex == unique_id
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
    # Every other bit is random: each of them is seen both set and clear.
    values = [int(unique_id, 16) for unique_id in ids]
    fixed = {79, 78, 77, 76, 63, 62}  # the version nibble and the variant bits
    for bit in set(range(128)) - fixed:
        seen = {(v >> bit) & 1 for v in values}
        assert seen == {0, 1}, bit
