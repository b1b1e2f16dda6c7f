"""One scripted scenario, two Primas: the in-memory fake and the emulator over omlink HTTP.

The emulator is driven through the real OmlinkClient (in process, over the emulator's httpx
transport), so any disagreement between the fake and the client on the wire shows up here. The
client's retries are off so that each scripted fault meets exactly one request.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import attrs
import pytest

from ct_prima_sync.errors import PrimaRateLimitedError, PrimaRejectedError, PrimaUnavailableError
from ct_prima_sync.money import Money
from ct_prima_sync.prima import (
    CustomerDetails,
    Encoding,
    JournalBatch,
    JournalLine,
    OmlinkClient,
    OmlinkConfig,
    OrderStatus,
    PrimaGateway,
    PrimaOrderChanges,
    RetryPolicy,
    ReturnLine,
    SkuCode,
)
from ct_prima_sync.testing import (
    FakePrima,
    PrimaEmulator,
    PrimaFault,
    PrimaFaultKind,
    PrimaRequestKind,
    PrimaWorld,
    make_sales_order,
)

TEE_M = SkuCode(product="TEE1", matrix=("BLK", "M"))
TEE_L = SkuCode(product="TEE1", matrix=("BLK", "L"))
CAP = SkuCode(product="CAP9")


def _world() -> PrimaWorld:
    world = PrimaWorld()
    world.add_depot("WH1", "Main")
    world.add_depot("WH2", "North")
    for sku in (TEE_M, TEE_L, CAP):
        world.add_product(sku)
        world.set_stock(sku, "WH1", 10)
        world.set_stock(sku, "WH2", 2)
    world.add_customer(account_code="C100", email="known@example.test", name="Known")
    return world


Prima = tuple[PrimaGateway, FakePrima | PrimaEmulator]


@pytest.fixture(params=["fake", "emulator-latin1", "emulator-utf8"])
def prima(request: pytest.FixtureRequest) -> Iterator[Prima]:
    world = _world()
    if request.param == "fake":
        fake = FakePrima(world, sleep=lambda _: None)
        yield fake, fake
        return
    emulator = PrimaEmulator(world, sleep=lambda _: None)
    encoding = Encoding.UTF_8 if request.param.endswith("utf8") else Encoding.ISO_8859_1
    with OmlinkClient(
        _config(encoding), transport=emulator.transport(), sleep=lambda _: None
    ) as client:
        yield client, emulator


def _config(encoding: Encoding, attempts: int = 1) -> OmlinkConfig:
    return OmlinkConfig(
        endpoint="http://prima.test/omlink/omlink",
        encoding=encoding,
        ats_per_depot=True,
        ats_chunk_size=5,
        rate_limit=1_000_000.0,
        burst=1_000,
        retry=RetryPolicy(attempts=attempts),
    )


def test_the_same_scenario_gives_the_same_answers(prima: Prima) -> None:
    gateway, driver = prima
    results = gateway.submit_orders(
        [
            make_sales_order("WEB-1", [(TEE_M, 3, "WH1"), (CAP, 1, "WH2")]),
            make_sales_order(
                "WEB-2", [(TEE_L, 1, "WH1")], customer=CustomerDetails(account_code="C100")
            ),
            make_sales_order("WEB-3", [(SkuCode(product="NOPE"), 1, "WH1")]),
        ]
    )
    results += gateway.submit_orders(
        [make_sales_order("WEB-1", [(TEE_M, 3, "WH1"), (CAP, 1, "WH2")])]
    )
    assert [(r.accepted, [c.code for c in r.error_codes]) for r in results] == [
        (True, []),
        (True, []),
        (False, []),
        (False, ["E:21"]),
    ]
    assert results[0].customer_code == driver.order("WEB-1").account_code
    assert results[1].customer_code == "C100"
    assert "unknown product NOPE" in results[2].error
    assert gateway.order_status("WEB-3").status is OrderStatus.UNKNOWN_TO_PRIMA

    levels = {(lv.sku, lv.depot): lv.available for lv in gateway.available_to_sell([TEE_M, CAP])}
    assert levels == {(TEE_M, "WH1"): 7, (TEE_M, "WH2"): 2, (CAP, "WH1"): 10, (CAP, "WH2"): 1}

    driver.authorise("WEB-1")
    driver.despatch(
        "WEB-1", {1: 1}, carrier="DPD", tracking_numbers=["1Z&<'9"], on=date(2026, 3, 2)
    )
    assert gateway.order_status("WEB-1").status is OrderStatus.PART_DESPATCHED
    driver.despatch("WEB-1", carrier="DPD", tracking_numbers=["1Z2"], on=date(2026, 3, 3))
    details = gateway.despatch_details("WEB-1")
    assert details.status is OrderStatus.DESPATCHED
    assert [d.tracking_numbers for d in details.despatches] == [("1Z&<'9",), ("1Z2",)]
    assert [[(ln.line_number, ln.quantity) for ln in d.lines] for d in details.despatches] == [
        [(1, 1)],
        [(1, 2), (2, 1)],
    ]
    driver.invoice("WEB-1")
    driver.cancel("WEB-2")
    assert gateway.order_status("WEB-1").status is OrderStatus.INVOICED
    assert gateway.order_status("WEB-2").status is OrderStatus.CANCELLED

    catalogue = {(lv.sku, lv.depot): lv.available for lv in gateway.iter_available_to_sell()}
    assert catalogue[(TEE_M, "WH1")] == 7
    assert catalogue[(TEE_L, "WH1")] == 10  # WEB-2 was cancelled
    assert driver.world.on_hand(TEE_M, "WH1") == 7
    assert [driver.submission_count(n) for n in ("WEB-1", "WEB-2", "WEB-3")] == [2, 1, 1]


def test_customers_depots_and_journals_agree(prima: Prima) -> None:
    gateway, _ = prima
    created = gateway.create_customer(
        CustomerDetails(email="zoë@example.test", forename="Zoë", external_id="ct-9")
    )
    assert created.account_code == "C000001"
    assert gateway.find_customer(email="ZOË@example.test") == created
    assert gateway.find_customer(account_code="C100") is not None
    assert gateway.find_customer(account_code="NOPE") is None
    assert [d.code for d in gateway.list_depots()] == ["WH1", "WH2"]
    batch = JournalBatch(
        batch_id="B-1",
        posting_date=date(2026, 1, 31),
        currency="EUR",
        lines=(
            JournalLine(account="4000", amount=Money.of(1999, "EUR"), reference="WEB-1"),
            JournalLine(account="1100", amount=Money.of(-1999, "EUR"), reference="WEB-1"),
        ),
    )
    first = gateway.post_journal(batch)
    again = gateway.post_journal(batch)
    assert (first.duplicate, again.duplicate) == (False, True)
    assert first.prima_reference == again.prima_reference
    with pytest.raises(PrimaRejectedError, match="not found"):
        gateway.despatch_details("NOPE")


def test_a_reply_lost_after_submit_is_ambiguous_and_the_order_is_in_prima(prima: Prima) -> None:
    gateway, driver = prima
    driver.faults.on_nth(
        PrimaRequestKind.SUBMIT_ORDERS, 1, PrimaFault(kind=PrimaFaultKind.REPLY_LOST)
    )
    with pytest.raises(PrimaUnavailableError) as raised:
        gateway.submit_orders([make_sales_order("WEB-1", [(TEE_M, 1, "WH1")])])
    assert raised.value.may_have_been_applied
    assert gateway.order_status("WEB-1").status is OrderStatus.OUTSTANDING
    assert driver.submission_count("WEB-1") == 1


@pytest.mark.parametrize(
    ("fault", "may_have_been_applied"),
    [
        (PrimaFault(kind=PrimaFaultKind.CONNECTION_RESET), False),
        (PrimaFault(kind=PrimaFaultKind.TIMEOUT), True),
        (PrimaFault(kind=PrimaFaultKind.SERVER_ERROR, status=503), True),
        (PrimaFault(kind=PrimaFaultKind.SERVER_ERROR, status=500), True),
        (PrimaFault(kind=PrimaFaultKind.RATE_LIMITED, retry_after=3), False),
    ],
)
def test_faults_that_hit_before_prima_applies_leave_no_order(
    prima: Prima, fault: PrimaFault, may_have_been_applied: bool
) -> None:
    gateway, driver = prima
    driver.faults.script(PrimaRequestKind.SUBMIT_ORDERS, fault)
    with pytest.raises(PrimaUnavailableError) as raised:
        gateway.submit_orders([make_sales_order("WEB-1", [(TEE_M, 1, "WH1")])])
    assert raised.value.may_have_been_applied is may_have_been_applied
    assert gateway.order_status("WEB-1").status is OrderStatus.UNKNOWN_TO_PRIMA
    assert driver.world.available(TEE_M, "WH1") == 10
    [record] = driver.requests(PrimaRequestKind.SUBMIT_ORDERS)
    assert (record.applied, record.fault) == (False, fault.kind.value)


def test_an_error_reply_is_a_business_rejection_with_the_scripted_text(prima: Prima) -> None:
    gateway, driver = prima
    driver.faults.script(None, PrimaFault(kind=PrimaFaultKind.ERROR_REPLY, message="Depot closed"))
    with pytest.raises(PrimaRejectedError, match="Depot closed"):
        gateway.list_depots()
    assert len(gateway.list_depots()) == 2


def test_seeded_random_faults_hit_the_same_requests(prima: Prima) -> None:
    gateway, driver = prima
    driver.faults.random(5, {PrimaFaultKind.SERVER_ERROR: 0.3, PrimaFaultKind.LATENCY: 0.2})
    outcomes = []
    for _ in range(20):
        try:
            gateway.list_depots()
            outcomes.append("ok")
        except PrimaUnavailableError:
            outcomes.append("error")
    assert [f.nth for f in driver.faults.fired if f.fault.kind is PrimaFaultKind.SERVER_ERROR] == [
        n for n, o in enumerate(outcomes, start=1) if o == "error"
    ]
    assert outcomes == _seed_5_outcomes()


def _seed_5_outcomes() -> list[str]:
    fake = FakePrima(_world(), sleep=lambda _: None)
    fake.faults.random(5, {PrimaFaultKind.SERVER_ERROR: 0.3, PrimaFaultKind.LATENCY: 0.2})
    outcomes = []
    for _ in range(20):
        try:
            fake.list_depots()
            outcomes.append("ok")
        except PrimaUnavailableError:
            outcomes.append("error")
    return outcomes


def test_rate_limiting_carries_retry_after(prima: Prima) -> None:
    gateway, driver = prima
    driver.faults.script(None, PrimaFault(kind=PrimaFaultKind.RATE_LIMITED, retry_after=9))
    with pytest.raises(PrimaRateLimitedError) as raised:
        gateway.list_depots()
    assert raised.value.retry_after == 9
    assert not raised.value.may_have_been_applied


@pytest.mark.parametrize("kind", [PrimaFaultKind.TRUNCATED_XML, PrimaFaultKind.EXTERNAL_ENTITY])
def test_an_unreadable_answer_to_a_submit_is_ambiguous_and_the_order_stands(
    prima: Prima, kind: PrimaFaultKind
) -> None:
    gateway, driver = prima
    driver.faults.script(None, PrimaFault(kind=kind, applied=True))
    with pytest.raises(PrimaUnavailableError) as raised:
        gateway.submit_orders([make_sales_order("WEB-1", [(TEE_M, 1, "WH1")])])
    assert raised.value.may_have_been_applied
    assert gateway.order_status("WEB-1").status is OrderStatus.OUTSTANDING


def test_the_client_retries_a_read_through_scripted_server_errors() -> None:
    emulator = PrimaEmulator(_world(), sleep=lambda _: None)
    emulator.faults.script(
        PrimaRequestKind.LIST_DEPOTS,
        PrimaFault(kind=PrimaFaultKind.SERVER_ERROR),
        PrimaFault(kind=PrimaFaultKind.TIMEOUT),
    )
    slept: list[float] = []
    with OmlinkClient(
        _config(Encoding.ISO_8859_1, attempts=3),
        transport=emulator.transport(),
        sleep=slept.append,
        random=lambda: 0.0,
    ) as client:
        assert [d.code for d in client.list_depots()] == ["WH1", "WH2"]
    assert len(emulator.requests(PrimaRequestKind.LIST_DEPOTS)) == 3
    assert len(slept) == 2


def test_despatch_cancellation_and_the_shops_changes_agree(prima: Prima) -> None:
    gateway, driver = prima
    assert isinstance(gateway, PrimaOrderChanges)
    gateway.submit_orders(
        [
            make_sales_order("WEB-1", [(TEE_M, 3, "WH1"), (CAP, 1, "WH1")]),
            make_sales_order("WEB-2", [(TEE_L, 1, "WH1")]),
            make_sales_order("WEB-3", [(TEE_L, 2, "WH1")]),
        ]
    )
    driver.report_status_as("WEB-1", "  PART  despatched ")
    status = gateway.order_status("WEB-1")
    assert (status.status, status.raw) == (OrderStatus.PART_DESPATCHED, "  PART  despatched ")
    driver.report_status_as("WEB-1", "Picking")
    assert gateway.order_status("WEB-1").status is OrderStatus.OTHER
    driver.despatch("WEB-1", {1: 2}, carrier="DPD", tracking_numbers=["P1", "P2"])
    assert gateway.order_status("WEB-1").raw == "Part Despatched"
    driver.cancel("WEB-1", rest=True)
    details = gateway.despatch_details("WEB-1")
    assert details.status is OrderStatus.CANCELLED
    assert [d.tracking_numbers for d in details.despatches] == [("P1", "P2")]

    gateway.cancel_order("WEB-2", reason="cancelled in the shop")
    gateway.cancel_order("WEB-2", reason="again, after a crash")
    assert gateway.order_status("WEB-2").status is OrderStatus.CANCELLED
    assert driver.order("WEB-2").cancellation_requests == 2
    driver.despatch("WEB-3")
    with pytest.raises(PrimaRejectedError, match="cannot be cancelled"):
        gateway.cancel_order("WEB-3")

    line = ReturnLine(line_reference="li-1", sku=TEE_L, quantity=1, return_reference="R-1")
    gateway.record_return("WEB-3", [line])
    gateway.record_return("WEB-3", [line])
    assert driver.order("WEB-3").returns == (line,)
    with pytest.raises(PrimaRejectedError, match="more returned than despatched"):
        gateway.record_return("WEB-3", [attrs.evolve(line, return_reference="R-2", quantity=2)])

    driver.forget("WEB-3")
    assert gateway.order_status("WEB-3").status is OrderStatus.UNKNOWN_TO_PRIMA
    with pytest.raises(PrimaRejectedError):
        gateway.despatch_details("WEB-3")
    kinds = {r.kind for r in driver.requests()}
    assert {PrimaRequestKind.CANCEL_ORDER, PrimaRequestKind.RECORD_RETURN} <= kinds
