"""``PagedQueryResponse``: one page of query results."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from attrs import frozen

from .base import extra_field

__all__ = ["PageEnvelope", "PagedQueryResponse"]

T = TypeVar("T")


@frozen(kw_only=True)
class PagedQueryResponse(Generic[T]):
    """One page: ``results`` parsed, ``total`` only when the query asked for it."""

    limit: int
    offset: int
    count: int
    results: tuple[T, ...]
    total: int | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class PageEnvelope:
    """The page fields of a ``PagedQueryResponse`` without its results (parsed separately)."""

    limit: int
    offset: int
    count: int
    total: int | None = None
    extra: Mapping[str, Any] = extra_field()
