"""Messages (``OrderCreated`` and friends), when the project has messages enabled.

Scope ``view_messages``. Messages are kept 1 to 90 days (15 by default), so a poll must run more
often than the retention. ``sequenceNumber`` counts per resource, not per project.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..errors import ConfigurationError
from ._models import Message
from ._models.parse import parse_message
from ._protocol import Api
from ._query import (
    MAX_PAGE_SIZE,
    PollResult,
    QueryValue,
    iter_pages_by_time,
    join_predicates,
    parsed_pages,
)

__all__ = ["Messages"]


class Messages:
    """``client.messages``."""

    def __init__(self, api: Api) -> None:
        self._api = api

    def query(
        self,
        *,
        types: Sequence[str] = (),
        since: datetime | None = None,
        resource_id: str | None = None,
        after_sequence_number: int | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[Message]:
        """Messages of these ``types`` (all types when empty), created at or after ``since``.

        ``after_sequence_number`` (with ``resource_id``) keeps the messages of one resource that
        came after one already handled. Results come in id order: sort by ``created_at`` or
        ``sequence_number`` if order matters.
        """
        if after_sequence_number is not None and resource_id is None:
            raise ConfigurationError(
                "after_sequence_number needs resource_id: sequence numbers count per resource"
            )
        predicates: list[str | None] = []
        variables: dict[str, QueryValue] = {}
        if types:
            predicates.append("type in :types")
            variables["types"] = list(types)
        if since is not None:
            predicates.append("createdAt >= :since")
            variables["since"] = since
        if resource_id is not None:
            predicates.append("resource(id = :resourceId)")
            variables["resourceId"] = resource_id
        if after_sequence_number is not None:
            predicates.append("sequenceNumber > :sequenceNumber")
            variables["sequenceNumber"] = after_sequence_number
        raw = self._api.iter_query(
            "messages", where=join_predicates(predicates), variables=variables, page_size=page_size
        )
        return map(parse_message, raw)

    def poll_created_pages(
        self,
        cursor: datetime,
        *,
        types: Sequence[str] = (),
        overlap: timedelta = timedelta(0),
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[PollResult[Message]]:
        """Messages of these ``types`` created at or after ``cursor - overlap``, one page at a
        time, oldest first (``createdAt``, then id).

        Each page's ``cursor`` (the latest ``createdAt`` so far, never before ``cursor``) is safe
        to store once that page's messages are handled: every message created before it has been
        on this page or an earlier one. So a poll stopped after any page loses nothing, and
        memory holds one page. The first page is always yielded (empty when nothing came). The
        overlap re-reads messages near the cursor (query results are eventually consistent):
        de-duplicate by resource.
        """
        if overlap < timedelta(0):
            raise ConfigurationError("overlap must not be negative")
        predicates: list[str | None] = ["createdAt >= :since"]
        variables: dict[str, QueryValue] = {"since": cursor - overlap}
        if types:
            predicates.append("type in :types")
            variables["types"] = list(types)

        def fetch(params: list[tuple[str, str]]) -> Any:
            return self._api.request("GET", "/messages", params=params)

        pages = iter_pages_by_time(
            fetch,
            field="createdAt",
            where=join_predicates(predicates),
            variables=variables,
            page_size=page_size,
        )
        return parsed_pages(cursor, pages, parse_message, lambda m: m.created_at)
