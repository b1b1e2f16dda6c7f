"""The omlink client against the Prima emulator over real HTTP on 127.0.0.1: every request type,
both encodings, and the failures that decide exactly-once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import attrs
import httpx
import pytest

from ct_prima_sync.errors import PrimaProtocolError, PrimaRejectedError, PrimaUnavailableError
from ct_prima_sync.money import Money
from ct_prima_sync.prima import (
    CustomerDetails,
    Depot,
    Encoding,
    JournalBatch,
    JournalLine,
    ManualClock,
    OmlinkClient,
    OmlinkConfig,
    OmlinkSchema,
    OrderStatus,
    PostalAddress,
    PrimaCustomer,
    SkuCode,
    StockLevel,
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
POLO = SkuCode(product="POLO2", matrix=("RÖT", "L"))
CUSTOMER = CustomerDetails(
    forename="Zoë",
    surname="O'Brien & Søn <Ltd>",
    email="zoe@example.com",
    address=PostalAddress(lines=("1 Rue de l'Église", "東京"), post_code="75001", country="FR"),
    external_id="ct-customer-1",
)


def new_world() -> PrimaWorld:
    world = PrimaWorld()
    world.add_depot("WH1", "Main")
    world.add_depot("WH2", "North")
    for sku in (TEE, POLO):
        world.add_product(sku)
        world.set_stock(sku, "WH1", 50)
        world.set_stock(sku, "WH2", 5)
    return world


@pytest.fixture
def world() -> PrimaWorld:
    return new_world()


@pytest.fixture
def emulator(world: PrimaWorld) -> PrimaEmulator:
    return PrimaEmulator(world, sleep=lambda _: None, timeout_hold=1.0)


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One connection pool for the module (building an httpx client costs ~0.1 s)."""
    with httpx.Client() as http:
        yield http


@pytest.fixture(params=list(Encoding), ids=[e.value for e in Encoding])
def client(
    request: pytest.FixtureRequest, emulator: PrimaEmulator, http: httpx.Client
) -> Iterator[OmlinkClient]:
    clock = ManualClock()
    with emulator.serve() as url:
        config = OmlinkConfig(
            endpoint=f"{url}/live/live",
            encoding=request.param,
            # Generous: a loaded machine must not turn a slow reply into a timeout, which a read
            # would retry past the fault under test. The timeout test shortens it on purpose.
            read_timeout=30.0,
            connect_timeout=2.0,
            ats_per_depot=True,
            ats_chunk_size=3,
            rate_limit=1000,
            burst=100,
            schema=OmlinkSchema(extended_orders=True),  # every field round-trips
        )
        with OmlinkClient(config, http=http, sleep=clock.sleep, clock=clock) as client:
            yield client


def test_every_request_type_round_trips_over_loopback(
    client: OmlinkClient, world: PrimaWorld
) -> None:
    order = make_sales_order("CT-1001", [(TEE, 2, "WH1"), (POLO, 1, "WH2")], customer=CUSTOMER)

    [result] = client.submit_orders([order])
    assert result.accepted
    assert not result.duplicate
    assert world.order("CT-1001").order == order  # every field arrived intact

    assert client.order_status("CT-1001").status is OrderStatus.OUTSTANDING
    assert client.order_status("CT-404").status is OrderStatus.UNKNOWN_TO_PRIMA

    world.despatch("CT-1001", {1: 2}, carrier="DPD", tracking_numbers=("TRK-1",))
    details = client.despatch_details("CT-1001")
    assert details.status is OrderStatus.PART_DESPATCHED
    assert details.despatches[0].tracking_numbers == ("TRK-1",)
    assert details.despatches[0].lines[0].quantity == 2

    levels = client.available_to_sell([TEE, POLO])
    assert StockLevel(sku=TEE, available=48, depot="WH1") in levels
    assert StockLevel(sku=POLO, available=4, depot="WH2") in levels
    assert sorted(client.iter_available_to_sell(), key=repr) == sorted(levels, key=repr)

    created = client.create_customer(CUSTOMER)
    assert created.account_code
    assert client.find_customer(account_code=created.account_code) == created
    by_email = client.find_customer(email="zoe@example.com")
    assert by_email is not None
    assert by_email.email == "zoe@example.com"
    assert client.find_customer(account_code="NOPE") is None

    assert client.list_depots() == [Depot(code="WH1", name="Main"), Depot(code="WH2", name="North")]

    batch = JournalBatch(
        batch_id="B-2026-01",
        posting_date=date(2026, 1, 31),
        currency="EUR",
        lines=(
            JournalLine(account="4000", amount=Money.of(2999, "EUR"), description="Ventes €"),
            JournalLine(account="1200", amount=Money.of(-2999, "EUR")),
        ),
    )
    first = client.post_journal(batch)
    again = client.post_journal(batch)
    assert not first.duplicate
    assert again.duplicate
    assert again.prima_reference == first.prima_reference
    assert world.journals() == [batch]


