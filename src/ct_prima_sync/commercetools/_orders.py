"""Orders: read by id or order number, query, poll for changes, update with typed actions."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import quote

from ..errors import CommercetoolsError, PayloadError
from ._actions import OrderUpdateAction, action_to_json
from ._concurrency import update_with_conflict_retry
from ._graphql import (
    OrderUpdate,
    OrderUpdated,
    OrderUpdateOutcome,
    failed_for_all,
    graphql_request,
    read_outcomes,
)
from ._models import Order
from ._models.parse import parse_order
from ._protocol import Api
from ._query import (
    MAX_PAGE_SIZE,
    PollResult,
    QueryValue,
    advance_cursor,
    build_query_params,
    iter_pages_by_modified,
    join_predicates,
    modified_since,
    parsed_pages,
)

__all__ = ["DEFAULT_POLL_OVERLAP", "Orders"]

#: How far each poll reaches back before the cursor: query results are eventually consistent, so
#: an order modified just before the previous poll may only have become visible since.
DEFAULT_POLL_OVERLAP: Final = timedelta(minutes=2)


def _segment(value: str) -> str:
    return quote(value, safe="")


class Orders:
    """``client.orders``: the order endpoints (scopes ``view_orders`` / ``manage_orders``)."""

    def __init__(self, api: Api) -> None:
        self._api = api

    def get(self, order_id: str, *, expand: Sequence[str] = ()) -> Order:
        """The order with this id; :class:`~ct_prima_sync.errors.NotFoundError` if none."""
        params = [("expand", e) for e in expand]
        return parse_order(self._api.request("GET", f"/orders/{_segment(order_id)}", params=params))

    def get_by_order_number(self, order_number: str, *, expand: Sequence[str] = ()) -> Order:
        """The order with this ``orderNumber``; ``NotFoundError`` if there is none."""
        params = [("expand", e) for e in expand]
        path = f"/orders/order-number={_segment(order_number)}"
        return parse_order(self._api.request("GET", path, params=params))

    def query(
        self,
        where: str | None = None,
        *,
        variables: Mapping[str, QueryValue] | None = None,
        expand: Sequence[str] = (),
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[Order]:
        """Every order matching ``where``, one page in memory at a time (paged by id)."""
        raw = self._api.iter_query(
            "orders", where=where, variables=variables, expand=expand, page_size=page_size
        )
        return map(parse_order, raw)

    def last_modified_at(self) -> datetime | None:
        """The latest ``lastModifiedAt`` of any order, in commercetools' own time (one order
        read); None when the project has no order."""
        params = build_query_params(sort=["lastModifiedAt desc", "id desc"], limit=1)
        results = self._api.request("GET", "/orders", params=params).get("results") or []
        return parse_order(results[0]).last_modified_at if results else None

    def poll_modified(
        self,
        cursor: datetime,
        *,
        overlap: timedelta = DEFAULT_POLL_OVERLAP,
        where: str | None = None,
        variables: Mapping[str, QueryValue] | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> PollResult[Order]:
        """Orders modified at or after ``cursor - overlap``, and the cursor for the next poll.

        The overlap re-reads orders near the previous cursor, so the results repeat some of the
        previous round's: de-duplicate by id and version. Start with a cursor a little before the
        time from which changes matter. Every changed order is held at once:
        :meth:`poll_modified_pages` holds one page.
        """
        predicate, since_vars = modified_since(cursor, overlap)
        merged: dict[str, QueryValue] = {**(variables or {}), **since_vars}
        orders = tuple(
            self.query(join_predicates([where, predicate]), variables=merged, page_size=page_size)
        )
        return PollResult(
            items=orders,
            cursor=advance_cursor(cursor, (o.last_modified_at for o in orders)),
        )

    def poll_modified_pages(
        self,
        cursor: datetime,
        *,
        overlap: timedelta = DEFAULT_POLL_OVERLAP,
        where: str | None = None,
        variables: Mapping[str, QueryValue] | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[PollResult[Order]]:
        """:meth:`poll_modified` one page at a time, oldest modification first.

        Each page's ``cursor`` is safe to store once that page's orders are handled: every order
        modified before it has been on this page or an earlier one, and the next poll from it
        reads the rest again. So a poll stopped after any page (a crash, a stop) loses nothing,
        and memory holds one page however many orders changed. The first page is always yielded
        (empty, with ``cursor`` unchanged, when nothing changed). As with :meth:`poll_modified`,
        pages may repeat orders of the previous round: de-duplicate by id and version.
        """
        predicate, since_vars = modified_since(cursor, overlap)
        merged: dict[str, QueryValue] = {**(variables or {}), **since_vars}

        def fetch(params: list[tuple[str, str]]) -> Any:
            return self._api.request("GET", "/orders", params=params)

        pages = iter_pages_by_modified(
            fetch,
            where=join_predicates([where, predicate]),
            variables=merged,
            page_size=page_size,
        )
        return parsed_pages(cursor, pages, parse_order, lambda o: o.last_modified_at)

    def update(
        self,
        order_id: str,
        version: int,
        actions: Sequence[OrderUpdateAction],
        *,
        retry_ambiguous: bool = False,
    ) -> Order:
        """Apply ``actions`` to version ``version`` of the order; return the updated order.

        A stale version raises :class:`~ct_prima_sync.errors.ConcurrentModificationError` (see
        :meth:`update_resolving_conflicts`). ``retry_ambiguous`` lets a timed-out update be sent
        again: safe because the version makes a replay of an applied update fail with a 409.
        """
        body = {"version": version, "actions": [action_to_json(a) for a in actions]}
        data = self._api.request(
            "POST", f"/orders/{_segment(order_id)}", json=body, retry_ambiguous=retry_ambiguous
        )
        return parse_order(data)

    def apply(
        self,
        order_id: str,
        version: int,
        actions: Sequence[OrderUpdateAction],
        *,
        reread: Callable[[Order], Sequence[OrderUpdateAction]] | None = None,
        max_attempts: int = 3,
    ) -> int | None:
        """Like :meth:`update_resolving_conflicts`, for callers that do not need the updated
        order: returns only its new version (``None`` when ``reread`` found nothing left to do)
        and skips parsing the order commercetools sends back, which costs as much as the request
        (its version is read from the body's leading members, the rest not decoded).
        """

        def send(current: int, todo: Sequence[OrderUpdateAction]) -> int:
            body = {"version": current, "actions": [action_to_json(a) for a in todo]}
            path = f"/orders/{_segment(order_id)}"
            new_version = self._api.request("POST", path, json=body, version_only=True)
            return new_version if isinstance(new_version, int) else current + 1

        replan: Callable[[], tuple[int, Sequence[OrderUpdateAction]]] | None = None
        if reread is not None:
            decide = reread

            def replan() -> tuple[int, Sequence[OrderUpdateAction]]:
                fresh = self.get(order_id)
                return fresh.version, decide(fresh)

        return update_with_conflict_retry(
            version=version, actions=actions, update=send, reread=replan, max_attempts=max_attempts
        )

    def apply_many(self, updates: Sequence[OrderUpdate]) -> list[OrderUpdateOutcome]:
        """Apply several orders' updates in one GraphQL request (``POST /graphql``, one aliased
        ``updateOrder`` per order, each against its own version); each order's outcome, in order.

        ``updates`` are ``(order_id, version, actions)``; the actions must be of the kinds in
        ``GRAPHQL_ACTIONS`` (``ConfigurationError`` before anything is sent). An update without
        actions is not sent: :class:`OrderUpdated` with its version. Per order the outcome is
        :class:`OrderUpdated` (the new version), :class:`OrderUpdateConflict` (a stale version,
        nothing applied: read the order again and decide afresh) or :class:`OrderUpdateFailed`.
        Nothing is resolved or retried here: a request that got no answer (or a 5xx) is not
        sent again, and is reported for every order with the error (it may have been applied,
        so an order is read or updated with its version before anything is sent again). Raises
        nothing the API or the transport causes.
        """
        outcomes: list[OrderUpdateOutcome | None] = [
            None if actions else OrderUpdated(order_id, version)
            for order_id, version, actions in updates
        ]
        sent = [u for u in updates if u[2]]
        if sent:
            body = graphql_request(sent)  # ConfigurationError: nothing sent
            try:
                reply = self._api.request("POST", "/graphql", json=body)
            except (CommercetoolsError, PayloadError) as error:
                answers = failed_for_all(sent, error)
            else:
                answers = read_outcomes(sent, reply)
            found = iter(answers)
            outcomes = [o if o is not None else next(found) for o in outcomes]
        return [o for o in outcomes if o is not None]

    def update_resolving_conflicts(
        self,
        order_id: str,
        version: int,
        actions: Sequence[OrderUpdateAction],
        *,
        reread: Callable[[Order], Sequence[OrderUpdateAction]] | None = None,
        max_attempts: int = 3,
    ) -> Order | None:
        """Like :meth:`update`, but resolves 409s (rules in ``commercetools._concurrency``).

        Absolute actions are re-sent with the version the 409 reported. For the others, the order
        is read again and ``reread(order)`` returns the actions still needed (none: ``None`` is
        returned); without ``reread`` such a 409 is raised.
        """
        replan: Callable[[], tuple[int, Sequence[OrderUpdateAction]]] | None = None
        if reread is not None:
            decide = reread

            def replan() -> tuple[int, Sequence[OrderUpdateAction]]:
                fresh = self.get(order_id)
                return fresh.version, decide(fresh)

        return update_with_conflict_retry(
            version=version,
            actions=actions,
            update=lambda v, a: self.update(order_id, v, a),
            reread=replan,
            max_attempts=max_attempts,
        )
