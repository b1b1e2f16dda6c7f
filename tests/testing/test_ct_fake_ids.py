"""The commercetools fake answers a query that names the ids of its results (``id in :ids``,
``id = "..."``) from those ids alone, with the answer the full filter and sort give: ids present,
absent and repeated, other predicates beside them, sorts, pages, totals and the query lag."""

from __future__ import annotations

from collections.abc import Collection
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ct_prima_sync.testing import FakeCommercetools
from ct_prima_sync.testing._ct_fake._predicate import parse_where
from ct_prima_sync.testing._ct_fake._query import build_index, run_query, wanted_ids
from ct_prima_sync.testing.factories import LineSpec, make_order

from ._ct_fake_http import signed_in

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
PROJECT = "test-project"


def _stamp(ms: int) -> str:
    moment = T0 + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _with_ids(resources: list[dict[str, Any]]) -> Any:
    def by_id(ids: Collection[str]) -> list[dict[str, Any]]:
        return [r for r in resources if r["id"] in ids]

    return by_id


resource_lists = st.lists(
    st.tuples(st.integers(0, 5), st.sampled_from("abc"), st.integers(0, 3)),
    max_size=20,
).map(
    lambda rows: [
        {"id": f"{letter}{n}", "lastModifiedAt": _stamp(ms), "createdAt": _stamp(ms), "n": v}
        for n, (ms, letter, v) in enumerate(rows)
    ]
)
_ID_PREDICATES = [
    "id in :ids",
    "id in (:ids)",
    'id in ("a0", "b1", :ids)',
    "id = :one",
    'id = "c2"',
    "id in :ids and n >= 1",
    "(id in :ids and n = 0) and id != :one",
    "n < 3 and (id = :one and lastModifiedAt > :since)",
]
_OTHERS = ["", "n = 1", "id > :one", 'n > 0 or id = "b1"', "not (id in :ids)", "id in :ids"]
_SORTS = [[], ["id asc"], ["lastModifiedAt asc", "id asc"], ["n desc"], ["createdAt desc", "id"]]


@settings(max_examples=300, deadline=None)
@given(
    resources=resource_lists,
    ids=st.lists(st.sampled_from(["a0", "a1", "b1", "b4", "c2", "c9", "zz"]), min_size=1),
    one=st.sampled_from(["a0", "b3", "c5", "zz"]),
    predicate=st.sampled_from(_ID_PREDICATES),
    other=st.sampled_from(_OTHERS),
    sort=st.sampled_from(_SORTS),
    limit=st.integers(1, 6),
    offset=st.integers(0, 3),
    with_total=st.booleans(),
)
def test_a_query_by_ids_answers_what_the_full_scan_answers(  # noqa: PLR0917
    resources: list[dict[str, Any]],
    ids: list[str],
    one: str,
    predicate: str,
    other: str,
    sort: list[str],
    limit: int,
    offset: int,
    with_total: bool,
) -> None:
    params: dict[str, list[str]] = {
        "where": [w for w in (predicate, other) if w],
        "var.ids": ids,  # repeated ids included
        "var.one": [one],
        "var.since": [_stamp(2)],
        "sort": sort,
        "limit": [str(limit)],
        "offset": [str(offset)],
        "withTotal": ["true" if with_total else "false"],
    }
    scanned = run_query(resources, params)
    by_ids = run_query(lambda: [], params, by_id=_with_ids(resources))
    both = run_query(
        resources,
        params,
        index=lambda fields: build_index(resources, fields),
        by_id=_with_ids(resources),
    )
    assert by_ids == scanned
    assert both == scanned


def _shapes(*where: str, **variables: list[str]) -> list[Any]:
    return [parse_where(text, variables)[1] for text in where]


def test_only_ids_every_result_must_have_are_used() -> None:
    assert wanted_ids(_shapes("id in :ids", ids=["a", "b", "a"])) == frozenset({"a", "b"})
    assert wanted_ids(_shapes('id = "a"', "id in :ids", ids=["a", "b"])) == frozenset({"a"})
    assert wanted_ids(_shapes('n = 1 and (id in ("a", "b") and id = "b")')) == frozenset({"b"})
    assert wanted_ids(_shapes('id in ("a") and id in ("b")')) == frozenset()
    # None: the predicates let results have other ids, or compare ids another way.
    assert wanted_ids(_shapes('id in ("a") or n = 1')) is None
    assert wanted_ids(_shapes('not (id in ("a"))')) is None
    assert wanted_ids(_shapes('id not in ("a")')) is None
    assert wanted_ids(_shapes('id != "a"', 'id > "a"')) is None
    assert wanted_ids(_shapes('id in ("a", 1)')) is None
    assert wanted_ids(_shapes('id = "2026-03-01T10:00:00Z"')) is None  # compared as instants
    assert wanted_ids(_shapes('key in ("a")', 'order(id = "a")')) is None


def _order(n: int) -> dict[str, Any]:
    return make_order(
        lines=[LineSpec(sku="SKU-1", quantity=1, unit_price=500, tax_rate="0.19")],
        order_number=f"IDS-{n}",
        customer_email=f"c{n}@example.com",
        seed=n,
    )


def _scanned(fake: FakeCommercetools, params: dict[str, list[str]]) -> Any:
    store = fake._store  # the full scan the indexed answer must equal
    project = store.project(PROJECT)
    return run_query(store.queryable(project, "orders"), params)


def test_the_served_answer_is_the_full_scans_with_lag_deletes_and_re_adds() -> None:
    now = [T0]
    fake = FakeCommercetools(project_key=PROJECT, seed=5, clock=lambda: now[0], query_lag=2)
    ids = [fake.add_order(_order(n))["id"] for n in range(8)]
    now[0] += timedelta(seconds=3)  # the first orders are visible to queries
    confirm = [{"action": "changeOrderState", "orderState": "Confirmed"}]
    fake.update_order(ids[1], confirm)
    fake.update_order(ids[4], confirm)
    fake.delete_order(ids[2])
    late = [fake.add_order(_order(n))["id"] for n in range(8, 10)]  # not visible yet
    wanted = [ids[5], ids[1], ids[2], late[0], ids[4], ids[1], "no-such-id", ids[0]]
    cases: list[dict[str, list[str]]] = [
        {"where": ["id in :ids"], "var.ids": wanted},
        {"where": ["id in :ids"], "var.ids": wanted, "sort": ["id asc"], "withTotal": ["false"]},
        {"where": ["id in :ids", 'orderState != "Confirmed"'], "var.ids": wanted, "limit": ["2"]},
        {"where": ["id in :ids"], "var.ids": wanted, "sort": ["createdAt desc"], "offset": ["1"]},
        {"where": [f'id = "{ids[4]}"']},
        {"where": [f'id = "{late[1]}"']},
    ]
    with closing(signed_in(fake)) as http:
        for moment in (0, 1.5, 3):  # the updates and late orders show, then all have landed
            now[0] = T0 + timedelta(seconds=3 + moment)
            for params in cases:
                served = http.get(f"/{PROJECT}/orders", params=params)
                assert served.status_code == 200
                assert served.json() == _scanned(fake, params), (moment, params)
        fake.add_order(_order(10))  # a new order: its place is after every other
        params = {"where": ["id in :ids"], "var.ids": [*wanted, fake.orders()[-1]["id"]]}
        now[0] += timedelta(seconds=3)
        assert http.get(f"/{PROJECT}/orders", params=params).json() == _scanned(fake, params)
