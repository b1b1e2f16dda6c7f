"""Messages (``OrderCreated`` and friends), when the project has messages enabled.

Scope ``view_messages``. Messages are kept 1 to 90 days (15 by default), so a poll must run more
often than the retention. ``sequenceNumber`` counts per resource, not per project.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from ..errors import ConfigurationError
from ._models import Message
from ._models.parse import parse_message
from ._protocol import Api
from ._query import MAX_PAGE_SIZE, QueryValue, join_predicates

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
