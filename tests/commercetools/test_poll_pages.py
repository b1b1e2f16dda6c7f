"""Polling orders page by page: oldest modification first, each page's cursor safe to store."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ct_prima_sync.commercetools import CommercetoolsClient
from ct_prima_sync.commercetools._query import iter_pages_by_modified
from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.testing import FakeCommercetools
from ct_prima_sync.testing.factories import LineSpec, make_order
from ct_prima_sync.testing.scenario import connect_commercetools

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def _shop(steps: list[int]) -> tuple[FakeCommercetools, list[tuple[datetime, str]]]:
    """One order per step, each placed ``step`` milliseconds after the previous one (0: at the
    same instant, a tie); returns the fake and the (lastModifiedAt, id) of every order."""
    now = [T0]
    fake = FakeCommercetools(seed=1, clock=lambda: now[0])
    placed = []
    for n, step in enumerate(steps):
        now[0] += timedelta(milliseconds=step)
        order = make_order(
            lines=[LineSpec(sku="SKU-1", quantity=1, unit_price=500, tax_rate="0.19")],
            order_number=f"N-{n}",
            customer_email=f"c{n}@example.com",
            seed=n,
        )
        created = fake.add_order(order)
        placed.append((datetime.fromisoformat(created["lastModifiedAt"]), created["id"]))
    return fake, placed


def _client(fake: FakeCommercetools) -> CommercetoolsClient:
    return connect_commercetools(fake, sleep=lambda _s: None)


@settings(max_examples=25, deadline=None)
@given(
    steps=st.lists(st.sampled_from([0, 0, 1, 250]), min_size=0, max_size=12),
    page_size=st.integers(min_value=1, max_value=4),
)
def test_pages_come_oldest_first_and_no_order_is_older_than_a_cursor_already_given(
    steps: list[int], page_size: int
) -> None:
    fake, placed = _shop(steps)
    start = T0 - timedelta(hours=1)
    with _client(fake) as client:
        pages = list(
            client.orders.poll_modified_pages(start, overlap=timedelta(0), page_size=page_size)
        )
    assert pages, "the first page is always yielded"
    read = [(o.last_modified_at, o.id) for page in pages for o in page.items]
    assert read == sorted(placed), "every order exactly once, oldest modification first"
    for k, page in enumerate(pages):
        assert len(page.items) <= page_size
        later = [o for p in pages[k + 1 :] for o in p.items]
        # Stopping after page k and polling again from its cursor reads every later order.
        assert all(o.last_modified_at >= page.cursor for o in later)
        assert page.cursor == max([start, *(o.last_modified_at for o in page.items)])
    assert pages[-1].cursor == max([start, *(at for at, _ in placed)])


def test_a_poll_with_nothing_new_yields_one_empty_page_and_keeps_the_cursor() -> None:
    fake, _ = _shop([])
    with _client(fake) as client:
        pages = list(client.orders.poll_modified_pages(T0))
    assert [(p.items, p.cursor) for p in pages] == [((), T0)]


def test_the_paged_poll_reads_what_poll_modified_reads() -> None:
    fake, _ = _shop([1, 0, 250, 0, 1, 1, 0])
    cursor = T0 + timedelta(milliseconds=1)
    with _client(fake) as client:
        whole = client.orders.poll_modified(cursor, overlap=timedelta(0), page_size=2)
        pages = list(client.orders.poll_modified_pages(cursor, overlap=timedelta(0), page_size=2))
    assert sorted(o.id for p in pages for o in p.items) == sorted(o.id for o in whole.items)
    assert pages[-1].cursor == whole.cursor


def test_the_paging_variables_are_reserved() -> None:
    fake, _ = _shop([])
    with _client(fake) as client, pytest.raises(ConfigurationError, match="reserved"):
        client.orders.poll_modified_pages(T0, variables={"ctpsLastModified": "x"})


@pytest.mark.parametrize("steps", [[], [0], [1, 250, 0, 1], [0, 0, 0]])
def test_the_latest_modification_is_that_of_the_newest_order_and_bounds_a_poll(
    steps: list[int],
) -> None:
    fake, placed = _shop(steps)
    with _client(fake) as client:
        latest = client.orders.last_modified_at()
        assert latest == (max(placed)[0] if placed else None)
        if latest is None:
            return
        bounded = client.orders.poll_modified_pages(
            T0 - timedelta(hours=1),
            overlap=timedelta(0),
            where="lastModifiedAt <= :until",
            variables={"until": latest},
        )
        assert sorted(o.id for page in bounded for o in page.items) == sorted(i for _, i in placed)


class _Page(list):  # type: ignore[type-arg]  # a list a weak reference can follow
    pass


def test_a_page_being_worked_is_not_held_by_the_paging() -> None:
    pages: list[weakref.ref[_Page]] = []

    def fetch(params: list[tuple[str, str]]) -> dict[str, object]:
        stamp = f"2026-03-01T10:00:0{len(pages)}.000Z"
        page = _Page({"id": f"o-{len(pages)}-{i}", "lastModifiedAt": stamp} for i in range(2))
        pages.append(weakref.ref(page))
        return {"results": page}

    walked = iter_pages_by_modified(fetch, page_size=2)
    first = next(walked)
    assert pages[0]() is first
    del first  # the caller is done with it: nothing else holds it while it is worked
    gc.collect()
    assert pages[0]() is None
    assert [o["id"] for o in next(walked)] == ["o-1-0", "o-1-1"]
