"""The API's error body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from .base import extra_field, wire

__all__ = ["ErrorObject", "ErrorResponse"]


@frozen(kw_only=True)
class ErrorObject:
    """One entry of ``errors``: a ``code`` (``ConcurrentModification``, ``InvalidInput``, ...) and
    its message; code-specific fields (``currentVersion``, ``field``, ...) are in ``extra``."""

    code: str
    message: str = field(repr=False)
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class ErrorResponse:
    """``{statusCode, message, errors}``; the auth endpoints add ``error`` and
    ``error_description``. Messages may echo input (an e-mail in a duplicate-field error), so
    they stay out of ``repr``."""

    status_code: int
    message: str = field(repr=False)
    errors: tuple[ErrorObject, ...] = ()
    error: str | None = None
    error_description: str | None = field(
        default=None, repr=False, metadata=wire("error_description")
    )
    extra: Mapping[str, Any] = extra_field()

    @property
    def codes(self) -> tuple[str, ...]:
        """The ``errors[].code`` values, in the order the API sent them."""
        return tuple(error.code for error in self.errors)
