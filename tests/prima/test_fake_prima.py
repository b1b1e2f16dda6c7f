"""FakePrima and the world behind it: de-duplication, stock, lifecycle, customers, journals."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ct_prima_sync.errors import (
    InvalidTransitionError,
    PrimaProtocolError,
    PrimaRejectedError,
    PrimaUnavailableError,
)
from ct_prima_sync.money import Money
from ct_prima_sync.prima import (
    CustomerDetails,
    JournalBatch,
    JournalLine,
    OrderStatus,
    PrimaGateway,
    SkuCode,
)
from ct_prima_sync.testing import (
    FakePrima,
    PrimaFault,
    PrimaFaultKind,
    PrimaFaultPlan,
    PrimaRequestKind,
    PrimaWorld,
    make_sales_order,
    seed_catalogue,
)

TEE_M = SkuCode(product="TEE1", matrix=("BLK", "M"))
TEE_L = SkuCode(product="TEE1", matrix=("BLK", "L"))


def _world(*, allow_backorders: bool = False) -> PrimaWorld:
    world = PrimaWorld(allow_backorders=allow_backorders)
    world.add_depot("WH1", "Main")
    world.add_depot("WH2", "North")
    for sku in (TEE_M, TEE_L):
        world.add_product(sku)
        world.set_stock(sku, "WH1", 10)
        world.set_stock(sku, "WH2", 3)
    return world


@pytest.fixture
def fake() -> FakePrima:
    return FakePrima(_world(), sleep=lambda _: None)


def _journal(batch_id: str, *amounts: int) -> JournalBatch:
    return JournalBatch(
        batch_id=batch_id,
        posting_date=date(2026, 1, 31),
        currency="EUR",
        lines=tuple(
            JournalLine(account=f"40{i}", amount=Money.of(amount, "EUR"))
            for i, amount in enumerate(amounts)
        ),
    )


def test_the_fake_is_a_prima_gateway(fake: FakePrima) -> None:
    assert isinstance(fake, PrimaGateway)


def test_an_accepted_order_gets_a_reference_and_is_outstanding(fake: FakePrima) -> None:
    [result] = fake.submit_orders([make_sales_order("WEB-1", [(TEE_M, 2, "WH1")])])
    assert result.accepted
    assert not result.duplicate
    assert result.customer_code == fake.world.order("WEB-1").account_code
    status = fake.order_status("WEB-1")
    assert status.status is OrderStatus.OUTSTANDING
    assert status.prima_reference == "WEB-1"


def test_a_second_submit_of_the_same_number_is_refused_with_e21_and_allocates_nothing(
    fake: FakePrima,
) -> None:
    order = make_sales_order("WEB-1", [(TEE_M, 2, "WH1")])
    fake.submit_orders([order])
    [second] = fake.submit_orders([order])
    assert not second.accepted
    assert [c.code for c in second.error_codes] == ["E:21"]
    assert (
        second.error == "(E:21) Sales Order Header already exists with Order Number equal to WEB-1"
    )
    assert fake.world.available(TEE_M, "WH1") == 8
    assert len(fake.world.orders()) == 1
    assert fake.order("WEB-1").submissions == 2
    assert fake.submission_count("WEB-1") == 2


def test_submission_counts_count_every_order_number_in_one_pass(fake: FakePrima) -> None:
    """Batches count once per member, refused requests that never reached Prima not at all."""
    fake.submit_orders([make_sales_order("WEB-1", [(TEE_M, 1, "WH1")])])
    fake.submit_orders([make_sales_order(n, [(TEE_M, 1, "WH1")]) for n in ("WEB-1", "WEB-2")])
    fake.faults.on_nth(
        PrimaRequestKind.SUBMIT_ORDERS, 3, PrimaFault(kind=PrimaFaultKind.CONNECTION_RESET)
    )
    with pytest.raises(PrimaUnavailableError):
        fake.submit_orders([make_sales_order("WEB-3", [(TEE_M, 1, "WH1")])])
    counts = fake.world.submission_counts()
    assert counts == {"WEB-1": 2, "WEB-2": 1}
    assert counts["WEB-3"] == 0
    assert [counts[n] for n in ("WEB-1", "WEB-2", "WEB-3")] == [
        fake.world.submission_count(n) for n in ("WEB-1", "WEB-2", "WEB-3")
    ]


def test_ats_falls_by_the_ordered_quantity_when_an_order_is_accepted(fake: FakePrima) -> None:
    fake.submit_orders([make_sales_order("WEB-1", [(TEE_M, 4, "WH1"), (TEE_L, 1, "WH2")])])
    levels = {(lvl.sku, lvl.depot): lvl.available for lvl in fake.available_to_sell([TEE_M, TEE_L])}
    assert levels == {(TEE_M, "WH1"): 6, (TEE_M, "WH2"): 3, (TEE_L, "WH1"): 10, (TEE_L, "WH2"): 2}
    assert fake.world.on_hand(TEE_M, "WH1") == 10


def test_an_order_for_more_than_the_ats_is_rejected_and_allocates_nothing(fake: FakePrima) -> None:
    [result] = fake.submit_orders([make_sales_order("WEB-1", [(TEE_M, 4, "WH2")])])
    assert not result.accepted
    assert "insufficient stock" in result.error
    assert fake.world.available(TEE_M, "WH2") == 3
    assert fake.order_status("WEB-1").status is OrderStatus.UNKNOWN_TO_PRIMA


def test_backorders_let_ats_go_below_zero_when_allowed() -> None:
    fake = FakePrima(_world(allow_backorders=True))
    [result] = fake.submit_orders([make_sales_order("WEB-1", [(TEE_M, 5, "WH2")])])
    assert result.accepted
    assert fake.world.available(TEE_M, "WH2") == -2


def test_orders_naming_unknown_products_depots_or_accounts_are_rejected(fake: FakePrima) -> None:
    unknown_sku = SkuCode(product="NOPE", matrix=("X",))
    results = fake.submit_orders(
        [
            make_sales_order("WEB-1", [(unknown_sku, 1, "WH1")]),
            make_sales_order("WEB-2", [(TEE_M, 1, "MOON")]),
            make_sales_order(
                "WEB-3", [(TEE_M, 1, "WH1")], customer=CustomerDetails(account_code="GHOST")
            ),
            make_sales_order("WEB-4", [(TEE_M, 1, "WH1")]),
        ]
    )
    assert [r.accepted for r in results] == [False, False, False, True]
    assert "unknown product NOPE/X" in results[0].error
    assert "unknown depot MOON" in results[1].error
    assert "unknown customer account GHOST" in results[2].error


def test_a_guest_order_is_matched_to_the_customer_with_its_email_or_gets_a_new_account(
    fake: FakePrima,
) -> None:
    known = fake.world.add_customer(email="Ada@Example.test", name="Ada")
    fake.submit_orders(
        [
            make_sales_order(
                "WEB-1", [(TEE_M, 1, "WH1")], customer=CustomerDetails(email="ada@example.test")
            ),
            make_sales_order("WEB-2", [(TEE_M, 1, "WH1")]),
        ]
    )
    assert fake.order("WEB-1").account_code == known.account_code
    new_account = fake.order("WEB-2").account_code
    assert new_account != known.account_code
    assert fake.find_customer(account_code=new_account) is not None


def test_customers_are_found_by_account_code_then_by_email_and_created_with_new_codes(
    fake: FakePrima,
) -> None:
    created = fake.create_customer(CustomerDetails(email="bo@example.test", forename="Bo"))
    again = fake.create_customer(CustomerDetails(email="cy@example.test"))
    assert created.account_code != again.account_code
    assert fake.find_customer(account_code=created.account_code) == created
    assert fake.find_customer(email="BO@example.test") == created
    assert fake.find_customer(account_code="NOPE", email="nobody@example.test") is None


def test_the_lifecycle_runs_from_outstanding_to_invoiced_with_part_despatch(
    fake: FakePrima,
) -> None:
    fake.submit_orders([make_sales_order("WEB-1", [(TEE_M, 3, "WH1"), (TEE_L, 1, "WH1")])])
    fake.authorise("WEB-1")
    fake.allocate("WEB-1")
    assert fake.order_status("WEB-1").status is OrderStatus.ALLOCATED
    fake.despatch("WEB-1", {1: 2}, carrier="DPD", tracking_numbers=["TRK1"], on=date(2026, 2, 1))
    assert fake.order_status("WEB-1").status is OrderStatus.PART_DESPATCHED
    fake.despatch("WEB-1", carrier="DPD", tracking_numbers=["TRK2", "TRK3"])
    details = fake.despatch_details("WEB-1")
    assert details.status is OrderStatus.DESPATCHED
    assert [d.tracking_numbers for d in details.despatches] == [("TRK1",), ("TRK2", "TRK3")]
    assert [(ln.line_number, ln.quantity) for ln in details.despatches[1].lines] == [(1, 1), (2, 1)]
    assert details.despatches[0].despatched_on == date(2026, 2, 1)
    assert fake.world.on_hand(TEE_M, "WH1") == 7
    assert fake.world.allocated(TEE_M, "WH1") == 0
    fake.invoice("WEB-1")
    assert fake.order_status("WEB-1").status is OrderStatus.INVOICED


def test_cancelling_an_order_gives_its_stock_back(fake: FakePrima) -> None:
    fake.submit_orders([make_sales_order("WEB-1", [(TEE_M, 4, "WH1")])])
    fake.cancel("WEB-1")
    assert fake.order_status("WEB-1").status is OrderStatus.CANCELLED
    assert fake.world.available(TEE_M, "WH1") == 10


def test_the_lifecycle_refuses_steps_the_status_does_not_allow(fake: FakePrima) -> None:
    fake.submit_orders([make_sales_order("WEB-1", [(TEE_M, 2, "WH1")])])
    with pytest.raises(InvalidTransitionError, match="invoice"):
        fake.invoice("WEB-1")
    with pytest.raises(InvalidTransitionError, match="3 of line 1"):
        fake.despatch("WEB-1", {1: 3})
    fake.despatch("WEB-1", {1: 1})
    with pytest.raises(InvalidTransitionError, match="cancel"):
        fake.cancel("WEB-1")


def test_a_held_order_cannot_ship_until_released(fake: FakePrima) -> None:
    fake.submit_orders([make_sales_order("WEB-1", [(TEE_M, 1, "WH1")], hold=True)])
    assert fake.order_status("WEB-1").status is OrderStatus.ON_HOLD
    with pytest.raises(InvalidTransitionError):
        fake.despatch("WEB-1")
    fake.release("WEB-1")
    fake.despatch("WEB-1")
    assert fake.order_status("WEB-1").status is OrderStatus.DESPATCHED


def test_despatch_details_of_an_unknown_order_is_a_business_rejection(fake: FakePrima) -> None:
    with pytest.raises(PrimaRejectedError, match="not found"):
        fake.despatch_details("NOPE")


def test_a_journal_batch_posts_once_and_must_balance(fake: FakePrima) -> None:
    first = fake.post_journal(_journal("B1", 1000, -1000))
    again = fake.post_journal(_journal("B1", 1000, -1000))
    assert again.duplicate
    assert again.prima_reference == first.prima_reference
    assert len(fake.world.journals()) == 1
    with pytest.raises(PrimaRejectedError, match="does not balance"):
        fake.post_journal(_journal("B2", 1000, -999))


def test_the_whole_catalogue_comes_in_bounded_chunks_one_request_each() -> None:
    world = PrimaWorld()
    catalogue = seed_catalogue(world, seed=7, products=3, colours_per_product=2)
    fake = FakePrima(world)
    levels = list(fake.iter_available_to_sell(chunk_size=5))
    assert len(levels) == len(catalogue.skus) * len(catalogue.depots)
    assert len(fake.requests(PrimaRequestKind.CATALOGUE_AVAILABLE_TO_SELL)) == 10  # 48 rows / 5
    assert [d.code for d in fake.list_depots()] == ["WH1", "WH2"]


def test_the_same_seed_gives_the_same_catalogue_and_stock() -> None:
    def levels(seed: int) -> list[tuple[str, str, int]]:
        world = PrimaWorld()
        seed_catalogue(world, seed=seed)
        return [
            (str(lv.sku), lv.depot, lv.available)
            for lv in FakePrima(world).world.available_to_sell(world.skus())
        ]

    assert levels(3) == levels(3)
    assert levels(3) != levels(4)
    assert len(levels(3)) == 10 * 3 * 4 * 2


def test_stock_reported_as_one_figure_sums_the_depots() -> None:
    world = _world()
    world.per_depot_stock = False
    [level] = FakePrima(world).available_to_sell([TEE_M])
    assert (level.depot, level.available) == ("", 13)


@settings(max_examples=50, deadline=None)
@given(
    quantities=st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=12),
    resubmits=st.lists(st.integers(min_value=0, max_value=11), max_size=6),
)
def test_ats_is_on_hand_minus_what_accepted_orders_hold_and_never_negative(
    quantities: list[int], resubmits: list[int]
) -> None:
    fake = FakePrima(_world())
    orders = [make_sales_order(f"WEB-{i}", [(TEE_M, q, "WH1")]) for i, q in enumerate(quantities)]
    fake.submit_orders(orders)
    fake.submit_orders([orders[i] for i in resubmits if i < len(orders)])
    held = sum(o.order.lines[0].quantity for o in fake.world.orders())
    assert fake.world.available(TEE_M, "WH1") == 10 - held >= 0
    assert len(fake.world.orders()) == len({o.order_number for o in fake.world.orders()})


# -- faults -----------------------------------------------------------------------------------


def test_a_reply_lost_after_submit_leaves_the_order_in_prima_and_says_it_may_have_applied(
    fake: FakePrima,
) -> None:
    fake.faults.on_nth(
        PrimaRequestKind.SUBMIT_ORDERS, 1, PrimaFault(kind=PrimaFaultKind.REPLY_LOST)
    )
    with pytest.raises(PrimaUnavailableError) as raised:
        fake.submit_orders([make_sales_order("WEB-1", [(TEE_M, 1, "WH1")])])
    assert raised.value.may_have_been_applied
    assert fake.order_status("WEB-1").status is OrderStatus.OUTSTANDING
    assert fake.submission_count("WEB-1") == 1


def test_a_connection_reset_before_sending_changes_nothing_and_says_so(fake: FakePrima) -> None:
    fake.faults.script(
        PrimaRequestKind.SUBMIT_ORDERS, PrimaFault(kind=PrimaFaultKind.CONNECTION_RESET)
    )
    with pytest.raises(PrimaUnavailableError) as raised:
        fake.submit_orders([make_sales_order("WEB-1", [(TEE_M, 1, "WH1")])])
    assert not raised.value.may_have_been_applied
    assert fake.order_status("WEB-1").status is OrderStatus.UNKNOWN_TO_PRIMA
    [record, _] = fake.requests()
    assert (record.applied, record.fault) == (False, "connection_reset")


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (PrimaFault(kind=PrimaFaultKind.SERVER_ERROR, status=500), PrimaUnavailableError),
        (PrimaFault(kind=PrimaFaultKind.TIMEOUT), PrimaUnavailableError),
        (PrimaFault(kind=PrimaFaultKind.RATE_LIMITED, retry_after=7), PrimaUnavailableError),
        (PrimaFault(kind=PrimaFaultKind.ERROR_REPLY, message="closed"), PrimaRejectedError),
        (PrimaFault(kind=PrimaFaultKind.TRUNCATED_XML), PrimaProtocolError),
        (PrimaFault(kind=PrimaFaultKind.BILLION_LAUGHS), PrimaProtocolError),
    ],
)
def test_each_fault_raises_what_the_client_would(
    fake: FakePrima, fault: PrimaFault, error: type[Exception]
) -> None:
    fake.faults.script(None, fault)
    with pytest.raises(error):
        fake.list_depots()
    assert len(fake.list_depots()) == 2  # one fault, one request


def test_latency_goes_through_the_injected_sleep_and_the_request_succeeds() -> None:
    slept: list[float] = []
    fake = FakePrima(_world(), sleep=slept.append)
    fake.faults.script(None, PrimaFault(kind=PrimaFaultKind.LATENCY, delay=2.5))
    assert fake.find_customer(email="nobody@example.test") is None
    assert slept == [2.5]


def test_the_nth_submit_fails_and_the_others_do_not(fake: FakePrima) -> None:
    fake.faults.on_nth(PrimaRequestKind.SUBMIT_ORDERS, 2, PrimaFault(kind=PrimaFaultKind.TIMEOUT))
    outcomes = []
    for i in range(3):
        try:
            fake.submit_orders([make_sales_order(f"WEB-{i}", [(TEE_M, 1, "WH1")])])
            outcomes.append("ok")
        except PrimaUnavailableError:
            outcomes.append("timeout")
    assert outcomes == ["ok", "timeout", "ok"]
    assert [f.nth for f in fake.faults.fired] == [2]


def _random_run(seed: int) -> list[str]:
    plan = PrimaFaultPlan()
    plan.random(seed, {PrimaFaultKind.SERVER_ERROR: 0.2, PrimaFaultKind.REPLY_LOST: 0.1})
    fake = FakePrima(_world(), faults=plan)
    outcomes = []
    for _ in range(60):
        try:
            fake.order_status("WEB-1")
            outcomes.append("ok")
        except PrimaUnavailableError as exc:
            outcomes.append(str(exc))
    return outcomes


def test_seeded_random_faults_are_reproducible() -> None:
    first = _random_run(11)
    assert first == _random_run(11)
    assert first != _random_run(12)
    assert 0 < first.count("ok") < 60


def test_fault_settings_that_cannot_happen_are_refused() -> None:
    from ct_prima_sync.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        PrimaFault(kind=PrimaFaultKind.ERROR_REPLY, applied=True)
    with pytest.raises(ConfigurationError):
        PrimaFault(kind=PrimaFaultKind.SERVER_ERROR, status=404)
    with pytest.raises(ConfigurationError):
        PrimaFaultPlan().random(1, {PrimaFaultKind.TIMEOUT: 0.7, PrimaFaultKind.LATENCY: 0.5})


def test_random_faults_can_be_limited_to_some_request_kinds() -> None:
    fake = FakePrima(_world())
    fake.faults.random(
        1, {PrimaFaultKind.SERVER_ERROR: 1.0}, kinds=frozenset({PrimaRequestKind.SUBMIT_ORDERS})
    )
    assert len(fake.list_depots()) == 2
    with pytest.raises(PrimaUnavailableError):
        fake.submit_orders([make_sales_order("WEB-1", [(TEE_M, 1, "WH1")])])
    fake.faults.clear()
    [result] = fake.submit_orders([make_sales_order("WEB-1", [(TEE_M, 1, "WH1")])])
    assert result.accepted


def test_the_world_is_safe_to_share_between_threads() -> None:
    import threading

    fake = FakePrima(_world())
    orders = [make_sales_order(f"WEB-{i}", [(TEE_M, 1, "WH1")]) for i in range(40)]

    def submit(offset: int) -> None:
        for order in orders[offset:] + orders[:offset]:
            fake.submit_orders([order])

    threads = [threading.Thread(target=submit, args=(n * 10,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = fake.world.orders()
    assert len(accepted) == 10  # 10 units on hand in WH1
    assert fake.world.available(TEE_M, "WH1") == 0
    assert sum(o.submissions for o in fake.world.orders()) == 40


_LIVE = {
    OrderStatus.OUTSTANDING,
    OrderStatus.ON_HOLD,
    OrderStatus.AUTHORISED,
    OrderStatus.ALLOCATED,
    OrderStatus.PART_DESPATCHED,
}
_ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(
            ["submit", "despatch_one", "despatch_all", "cancel", "authorise", "invoice", "hold"]
        ),
        st.integers(min_value=0, max_value=5),
        st.integers(min_value=1, max_value=4),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(actions=_ACTIONS)
def test_allocated_stock_always_equals_what_live_orders_still_owe(
    actions: list[tuple[str, int, int]],
) -> None:
    fake = FakePrima(_world())
    for action, n, quantity in actions:
        number = f"WEB-{n}"
        try:
            if action == "submit":
                fake.submit_orders([make_sales_order(number, [(TEE_M, quantity, "WH1")])])
            elif action == "despatch_one":
                fake.despatch(number, {1: 1})
            elif action == "despatch_all":
                fake.despatch(number)
            elif action == "cancel":
                fake.cancel(number)
            elif action == "invoice":
                fake.invoice(number)
            elif action == "hold":
                fake.hold(number)
            else:
                fake.authorise(number)
        except (InvalidTransitionError, PrimaRejectedError):
            pass  # steps the order's status (or absence) does not allow change nothing
    owed = shipped = 0
    for order in fake.world.orders():
        line_qty = order.order.lines[0].quantity
        sent = order.despatched.get(1, 0)
        shipped += sent
        if order.status in _LIVE:
            owed += line_qty - sent
    assert fake.world.allocated(TEE_M, "WH1") == owed
    assert fake.world.on_hand(TEE_M, "WH1") == 10 - shipped
    assert fake.world.available(TEE_M, "WH1") >= 0