def test_a_resent_order_number_is_refused_with_e21(client: OmlinkClient) -> None:
    order = make_sales_order("CT-7", [(TEE, 1, "WH1")])
    [first] = client.submit_orders([order])
    [again] = client.submit_orders([order])
    assert first.accepted
    assert not again.accepted
    assert [c.code for c in again.error_codes] == ["E:21"]
    assert "Stack Trace" not in again.error
    assert "Stack Trace" in again.raw_error


def test_a_business_rejection_comes_back_typed(client: OmlinkClient) -> None:
    unbalanced = JournalBatch(
        batch_id="B-bad",
        posting_date=date(2026, 1, 31),
        currency="EUR",
        lines=(JournalLine(account="4000", amount=Money.of(1, "EUR")),),
    )
    with pytest.raises(PrimaRejectedError):
        client.post_journal(unbalanced)


def test_an_order_whose_reply_was_lost_is_ambiguous_and_status_resolves_it(
    client: OmlinkClient, emulator: PrimaEmulator, world: PrimaWorld
) -> None:
    emulator.faults.script(
        PrimaRequestKind.SUBMIT_ORDERS, PrimaFault(kind=PrimaFaultKind.REPLY_LOST)
    )
    with pytest.raises(PrimaUnavailableError) as caught:
        client.submit_orders([make_sales_order("CT-9", [(TEE, 1, "WH1")])])
    assert caught.value.may_have_been_applied is True
    assert world.submission_count("CT-9") == 1  # the client did not re-send
    assert client.order_status("CT-9").status.known_to_prima


def test_a_timeout_on_an_order_is_ambiguous(
    client: OmlinkClient, emulator: PrimaEmulator, world: PrimaWorld, http: httpx.Client
) -> None:
    emulator.faults.script(PrimaRequestKind.SUBMIT_ORDERS, PrimaFault(kind=PrimaFaultKind.TIMEOUT))
    # The emulator holds a timed-out reply for 1 s; a quarter of that is surely too short.
    impatient = attrs.evolve(client.config, read_timeout=0.25)
    with (
        OmlinkClient(impatient, http=http) as short,
        pytest.raises(PrimaUnavailableError) as caught,
    ):
        short.submit_orders([make_sales_order("CT-10", [(TEE, 1, "WH1")])])
    assert caught.value.may_have_been_applied is True
    assert world.submission_count("CT-10") <= 1


def test_reads_ride_out_transient_faults(client: OmlinkClient, emulator: PrimaEmulator) -> None:
    emulator.faults.script(
        PrimaRequestKind.LIST_DEPOTS,
        PrimaFault(kind=PrimaFaultKind.SERVER_ERROR),
        PrimaFault(kind=PrimaFaultKind.RATE_LIMITED, retry_after=1),
    )
    assert [d.code for d in client.list_depots()] == ["WH1", "WH2"]
    assert emulator.faults.count(PrimaRequestKind.LIST_DEPOTS) == 3


@pytest.mark.parametrize(
    "kind",
    [
        PrimaFaultKind.TRUNCATED_XML,
        PrimaFaultKind.WRONG_ROOT,
        PrimaFaultKind.BILLION_LAUGHS,
        PrimaFaultKind.EXTERNAL_ENTITY,
    ],
)
@pytest.mark.parametrize("in_reply", [False, True], ids=["as body", "inside SOAP"])
def test_hostile_replies_over_the_wire_give_typed_errors(
    client: OmlinkClient, emulator: PrimaEmulator, kind: PrimaFaultKind, in_reply: bool
) -> None:
    emulator.faults.script(PrimaRequestKind.ORDER_STATUS, PrimaFault(kind=kind, in_reply=in_reply))
    with pytest.raises(PrimaProtocolError):
        client.order_status("CT-1")
    assert emulator.faults.count(PrimaRequestKind.ORDER_STATUS) == 1  # refused, not retried past


def test_customers_created_carry_no_personal_data_into_errors(client: OmlinkClient) -> None:
    customer = client.create_customer(CUSTOMER)
    assert isinstance(customer, PrimaCustomer)
    assert "zoe@example.com" not in repr(customer)
