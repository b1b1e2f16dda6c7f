"""Query parameters, predicate variables and paging by id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ct_prima_sync.commercetools._query import (
    advance_cursor,
    build_query_params,
    chunked,
    format_datetime,
    iter_by_id,
    join_predicates,
    modified_since,
)
from ct_prima_sync.errors import ConfigurationError, PayloadError


def test_query_params_put_variables_beside_the_predicate_and_ask_for_no_total() -> None:
    params = build_query_params(
        where="sku in :skus and active = :on",
        variables={"skus": ["A", "B"], "on": True, "n": 3},
        expand=("supplyChannel",),
        limit=500,
        sort=("id asc",),
    )
    assert params == [
        ("where", "sku in :skus and active = :on"),
        ("var.skus", "A"),
        ("var.skus", "B"),
        ("var.on", "true"),
        ("var.n", "3"),
        ("sort", "id asc"),
        ("expand", "supplyChannel"),
        ("limit", "500"),
        ("withTotal", "false"),
    ]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"bad name": "x"}, "not an identifier"),
        ({"empty": []}, "empty list"),
        ({"money": 1.5}, "must be a str"),
    ],
)
def test_bad_query_variables_are_refused_with_the_variable_named(
    variables: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build_query_params(where="x", variables=variables)


def test_datetimes_are_sent_in_utc_with_milliseconds() -> None:
    berlin = timezone(timedelta(hours=1))
    value = datetime(2026, 3, 1, 11, 0, 5, 123456, tzinfo=berlin)
    assert format_datetime(value) == "2026-03-01T10:00:05.123Z"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        format_datetime(datetime(2026, 3, 1))  # noqa: DTZ001


def test_predicates_are_joined_with_parentheses_and_empty_ones_dropped() -> None:
    assert join_predicates([None, " ", "a = 1"]) == "a = 1"
    assert join_predicates(["a = 1 or b = 2", "c = 3"]) == "(a = 1 or b = 2) and (c = 3)"
    assert join_predicates([]) is None


class Pages:
    """A fetch function over ids 0..n-1 that records the parameters it was given."""

    def __init__(self, n: int) -> None:
        self.ids = [f"id-{i:05d}" for i in range(n)]
        self.calls: list[dict[str, list[str]]] = []

    def __call__(self, params: list[tuple[str, str]]) -> dict[str, Any]:
        query: dict[str, list[str]] = {}
        for key, value in params:
            query.setdefault(key, []).append(value)
        self.calls.append(query)
        last = query.get("var.ctpsLastId", [""])[0]
        limit = int(query["limit"][0])
        return {"results": [{"id": i} for i in self.ids if i > last][:limit]}


@given(n=st.integers(min_value=0, max_value=60), page_size=st.integers(min_value=1, max_value=25))
def test_paging_by_id_yields_every_result_once_in_order(n: int, page_size: int) -> None:
    pages = Pages(n)
    got = [r["id"] for r in iter_by_id(pages, page_size=page_size)]
    assert got == pages.ids
    assert len(pages.calls) == n // page_size + 1


def test_each_page_after_the_first_asks_for_ids_after_the_last_one_seen() -> None:
    pages = Pages(5)
    list(iter_by_id(pages, where="a = :a", variables={"a": "x"}, page_size=2))
    assert pages.calls[0]["where"] == ["a = :a"]
    assert pages.calls[1]["where"] == ["(a = :a) and (id > :ctpsLastId)"]
    assert pages.calls[1]["var.ctpsLastId"] == ["id-00001"]
    assert pages.calls[1]["var.a"] == ["x"]
    assert all(c["sort"] == ["id asc"] and c["withTotal"] == ["false"] for c in pages.calls)


@pytest.mark.parametrize("page_size", [0, 501, True])
def test_page_sizes_outside_1_to_500_are_refused_before_anything_is_fetched(
    page_size: int,
) -> None:
    pages = Pages(1)
    with pytest.raises(ConfigurationError, match="page_size"):
        iter_by_id(pages, page_size=page_size)
    assert pages.calls == []


def test_the_paging_variable_name_is_reserved() -> None:
    with pytest.raises(ConfigurationError, match="reserved"):
        iter_by_id(Pages(1), variables={"ctpsLastId": "x"})


def test_bad_variables_are_refused_when_the_query_is_built_not_when_it_is_iterated() -> None:
    with pytest.raises(ConfigurationError, match="empty list"):
        iter_by_id(Pages(1), where="sku in :skus", variables={"skus": []})


def test_a_page_without_results_or_ids_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="results"):
        next(iter_by_id(lambda p: {"count": 0}))
    with pytest.raises(PayloadError, match=r"results\[0\]\.id"):
        next(iter_by_id(lambda p: {"results": [{"name": "no id"}]}))


def test_paging_is_a_generator_that_fetches_nothing_until_iterated() -> None:
    pages = Pages(3)
    results: Iterator[dict[str, Any]] = iter_by_id(pages)
    assert pages.calls == []
    next(results)
    assert len(pages.calls) == 1


@given(items=st.lists(st.integers()), size=st.integers(min_value=1, max_value=10))
def test_chunks_keep_order_and_size(items: list[int], size: int) -> None:
    chunks = list(chunked(items, size))
    assert [x for c in chunks for x in c] == items
    assert all(1 <= len(c) <= size for c in chunks)
    assert all(len(c) == size for c in chunks[:-1])


def test_polling_reaches_back_by_the_overlap_and_the_cursor_never_moves_back() -> None:
    cursor = datetime(2026, 3, 1, 12, tzinfo=UTC)
    predicate, variables = modified_since(cursor, timedelta(minutes=2))
    assert predicate == "lastModifiedAt >= :modifiedSince"
    assert variables == {"modifiedSince": datetime(2026, 3, 1, 11, 58, tzinfo=UTC)}
    earlier = cursor - timedelta(minutes=1)
    later = cursor + timedelta(seconds=5)
    assert advance_cursor(cursor, [earlier]) == cursor
    assert advance_cursor(cursor, [earlier, later]) == later
    with pytest.raises(ConfigurationError):
        modified_since(cursor, timedelta(seconds=-1))
