"""Query endpoints: ``where`` (several are ANDed), ``sort``, ``limit``, ``offset``, ``withTotal``.

``expand`` is accepted and ignored: references stay references.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ct_prima_sync.errors import ValidationError

from ._predicate import Predicate, parse_predicate, sort_key

__all__ = ["MAX_LIMIT", "MAX_OFFSET", "run_query"]

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


def _sorted(results: list[dict[str, Any]], specs: Sequence[str]) -> list[dict[str, Any]]:
    parsed: list[tuple[str, bool]] = []
    for spec in specs:
        parts = spec.split()
        if len(parts) not in (1, 2) or (
            len(parts) == 2 and parts[1].lower() not in ("asc", "desc")
        ):
            raise _bad(f"Malformed parameter: sort: {spec!r}.")
        parsed.append((parts[0], len(parts) == 2 and parts[1].lower() == "desc"))

    def compare(left: dict[str, Any], right: dict[str, Any]) -> int:
        for field, descending in parsed:
            a, b = sort_key(left.get(field)), sort_key(right.get(field))
            if a != b:
                result = -1 if a < b else 1
                return -result if descending else result
        return 0

    return sorted(results, key=functools.cmp_to_key(compare))


def run_query(
    resources: list[dict[str, Any]],
    params: Mapping[str, Sequence[str]],
    view: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Answer a query endpoint: a PagedQueryResponse for ``params`` over ``resources``.

    ``view`` adds query-only fields a predicate may name but the representation does not show.
    """
    limit = _integer(params, "limit", DEFAULT_LIMIT, MAX_LIMIT)
    offset = _integer(params, "offset", 0, MAX_OFFSET)
    variables = {
        name[len("var.") :]: list(values)
        for name, values in params.items()
        if name.startswith("var.")
    }
    predicates: list[Predicate] = [
        parse_predicate(text, variables) for text in params.get("where", ())
    ]
    see = view or (lambda item: item)
    matching = [item for item in resources if all(check(see(item)) for check in predicates)]
    if params.get("sort"):
        matching = _sorted(matching, params["sort"])
    page = matching[offset : offset + limit]
    body: dict[str, Any] = {"limit": limit, "offset": offset, "count": len(page)}
    with_total = params.get("withTotal", ["true"])[-1].lower() != "false"
    if with_total:
        body["total"] = len(matching)
    body["results"] = page
    return body
