"""The commercetools fake pages large result sets from a sorted index, with the same answers the
full filter and sort give: keyset pages by lastModifiedAt and id, ties included, and messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ct_prima_sync.testing import FakeCommercetools
from ct_prima_sync.testing._ct_fake._query import build_index, run_query
from ct_prima_sync.testing.factories import LineSpec, make_order
from ct_prima_sync.testing.scenario import connect_commercetools

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
_KEYSET = (
    "lastModifiedAt > :ctpsLastModified or "
    "(lastModifiedAt = :ctpsLastModified and id > :ctpsLastId)"
)


def _stamp(ms: int) -> str:
    moment = T0 + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _both(resources: list[dict[str, Any]], params: dict[str, list[str]]) -> tuple[Any, Any]:
    """The answer from the index and the answer of the plain filter and sort."""
    indexed = run_query(resources, params, index=lambda fields: build_index(resources, fields))
    plain = run_query(resources, params)
    return indexed, plain


resource_lists = st.lists(
    st.tuples(st.integers(0, 5), st.sampled_from("abcdef"), st.integers(0, 3)),
    max_size=25,
).map(
    lambda rows: [
        {"id": f"{letter}{n}", "lastModifiedAt": _stamp(ms), "createdAt": _stamp(ms), "n": v}
        for n, (ms, letter, v) in enumerate(rows)
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    resources=resource_lists,
    last_ms=st.integers(-1, 6),
    last_id=st.sampled_from(["", "a", "c3", "f", "z"]),
    since_ms=st.integers(-1, 6),
    limit=st.integers(1, 6),
    offset=st.integers(0, 3),
    with_total=st.booleans(),
    extra=st.sampled_from(["", "n = 1", 'n > 0 or id = "b1"', "not (n = 2)"]),
)
def test_keyset_pages_from_the_index_are_the_pages_the_full_sort_gives(  # noqa: PLR0917
    resources: list[dict[str, Any]],
    last_ms: int,
    last_id: str,
    since_ms: int,
    limit: int,
    offset: int,
    with_total: bool,
    extra: str,
) -> None:
    params: dict[str, list[str]] = {
        "where": [w for w in ("lastModifiedAt >= :since", _KEYSET, extra) if w],
        "var.since": [_stamp(since_ms)],
        "var.ctpsLastModified": [_stamp(last_ms)],
        "var.ctpsLastId": [last_id],
        "sort": ["lastModifiedAt asc", "id asc"],
        "limit": [str(limit)],
        "offset": [str(offset)],
        "withTotal": ["true" if with_total else "false"],
    }
    indexed, plain = _both(resources, params)
    assert indexed == plain


@settings(max_examples=60, deadline=None)
@given(resources=resource_lists, last_id=st.sampled_from(["", "a", "c3", "z"]))
def test_paging_by_id_from_the_index_matches_the_full_sort(
    resources: list[dict[str, Any]], last_id: str
) -> None:
    params = {
        "where": ["createdAt >= :since", "id > :last"],
        "var.since": [_stamp(1)],
        "var.last": [last_id],
        "sort": ["id asc"],
        "limit": ["3"],
        "withTotal": ["false"],
    }
    indexed, plain = _both(resources, params)
    assert indexed == plain


def test_orders_modified_at_the_same_instant_are_paged_by_id_each_exactly_once() -> None:
    fake = FakeCommercetools(seed=3, clock=lambda: T0)  # every order at the same millisecond
    for n in range(23):
        fake.add_order(
            make_order(
                lines=[LineSpec(sku="SKU-1", quantity=1, unit_price=500, tax_rate="0.19")],
                order_number=f"TIE-{n}",
                customer_email=f"c{n}@example.com",
                seed=n,
            )
        )
    with connect_commercetools(fake, sleep=lambda _s: None) as client:
        pages = list(
            client.orders.poll_modified_pages(
                T0 - timedelta(minutes=1), overlap=timedelta(0), page_size=5
            )
        )
        messages = [m.resource.id for m in client.messages.query(types=("OrderCreated",))]
    read = [order.id for page in pages for order in page.items]
    assert [len(page.items) for page in pages] == [5, 5, 5, 5, 3]
    assert read == sorted(o["id"] for o in fake.orders())
    assert sorted(m or "" for m in messages) == sorted(read)


def test_an_order_changed_between_pages_is_found_where_its_new_time_puts_it() -> None:
    now = [T0]
    fake = FakeCommercetools(seed=4, clock=lambda: now[0])
    ids = []
    for n in range(6):
        now[0] += timedelta(milliseconds=1)
        created = fake.add_order(
            make_order(
                lines=[LineSpec(sku="SKU-1", quantity=1, unit_price=500, tax_rate="0.19")],
                order_number=f"CH-{n}",
                customer_email=f"c{n}@example.com",
                seed=n,
            )
        )
        ids.append(created["id"])
    with connect_commercetools(fake, sleep=lambda _s: None) as client:
        pages = client.orders.poll_modified_pages(
            T0 - timedelta(minutes=1), overlap=timedelta(0), page_size=2
        )
        first = next(pages)
        now[0] += timedelta(seconds=1)
        fake.update_order(ids[0], [{"action": "changeOrderState", "orderState": "Confirmed"}])
        rest = [order.id for page in pages for order in page.items]
    assert [o.id for o in first.items] == ids[:2]
    assert rest == [*ids[2:], ids[0]], "the changed order comes again, after the others"
