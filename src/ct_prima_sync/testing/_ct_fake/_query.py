"""Query endpoints: ``where`` (several are ANDed), ``sort``, ``limit``, ``offset``, ``withTotal``.

``expand`` is accepted and ignored: references stay references.

A query sorted by ascending fields whose values are all timestamps or all plain text (``id``,
``createdAt``, ``lastModifiedAt``: how the client pages) is answered from a :class:`SortedIndex`
that the store keeps up to date change by change (``_index``): the ``where`` predicates' lower
bound on the sort fields (``lastModifiedAt > :t or (lastModifiedAt = :t and id > :id)``, a
keyset) is found by bisection, and without ``withTotal`` the scan stops once the page is full.
So a poll of N orders in pages costs about N, not N squared, and every answer is the one the
full filter and sort would give: the bound only skips resources no predicate can accept.

A query whose ``where`` predicates (ANDed, at their top level) name the ids a result must have
(``id in :ids``, ``id = "..."``: how the engine reads a claim batch's orders) is answered from
those ids alone: the store looks them up (as queries see them, lag included, in the order the
full scan has them), the full predicates filter them and the sort, offset, limit and total
apply as they would to the full scan. So reading two orders out of a million costs two, not a
million, and the answer is the full scan's: a resource outside those ids matches no predicate.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from ct_prima_sync.errors import ValidationError

from ._index import TIME, SortedIndex, build_index, instant
from ._predicate import DATETIME, Predicate, Shape, parse_where, sort_key

__all__ = ["MAX_LIMIT", "MAX_OFFSET", "SortedIndex", "build_index", "run_query", "wanted_ids"]

MAX_LIMIT = 500
MAX_OFFSET = 10_000
DEFAULT_LIMIT = 20


def _bad(message: str) -> ValidationError:
    return ValidationError(message, status_code=400, codes=["InvalidInput"])


def _integer(params: Mapping[str, Sequence[str]], name: str, default: int, top: int) -> int:
    values = params.get(name)
    if not values:
        return default
    try:
        number = int(values[-1])
    except ValueError:
        raise _bad(f"Malformed parameter: {name}: not an integer.") from None
    if not 0 <= number <= top:
        raise _bad(f"Malformed parameter: {name}: must be between 0 and {top}.")
    return number


def _sort_specs(specs: Sequence[str]) -> list[tuple[str, bool]]:
    """(field, descending) of each ``sort`` parameter, or the API's 400."""
    parsed: list[tuple[str, bool]] = []
    for spec in specs:
        parts = spec.split()
        if len(parts) not in (1, 2) or (
            len(parts) == 2 and parts[1].lower() not in ("asc", "desc")
        ):
            raise _bad(f"Malformed parameter: sort: {spec!r}.")
        parsed.append((parts[0], len(parts) == 2 and parts[1].lower() == "desc"))
    return parsed


Bound = tuple[tuple[Any, ...], bool]
"""A lower bound on the sort values: a prefix and whether it is strict (``True``: every result's
values begin after the prefix; ``False``: at or after it)."""


def _literal_key(literal: Any, kind: str) -> Any:
    """A predicate literal as the index keeps values of ``kind``; None when it cannot bound
    (a comparison the predicates would make another way)."""
    if kind == TIME:
        return instant(literal)
    if isinstance(literal, str) and not DATETIME.match(literal):
        return literal
    return None


def _compare_bounds(a: Bound, b: Bound) -> int:
    """Order bounds by where they start: -1 when ``a`` starts before ``b``."""
    (pa, strict_a), (pb, strict_b) = a, b
    for x, y in zip(pa, pb, strict=False):
        if x != y:
            return -1 if x < y else 1
    if len(pa) == len(pb):
        return (strict_a > strict_b) - (strict_a < strict_b)
    if len(pa) < len(pb):  # a's prefix is b's: strict a starts after everything b starts at
        return 1 if strict_a else -1
    return -1 if strict_b else 1


def _field_bound(shape: Shape, index: SortedIndex, at: int) -> tuple[Any, bool] | None:
    """(key, strict) when ``shape`` is ``fields[at] > | >= | = literal``."""
    if shape is None or shape[0] != "cmp":
        return None
    _, field, op, literal = shape
    if field != index.fields[at] or op not in (">", ">=", "="):
        return None
    key = _literal_key(literal, index.kinds[at])
    return None if key is None else (key, op == ">")


def _flat(shape: Shape) -> list[Shape]:
    if shape is not None and shape[0] == "and":
        return [part for inner in shape[1] for part in _flat(inner)]
    return [shape]


def lower_bound(shape: Shape, index: SortedIndex) -> Bound | None:
    """A bound every resource ``shape`` accepts is at or after, or None when it implies none.

    ``f1 > a`` bounds by ``(a,)`` strictly; ``f1 = a and f2 > b`` by ``(a, b)``; an ``and``
    takes its highest bound, an ``or`` its lowest (when every part has one)."""
    if shape is None:
        return None
    if shape[0] == "cmp":
        found = _field_bound(shape, index, 0)
        return None if found is None else ((found[0],), found[1])
    if shape[0] == "or":
        bounds = [lower_bound(part, index) for part in shape[1]]
        if not bounds or any(b is None for b in bounds):
            return None
        return min((b for b in bounds if b is not None), key=functools.cmp_to_key(_compare_bounds))
    if shape[0] != "and":
        return None
    parts = _flat(shape)
    candidates = [b for b in (lower_bound(part, index) for part in parts) if b is not None]
    prefix: list[Any] = []
    for at in range(len(index.fields) - 1):
        exact = next(
            (
                found[0]
                for part in parts
                if part is not None
                and part[2:3] == ("=",)
                and (found := _field_bound(part, index, at)) is not None
            ),
            None,
        )
        if exact is None:
            break
        prefix.append(exact)
        for part in parts:
            found = _field_bound(part, index, at + 1)
            if found is not None:
                candidates.append(((*prefix, found[0]), found[1]))
    if not candidates:
        return None
    return max(candidates, key=functools.cmp_to_key(_compare_bounds))


