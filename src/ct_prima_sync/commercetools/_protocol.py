"""What the resource helpers need from a client: one request, one paged query. Typing only."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from ._query import QueryValue

__all__ = ["Api"]


class Api(Protocol):
    """The two calls :class:`~ct_prima_sync.commercetools.CommercetoolsClient` offers resources."""

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        json: Any = None,
        retry_ambiguous: bool = False,
        version_only: bool = False,
    ) -> Any:
        """Send one request below the project and return the decoded JSON (``version_only``:
        only the resource's version)."""
        ...

    def iter_query(
        self,
        resource: str,
        *,
        where: str | None = None,
        variables: Mapping[str, QueryValue] | None = None,
        expand: Sequence[str] = (),
        page_size: int = ...,
    ) -> Iterator[dict[str, Any]]:
        """Yield every raw result of a query, paging by id."""
        ...
