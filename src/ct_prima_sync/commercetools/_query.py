"""Query parameters, predicate input variables and paging by id. Pure except for ``fetch_page``.

Paging rules (commercetools' own advice for large result sets):

1. Pages are sorted by ``id asc`` and each next page asks for ``id > :<last id>``; offsets are
   never used (they stop at 10,000) and ``withTotal=false`` spares the API a count.
2. Values travel as input variables (``where=sku in :skus&var.skus=A&var.skus=B``), never pasted
   into the predicate, so nothing needs escaping and nothing can be injected.
3. Only one page is held at a time: iterating a million orders takes the memory of one page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Generic, TypeVar

from attrs import frozen

from ..errors import ConfigurationError, PayloadError

__all__ = [
    "LAST_ID_VARIABLE",
    "MAX_PAGE_SIZE",
    "PollResult",
    "QueryValue",
    "build_query_params",
    "chunked",
    "format_datetime",
    "iter_by_id",
    "iter_pages_by_modified",
    "iter_pages_by_time",
    "parsed_pages",
]

T = TypeVar("T")

MAX_PAGE_SIZE: Final = 500
LAST_ID_VARIABLE: Final = "ctpsLastId"
LAST_MODIFIED_VARIABLE: Final = "ctpsLastModified"
_VARIABLE_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Scalar = str | int | bool | datetime
QueryValue = Scalar | Sequence[str | int]
Params = list[tuple[str, str]]


def format_datetime(value: datetime) -> str:
    """A timezone-aware datetime as commercetools writes them: UTC, milliseconds, ``Z``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigurationError("datetimes sent to commercetools must be timezone-aware")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _scalar(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    raise ConfigurationError(
        f"query variable {name!r} must be a str, int, bool, datetime or a list of str/int"
    )


def _variable_params(variables: Mapping[str, QueryValue]) -> Params:
    params: Params = []
    for name, value in variables.items():
        if not _VARIABLE_NAME.match(name):
            raise ConfigurationError(f"query variable name {name!r} is not an identifier")
        if isinstance(value, str | int | bool | datetime):
            params.append((f"var.{name}", _scalar(name, value)))
        else:
            if not isinstance(value, Sequence):
                raise ConfigurationError(
                    f"query variable {name!r} must be a str, int, bool, datetime or a list"
                )
            values = list(value)
            if not values:
                raise ConfigurationError(f"query variable {name!r} is an empty list")
            params.extend((f"var.{name}", _scalar(name, item)) for item in values)
    return params


def join_predicates(predicates: Iterable[str | None]) -> str | None:
    """``(a) and (b)`` of the non-empty predicates, or ``None`` when there are none."""
    parts = [p.strip() for p in predicates if p is not None and p.strip()]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return " and ".join(f"({p})" for p in parts)


def build_query_params(
    *,
    where: str | None = None,
    variables: Mapping[str, QueryValue] | None = None,
    expand: Sequence[str] = (),
    limit: int | None = None,
    sort: Sequence[str] = (),
    with_total: bool = False,
) -> Params:
    """The query string of a commercetools query endpoint, as ordered pairs."""
    params: Params = []
    if where:
        params.append(("where", where))
    params.extend(_variable_params(variables or {}))
    params.extend(("sort", s) for s in sort)
    params.extend(("expand", e) for e in expand)
    if limit is not None:
        params.append(("limit", str(limit)))
    params.append(("withTotal", "true" if with_total else "false"))
    return params


def iter_by_id(
    fetch_page: Callable[[Params], Any],
    *,
    where: str | None = None,
    variables: Mapping[str, QueryValue] | None = None,
    expand: Sequence[str] = (),
    page_size: int = MAX_PAGE_SIZE,
) -> Iterator[dict[str, Any]]:
    """Yield every result of a query, one page in memory at a time (rules 1 to 3 above).

    ``fetch_page`` sends the query parameters and returns the decoded PagedQueryResponse. Bad
    arguments raise at once; pages are fetched only as the iterator is consumed.
    """
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise ConfigurationError("page_size must be an integer")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ConfigurationError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    fixed = dict(variables or {})
    if LAST_ID_VARIABLE in fixed:
        raise ConfigurationError(f"query variable name {LAST_ID_VARIABLE!r} is reserved")
    build_query_params(where=where, variables=fixed)  # validates the variables now
    return _pages(fetch_page, where, fixed, expand, page_size)


def _pages(
    fetch_page: Callable[[Params], Any],
    where: str | None,
    variables: dict[str, QueryValue],
    expand: Sequence[str],
    page_size: int,
) -> Iterator[dict[str, Any]]:
    last_id: str | None = None
    while True:
        page_where = join_predicates(
            [where, f"id > :{LAST_ID_VARIABLE}" if last_id is not None else None]
        )
        page_vars: dict[str, QueryValue] = dict(variables)
        if last_id is not None:
            page_vars[LAST_ID_VARIABLE] = last_id
        params = build_query_params(
            where=page_where,
            variables=page_vars,
            expand=expand,
            limit=page_size,
            sort=("id asc",),
        )
        page = fetch_page(params)
        results = page.get("results") if isinstance(page, Mapping) else None
        if not isinstance(results, list):
            raise PayloadError("paged query response has no results list", path="results")
        for index, item in enumerate(results):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise PayloadError("result has no id", path=f"results[{index}].id")
        yield from results
        if len(results) < page_size:
            return
        last_id = results[-1]["id"]


def iter_pages_by_modified(
    fetch_page: Callable[[Params], Any],
    *,
    where: str | None = None,
    variables: Mapping[str, QueryValue] | None = None,
    expand: Sequence[str] = (),
    page_size: int = MAX_PAGE_SIZE,
) -> Iterator[list[dict[str, Any]]]:
    """Yield the results of a query page by page, oldest modification first.

    Pages are sorted by ``lastModifiedAt asc, id asc`` and each next page asks for what comes
    after the last result in that order (a keyset, as rule 1, never an offset), so once a page has
    been handled, everything modified before its last result has been seen: a poll cursor may
    move up to it. The first page is always yielded, empty or not. Bad arguments raise at once.
    """
    return iter_pages_by_time(
        fetch_page,
        field="lastModifiedAt",
        where=where,
        variables=variables,
        expand=expand,
        page_size=page_size,
    )


def iter_pages_by_time(
    fetch_page: Callable[[Params], Any],
    *,
    field: str,
    where: str | None = None,
    variables: Mapping[str, QueryValue] | None = None,
    expand: Sequence[str] = (),
    page_size: int = MAX_PAGE_SIZE,
) -> Iterator[list[dict[str, Any]]]:
    """:func:`iter_pages_by_modified` by another timestamp ``field`` (``createdAt`` for
    messages): pages sorted by ``<field> asc, id asc``, each next one after the last result."""
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise ConfigurationError("page_size must be an integer")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ConfigurationError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    if field not in ("lastModifiedAt", "createdAt"):
        raise ConfigurationError("field must be lastModifiedAt or createdAt")
    fixed = dict(variables or {})
    for reserved in (LAST_ID_VARIABLE, LAST_MODIFIED_VARIABLE):
        if reserved in fixed:
            raise ConfigurationError(f"query variable name {reserved!r} is reserved")
    build_query_params(where=where, variables=fixed)  # validates the variables now
    return _time_pages(fetch_page, field, where, fixed, expand, page_size)


def _after_last(field: str) -> str:
    return (
        f"{field} > :{LAST_MODIFIED_VARIABLE} or "
        f"({field} = :{LAST_MODIFIED_VARIABLE} and id > :{LAST_ID_VARIABLE})"
    )


def _time_pages(  # noqa: PLR0917 (internal helper, called once)
    fetch_page: Callable[[Params], Any],
    field: str,
    where: str | None,
    variables: dict[str, QueryValue],
    expand: Sequence[str],
    page_size: int,
) -> Iterator[list[dict[str, Any]]]:
    last: tuple[str, str] | None = None
    after_last = _after_last(field)
    while True:
        page_vars: dict[str, QueryValue] = dict(variables)
        if last is not None:
            page_vars[LAST_MODIFIED_VARIABLE], page_vars[LAST_ID_VARIABLE] = last
        params = build_query_params(
            where=join_predicates([where, after_last if last is not None else None]),
            variables=page_vars,
            expand=expand,
            limit=page_size,
            sort=(f"{field} asc", "id asc"),
        )
        page = fetch_page(params)
        results = page.get("results") if isinstance(page, Mapping) else None
        if not isinstance(results, list):
            raise PayloadError("paged query response has no results list", path="results")
        for index, item in enumerate(results):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise PayloadError("result has no id", path=f"results[{index}].id")
            if not isinstance(item.get(field), str):
                raise PayloadError(f"result has no {field}", path=f"results[{index}].{field}")
        first = last is None
        full = len(results) >= page_size
        if full:
            last = (results[-1][field], results[-1]["id"])
        # Not held while the page is worked (the caller may work it before asking for the next
        # one) nor while the next page is fetched: one page in memory, and no raw page for the
        # garbage collector to scan again and again beside the parsed one.
        taken = [results]
        del page, results
        if taken[0] or first:
            yield taken.pop()
        if not full:
            return


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Split ``items`` into lists of at most ``size`` elements, in order."""
    if size < 1:
        raise ConfigurationError("chunk size must be at least 1")
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@frozen(kw_only=True)
class PollResult(Generic[T]):
    """One round of incremental polling: what changed, and where the next round starts.

    ``items`` may repeat items of the previous round (the overlap window); de-duplicate by id and
    version. Pass ``cursor`` to the next call unchanged.
    """

    items: tuple[T, ...]
    cursor: datetime


def modified_since(cursor: datetime, overlap: timedelta) -> tuple[str, dict[str, QueryValue]]:
    """The predicate and variables selecting resources modified at or after ``cursor - overlap``."""
    if overlap < timedelta(0):
        raise ConfigurationError("overlap must not be negative")
    return "lastModifiedAt >= :modifiedSince", {"modifiedSince": cursor - overlap}


def advance_cursor(cursor: datetime, seen: Iterable[datetime]) -> datetime:
    """The next cursor: the latest ``lastModifiedAt`` seen, never earlier than ``cursor``."""
    return max([cursor, *seen])


def parsed_pages(
    cursor: datetime,
    pages: Iterator[list[dict[str, Any]]],
    parse: Callable[[dict[str, Any]], T],
    stamp: Callable[[T], datetime],
) -> Iterator[PollResult[T]]:
    """Each raw page parsed (``parse``), with the cursor advanced to the latest ``stamp`` seen so
    far; neither a raw nor a parsed page is held while the next one is fetched."""
    for raw in pages:
        items = tuple(map(parse, raw))
        del raw
        cursor = advance_cursor(cursor, map(stamp, items))
        yield PollResult(items=items, cursor=cursor)
        del items