def _start(index: SortedIndex, bound: Bound | None) -> int:
    """The position of the first resource at or after ``bound``."""
    if bound is None:
        return 0
    prefix, strict = bound
    if strict:
        return bisect.bisect_right(index.keys, prefix, key=lambda key: key[: len(prefix)])
    return bisect.bisect_left(index.keys, prefix)


def _part_ids(part: Shape) -> frozenset[str] | None:
    """The ids ``part`` lets a result have when it is ``id = "text"`` or ``id in (texts)`` (plain
    text, no timestamps: the predicates then compare the strings as they are), else None."""
    if part is None or len(part) < 3 or part[1] != "id":
        return None
    if part[0] == "cmp" and part[2] == "=":
        values: Sequence[Any] = (part[3],)
    elif part[0] == "in":
        values = part[2]
    else:
        return None
    if not all(isinstance(v, str) and not DATETIME.match(v) for v in values):
        return None
    return frozenset(values)


def wanted_ids(shapes: Sequence[Shape]) -> frozenset[str] | None:
    """The ids every result of predicates with these shapes (ANDed) must have, or None when
    they do not say: the ``id = ..`` and ``id in ..`` parts at their top level, intersected."""
    found: frozenset[str] | None = None
    for shape in shapes:
        for part in _flat(shape):
            ids = _part_ids(part)
            if ids is not None:
                found = ids if found is None else found & ids
    return found


def _sorted(results: list[dict[str, Any]], specs: Sequence[str]) -> list[dict[str, Any]]:
    parsed = _sort_specs(specs)

    def compare(left: dict[str, Any], right: dict[str, Any]) -> int:
        for field, descending in parsed:
            a, b = sort_key(left.get(field)), sort_key(right.get(field))
            if a != b:
                result = -1 if a < b else 1
                return -result if descending else result
        return 0

    return sorted(results, key=functools.cmp_to_key(compare))


def run_query(
    resources: list[dict[str, Any]] | Callable[[], list[dict[str, Any]]],
    params: Mapping[str, Sequence[str]],
    view: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    index: Callable[[tuple[str, ...]], SortedIndex | None] | None = None,
    by_id: Callable[[Collection[str]], list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Answer a query endpoint: a PagedQueryResponse for ``params`` over ``resources`` (or the
    function giving them, called only when the answer needs them all).

    ``view`` adds query-only fields a predicate may name but the representation does not show
    (it keeps ``id``). ``index`` gives the :class:`SortedIndex` of the same resources by some
    fields (None when it has none); a query sorted by ascending fields is answered from it.
    ``by_id`` gives those of the same resources that have one of some ids, in their order; a
    query whose predicates name the ids a result must have is answered from it.
    """
    limit = _integer(params, "limit", DEFAULT_LIMIT, MAX_LIMIT)
    offset = _integer(params, "offset", 0, MAX_OFFSET)
    variables = {
        name[len("var.") :]: list(values)
        for name, values in params.items()
        if name.startswith("var.")
    }
    parsed = [parse_where(text, variables) for text in params.get("where", ())]
    predicates: list[Predicate] = [check for check, _ in parsed]
    with_total = params.get("withTotal", ["true"])[-1].lower() != "false"
    specs = _sort_specs(params.get("sort", ()))
    see = view or (lambda item: item)
    ids = wanted_ids([shape for _, shape in parsed]) if by_id is not None else None
    sorted_by = _ascending(specs) if index is not None and ids is None else None
    found = index(sorted_by) if index is not None and sorted_by else None
    matching: list[dict[str, Any]]
    if by_id is not None and ids is not None:
        matching = [item for item in by_id(ids) if all(check(see(item)) for check in predicates)]
        if specs:
            matching = _sorted(matching, params["sort"])
    elif found is not None:
        bounds = [b for b in (lower_bound(shape, found) for _, shape in parsed) if b is not None]
        start = _start(found, max(bounds, key=functools.cmp_to_key(_compare_bounds), default=None))
        wanted = None if with_total else offset + limit
        matching = []
        items = found.items
        for at in range(start, len(items)):
            item = items[at]
            if all(check(see(item)) for check in predicates):
                matching.append(item)
                if wanted is not None and len(matching) >= wanted:
                    break
    else:
        every = resources() if callable(resources) else resources
        matching = [item for item in every if all(check(see(item)) for check in predicates)]
        if specs:
            matching = _sorted(matching, params["sort"])
    page = matching[offset : offset + limit]
    body: dict[str, Any] = {"limit": limit, "offset": offset, "count": len(page)}
    if with_total:
        body["total"] = len(matching)
    body["results"] = page
    return body


def _ascending(specs: list[tuple[str, bool]]) -> tuple[str, ...] | None:
    """The sort fields when every one is ascending (an index can answer), else None."""
    if not specs or any(descending for _, descending in specs):
        return None
    return tuple(field for field, _ in specs)
