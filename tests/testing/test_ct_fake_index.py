"""The commercetools fake keeps its sorted indexes up to date change by change: after any mix of
creations, updates (ties included), replacements and deletions, each index is the one built
from scratch, and a query answers from it as the full filter and sort do. A poll whose pages
are interleaved with updates no longer sorts every order again for each page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ct_prima_sync.testing._ct_fake._index import build_index
from ct_prima_sync.testing._ct_fake._query import run_query
from ct_prima_sync.testing._ct_fake._store import Project

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
FIELDS = (("lastModifiedAt", "id"), ("createdAt",), ("id",))
_KEYSET = "lastModifiedAt > :t or (lastModifiedAt = :t and id > :id)"


def _stamp(ms: int) -> str:
    moment = T0 + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _put(project: Project, resource: dict[str, Any]) -> None:
    stored = project.resources["orders"]
    old = stored.get(resource["id"])
    stored[resource["id"]] = resource
    project.changed("orders", old, resource)


def _delete(project: Project, resource_id: str) -> None:
    old = project.resources["orders"].pop(resource_id, None)
    if old is not None:
        project.changed("orders", old, None)


def _fresh(project: Project, fields: tuple[str, ...]) -> Any:
    resources = project.all("orders")
    places = project._places["orders"]  # the index's own tie order
    return build_index(resources, fields, [places[r["id"]] for r in resources])


def _apply(project: Project, steps: list[tuple[str, str, int]], index_at: int = -1) -> None:
    """Make the changes ``steps`` say; before step ``index_at``, ask for every index of FIELDS."""
    for at, (what, letter, ms) in enumerate(steps):
        if at == index_at:
            for fields in FIELDS:
                project.sorted_index("orders", fields)
        existing = project.resources["orders"].get(letter)
        if what == "delete":
            _delete(project, letter)
        elif what == "update" and existing is not None:
            _put(project, {**existing, "lastModifiedAt": _stamp(ms), "version": at})
        else:
            _put(project, {"id": letter, "createdAt": _stamp(ms), "lastModifiedAt": _stamp(ms)})


# Each step: (what, id, milliseconds): create or replace, update (a new dict, a new
# lastModifiedAt, the same id), or delete; few ids and few instants, so ties abound.
steps = st.lists(
    st.tuples(
        st.sampled_from(["put", "update", "delete"]),
        st.sampled_from("abcdefg"),
        st.integers(0, 4),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(steps=steps, asked_after=st.integers(0, 40))
def test_an_index_moved_along_by_every_change_is_the_index_built_from_scratch(
    steps: list[tuple[str, str, int]], asked_after: int
) -> None:
    project = Project("p")
    _apply(project, steps, index_at=asked_after)  # indexes made part way, then moved along
    for fields in FIELDS:
        kept, fresh = project.sorted_index("orders", fields), _fresh(project, fields)
        assert kept is not None
        assert fresh is not None
        assert kept.keys == fresh.keys
        assert [id(item) for item in kept.items] == [id(item) for item in fresh.items]
        assert kept.places == fresh.places


@settings(max_examples=100, deadline=None)
@given(steps=steps, last_ms=st.integers(-1, 5), last_id=st.sampled_from(["", "c", "z"]))
def test_keyset_pages_from_the_kept_index_are_the_pages_the_full_sort_gives(
    steps: list[tuple[str, str, int]], last_ms: int, last_id: str
) -> None:
    project = Project("p")
    project.sorted_index("orders", ("lastModifiedAt", "id"))
    _apply(project, steps)
    params = {
        "where": [_KEYSET],
        "var.t": [_stamp(last_ms)],
        "var.id": [last_id],
        "sort": ["lastModifiedAt asc", "id asc"],
        "limit": ["3"],
        "withTotal": ["false"],
    }
    resources = project.all("orders")
    indexed = run_query(
        resources, params, index=lambda fields: project.sorted_index("orders", fields)
    )
    assert indexed == run_query(resources, params)


def test_a_value_of_another_kind_drops_the_index_and_the_next_query_builds_it_again() -> None:
    project = Project("p")
    _put(project, {"id": "a", "lastModifiedAt": _stamp(1)})
    assert project.sorted_index("orders", ("lastModifiedAt",)) is not None
    _put(project, {"id": "b", "lastModifiedAt": 7})  # not a timestamp: no index can hold it
    assert project.sorted_index("orders", ("lastModifiedAt",)) is None
    _delete(project, "b")
    rebuilt = project.sorted_index("orders", ("lastModifiedAt",))
    assert rebuilt is not None
    assert [item["id"] for item in rebuilt.items] == ["a"]


def test_updates_between_pages_move_entries_instead_of_sorting_every_order_again() -> None:
    project = Project("p")
    for n in range(2_000):
        _put(project, {"id": f"o{n:05d}", "lastModifiedAt": _stamp(n)})
    index = project.sorted_index("orders", ("lastModifiedAt", "id"))
    assert index is not None
    for n in range(0, 2_000, 7):  # written back: each moves to the end
        order = project.resources["orders"][f"o{n:05d}"]
        _put(project, {**order, "lastModifiedAt": _stamp(5_000 + n)})
    assert project.sorted_index("orders", ("lastModifiedAt", "id")) is index  # the same, moved
    assert index.keys == sorted(index.keys)
    assert [item["id"] for item in index.items[-3:]] == ["o01981", "o01988", "o01995"]
