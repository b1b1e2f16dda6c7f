"""A flow view of a gateway marks every request it sends with its flow, in whichever thread
makes the call and for every item of a lazy iterator; outside it nothing is marked."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from ct_prima_sync.prima import (
    PrimaGateway,
    RequestFlow,
    current_request_flow,
    for_flow,
    request_flow,
)


class _Recorder:
    """Stands in for a client: notes the flow each call and each fetched item ran as."""

    def __init__(self) -> None:
        self.seen: list[RequestFlow | None] = []
        self.config = "the client's own"

    def order_status(self, order_number: str) -> str:
        self.seen.append(current_request_flow())
        return order_number

    def iter_available_to_sell(self, *, chunk_size: int = 500) -> Iterator[int]:
        for n in range(3):
            self.seen.append(current_request_flow())  # a request per chunk, made lazily
            yield n


def _view(flow: RequestFlow) -> tuple[_Recorder, PrimaGateway]:
    inner = _Recorder()
    return inner, for_flow(inner, flow)  # type: ignore[arg-type]


def test_a_view_marks_each_call_with_its_flow() -> None:
    inner, view = _view(RequestFlow.DISPATCH)
    assert view.order_status("A-1") == "A-1"  # type: ignore[comparison-overlap]
    assert inner.seen == [RequestFlow.DISPATCH]
    assert current_request_flow() is None, "nothing stays marked after the call"


def test_a_lazy_iterator_fetches_every_item_as_the_flow() -> None:
    inner, view = _view(RequestFlow.STOCK)
    items = view.iter_available_to_sell()
    assert current_request_flow() is None
    assert list(items) == [0, 1, 2]  # type: ignore[comparison-overlap]
    assert inner.seen == [RequestFlow.STOCK] * 3


def test_the_flow_travels_with_the_call_into_a_pool_thread() -> None:
    inner, view = _view(RequestFlow.ORDERS)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(view.order_status, [f"A-{n}" for n in range(8)]))
    assert inner.seen == [RequestFlow.ORDERS] * 8


def test_a_block_marks_direct_calls_and_nests() -> None:
    inner = _Recorder()
    with request_flow(RequestFlow.RECONCILE):
        inner.order_status("A-1")
        with request_flow(RequestFlow.ORDERS):
            inner.order_status("A-2")
        inner.order_status("A-3")
    inner.order_status("A-4")
    assert inner.seen == [RequestFlow.RECONCILE, RequestFlow.ORDERS, RequestFlow.RECONCILE, None]


def test_a_view_looks_like_the_gateway_it_wraps() -> None:
    inner, view = _view(RequestFlow.ORDERS)
    assert view.config == "the client's own"  # type: ignore[attr-defined]
    assert view.wrapped is inner  # type: ignore[attr-defined]
    assert "orders" in repr(view)
