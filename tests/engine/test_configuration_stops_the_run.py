"""Settings that do not fit Prima (a SOAP mismatch) stop the run: no order is blamed or lost, and
the next run with the right settings sends every order exactly once."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from ct_prima_sync.engine import SyncEngine
from ct_prima_sync.errors import PrimaSoapMismatchError
from ct_prima_sync.prima import OmlinkClient, OmlinkConfig, SalesOrder, SoapNames, SubmitResult
from ct_prima_sync.state import ExceptionFilter, OrderStatus, StateStore
from ct_prima_sync.testing import FakePrima, PrimaEmulator, WsdlStyle
from ct_prima_sync.testing.scenario import SyncScenario, build_scenario

EngineFactory = Callable[..., SyncEngine]

INSTALLATION = SoapNames(
    request_parameter="pcRequestXML", reply_parameter="pcReplyXML", qualified_parameters=False
)


@pytest.fixture
def scenario() -> SyncScenario:
    """15 orders, every fifth one bad: enough for a batch in flight when the run stops."""
    return build_scenario(orders=15, bad_every=5, seed=3)


def _nothing_blamed(store: StateStore, scenario: SyncScenario) -> None:
    """None reached Prima, none holds a lease, and the exception queue holds only bad orders'
    own mapping problems (met by workers already busy when the run stopped), nothing of Prima's."""
    assert scenario.world.orders() == []
    assert store.count_orders_by_status()[OrderStatus.DONE] == 0
    numbers = {o["id"]: o["orderNumber"] for o in scenario.commercetools.orders()}
    for record in store.list_exceptions(ExceptionFilter(open_only=False)):
        assert record.kind == scenario.bad[numbers[record.order_id or ""]]
    for order_id in numbers:
        held = store.get_order(order_id)
        assert held is None or held.lease_owner is None


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_soap_mismatch_stops_the_run_and_the_fixed_settings_send_every_order(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory, concurrency: int
) -> None:
    emulator = PrimaEmulator(
        scenario.world, soap_names=INSTALLATION, wsdl_style=WsdlStyle.RPC_LITERAL
    )

    def client(names: SoapNames) -> OmlinkClient:
        config = OmlinkConfig(endpoint="http://prima.test/x/x", soap=names, rate_limit=1000)
        return OmlinkClient(config, transport=emulator.transport())

    with client(SoapNames()) as wrong, pytest.raises(PrimaSoapMismatchError):
        make_engine(store, prima=wrong, concurrency=concurrency).sync_orders()
    _nothing_blamed(store, scenario)

    with client(INSTALLATION) as right:
        summary = make_engine(store, prima=right, concurrency=concurrency).sync_orders()
    assert summary.posted == len(scenario.good)
    assert {o.order_number for o in scenario.world.orders()} == set(scenario.good)


class _RefusesSubmits:
    """A gateway whose SOAP layer refuses order submissions (after the reads went through)."""

    def __init__(self, inner: FakePrima) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def submit_orders(self, orders: Sequence[SalesOrder]) -> list[SubmitResult]:
        raise PrimaSoapMismatchError("unknown element XMLRequest", request_type="MultiNewOrder")


def test_an_order_given_back_after_its_submission_started_is_checked_then_sent_once(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    fake = FakePrima(scenario.world, sleep=lambda _s: None)
    with pytest.raises(PrimaSoapMismatchError):
        make_engine(store, prima=_RefusesSubmits(fake), concurrency=1).sync_orders()
    submitting = store.count_orders_by_status()[OrderStatus.SUBMITTING]
    assert submitting == 1  # the one that met the fault; the rest of its batch untouched
    _nothing_blamed(store, scenario)

    summary = make_engine(store, prima=fake).sync_orders()
    assert summary.posted == len(scenario.good)
    submissions = scenario.world.submission_counts()
    assert all(submissions[n] == 1 for n in scenario.good)
