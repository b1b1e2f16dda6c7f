"""The customer code Prima returns for an order sent with an empty ``Customer`` is stored under
the customer's key, and the customer's next order goes with that account: no customer request is
sent, and Prima never makes two accounts for one new customer."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ct_prima_sync.commercetools import Order, parse_order
from ct_prima_sync.engine import CustomerPolicy, SyncEngine
from ct_prima_sync.engine._customers import KnownAccounts, customer_identity
from ct_prima_sync.prima import CustomerDetails
from ct_prima_sync.state import CustomerMapping, MemoryStore, StateStore
from ct_prima_sync.testing import FakePrima, PrimaRequestKind
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

from .conftest import one_line_order

EngineFactory = Callable[..., SyncEngine]
SECRET = "0123456789abcdef-secret"
GUEST = "new.customer@example.com"


@pytest.fixture
def scenario() -> SyncScenario:
    built = build_scenario(orders=0, seed=9)
    for n in (1, 2):
        built.commercetools.add_order(one_line_order(built, f"NEW-{n}", email=GUEST, seed=n))
    return SyncScenario(
        commercetools=built.commercetools,
        world=built.world,
        mapping=built.mapping,
        good=("NEW-1", "NEW-2"),
        bad={},
        first_order_at=built.first_order_at,
    )


def test_the_customer_code_prima_returns_is_used_for_the_next_order(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    prima = FakePrima(scenario.world, sleep=lambda _s: None)
    engine = make_engine(
        store,
        prima=prima,
        concurrency=2,
        claim_batch=2,
        customers=CustomerPolicy(lookup_by_email=False, create_missing=False),
        customer_key_secret=SECRET,
    )

    summary = engine.sync_orders()
    assert summary.posted == 2, [e.detail for e in engine.exceptions()]

    first, second = (scenario.world.order(n) for n in ("NEW-1", "NEW-2"))
    sent = sorted([first, second], key=lambda o: o.order.customer.account_code)
    assert sent[0].order.customer.account_code == ""  # the first went for Prima to match
    assert sent[1].order.customer.account_code == sent[0].account_code  # the second with it
    assert len([c for c in scenario.world.customers() if c.email == GUEST]) == 1
    key, lock = customer_identity(
        _ct_order(scenario, "NEW-1"), CustomerDetails(email=GUEST), SECRET
    )
    assert key is not None
    assert lock is not None
    assert store.get_customer(key).account_code == sent[0].account_code  # type: ignore[union-attr]
    # The lock went back with the recording: free for anyone now.
    assert store.try_lock(lock, owner="someone", ttl_seconds=1, now=scenario.first_order_at)
    assert prima.world.requests(PrimaRequestKind.FIND_CUSTOMER) == []
    assert prima.world.requests(PrimaRequestKind.CREATE_CUSTOMER) == []


def test_an_account_another_worker_records_after_the_batch_was_read_is_found_under_the_lock(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    """The batch's customer map entries are read once, before its orders are prepared; an
    entry another worker puts after that read is missed there, so the order goes as for a new
    customer, under the customer's lock, where the map is read again: it goes with that
    account, and Prima gets no second one."""
    key, _ = customer_identity(_ct_order(scenario, "NEW-1"), CustomerDetails(email=GUEST), SECRET)
    assert key is not None
    first_id = _ct_order(scenario, "NEW-1").id
    theirs: list[str] = []

    def another_worker(step: str, order_id: str) -> None:
        if step == "claimed" and order_id == first_id and not theirs:
            account = scenario.world.add_customer(email=GUEST).account_code
            store.put_customer(key, account, now=scenario.first_order_at)
            theirs.append(account)

    engine = make_engine(
        store,
        checkpoint=another_worker,
        claim_batch=2,
        customers=CustomerPolicy(lookup_by_email=False, create_missing=False),
        customer_key_secret=SECRET,
    )
    summary = engine.sync_orders()

    assert summary.posted == 2, [e.detail for e in engine.exceptions()]
    assert theirs
    for number in ("NEW-1", "NEW-2"):
        assert scenario.world.order(number).order.customer.account_code == theirs[0]
    assert [c.account_code for c in scenario.world.customers() if c.email == GUEST] == theirs


class _CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []

    def get_customer(self, key: str) -> CustomerMapping | None:
        self.reads.append(key)
        return super().get_customer(key)


def test_a_batch_reads_its_customers_once_and_sees_its_own_writes() -> None:
    store = _CountingStore()
    at = build_scenario(orders=0, seed=9).first_order_at
    store.put_customer("id:a", "C1", now=at)
    accounts = KnownAccounts(store)
    accounts.read(["id:a", "id:b", None])
    assert accounts.get_customer("id:a").account_code == "C1"  # type: ignore[union-attr]
    assert accounts.get_customer("id:b") is None
    assert store.reads == []  # both answered from the batch's read
    store.put_customer("id:b", "C2", now=at)  # another worker, after the read: missed
    assert accounts.get_customer("id:b") is None
    accounts.put("id:b", "C3", now=at)  # this run's own write
    assert accounts.get_customer("id:b").account_code == "C3"  # type: ignore[union-attr]
    assert accounts.get_customer("id:c") is None  # not read ahead: read from the store
    assert store.reads == ["id:c"]
    accounts.read(["id:a"])  # the next batch starts afresh
    assert accounts.get_customer("id:b").account_code == "C2"  # type: ignore[union-attr]
    assert store.reads == ["id:c", "id:b"]


def _ct_order(scenario: SyncScenario, number: str) -> Order:
    return parse_order(
        next(o for o in scenario.commercetools.orders() if o["orderNumber"] == number)
    )
