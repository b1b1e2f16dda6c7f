"""Turn a commercetools HTTP answer into data or a typed error. Pure: no I/O, no clock.

| status | raised |
|---|---|
| 2xx | nothing: the JSON body is returned (``None`` when empty; ``version_only``: its version) |
| 400 | :class:`~ct_prima_sync.errors.ValidationError` |
| 401, 403 | :class:`~ct_prima_sync.errors.AuthenticationError` |
| 404 | :class:`~ct_prima_sync.errors.NotFoundError` |
| 409 | :class:`~ct_prima_sync.errors.ConcurrentModificationError` with ``current_version`` |
| 429 | :class:`~ct_prima_sync.errors.RateLimitedError` with ``retry_after`` |
| 5xx | :class:`~ct_prima_sync.errors.ServiceUnavailableError` |
| other | :class:`~ct_prima_sync.errors.CommercetoolsApiError` |

Messages name the status, the API's error codes, the method and path and the correlation id. They
never quote the API's own message text: it echoes input values (e-mail addresses in a
``DuplicateField``, for instance), and personal data stays out of exceptions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..errors import (
    AuthenticationError,
    CommercetoolsApiError,
    ConcurrentModificationError,
    NotFoundError,
    PayloadError,
    RateLimitedError,
    ServiceUnavailableError,
    ValidationError,
)
from ._retry import parse_retry_after

__all__ = ["decode_response", "error_codes", "read_version"]

CORRELATION_HEADER = "X-Correlation-ID"

#: A JSON object's leading members while their values are scalars, up to ``"version"``: what
#: is matched is the object's own version, never one of a nested object's (commercetools sends
#: ``type``, ``id``, ``version`` first).
_SCALAR = r'(?:"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)'
_LEADING_VERSION = re.compile(
    rb'\s*\{(?:\s*"(?:[^"\\]|\\.)*"\s*:\s*' + _SCALAR.encode() + rb"\s*,)*?"
    rb'\s*"version"\s*:\s*(\d+)\s*[,}]'
)


def _load(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"response body is not JSON ({exc.__class__.__name__})") from None


def read_version(body: bytes) -> int | None:
    """The top-level ``version`` of a JSON object body; read from its leading members when it
    comes before any nested value (a resource commercetools sends back), so the rest of the body
    (an order's 9 KB) is not decoded; else from the whole body decoded. ``None`` when there is
    none."""
    match = _LEADING_VERSION.match(body)
    if match is not None:
        return int(match.group(1))
    data = _load(body)
    version = data.get("version") if isinstance(data, dict) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def error_codes(body: object) -> tuple[str, ...]:
    """The ``errors[].code`` values of an error body, or the OAuth ``error`` of an auth error."""
    if not isinstance(body, Mapping):
        return ()
    codes: list[str] = []
    errors = body.get("errors")
    if isinstance(errors, list):
        codes.extend(
            item["code"]
            for item in errors
            if isinstance(item, Mapping) and isinstance(item.get("code"), str)
        )
    if not codes and isinstance(body.get("error"), str):
        codes.append(body["error"])
    return tuple(codes)


def _current_version(body: object) -> int | None:
    if not isinstance(body, Mapping) or not isinstance(body.get("errors"), list):
        return None
    for item in body["errors"]:
        if isinstance(item, Mapping):
            version = item.get("currentVersion")
            if isinstance(version, int) and not isinstance(version, bool):
                return version
    return None


def decode_response(
    status_code: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    method: str,
    path: str,
    correlation_id: str | None,
    now: datetime | None = None,
    version_only: bool = False,
) -> Any:
    """Return the JSON body of a successful answer, or raise the typed error for a failed one.
    ``version_only``: return only a successful body's top-level version (:func:`read_version`).

    ``now`` (timezone-aware) is needed only to read a ``Retry-After`` given as an HTTP date.
    ``correlation_id`` is the one the request sent; the API's echo wins when it differs.
    """
    correlation_id = headers.get(CORRELATION_HEADER, correlation_id)
    if 200 <= status_code < 300:
        return read_version(body) if version_only else _load(body)
    try:
        data = _load(body)
    except PayloadError:
        data = None
    codes = error_codes(data)
    shown = f" ({', '.join(codes)})" if codes else ""
    message = (
        f"commercetools answered {status_code}{shown} to {method} {path}; "
        f"correlation id {correlation_id}"
    )
    if status_code == 400:
        raise ValidationError(
            message, status_code=status_code, codes=codes, correlation_id=correlation_id
        )
    if status_code in (401, 403):
        raise AuthenticationError(
            message, status_code=status_code, codes=codes, correlation_id=correlation_id
        )
    if status_code == 404:
        raise NotFoundError(
            message, status_code=status_code, codes=codes, correlation_id=correlation_id
        )
    if status_code == 409:
        raise ConcurrentModificationError(
            message,
            codes=codes or ("ConcurrentModification",),
            correlation_id=correlation_id,
            current_version=_current_version(data),
        )
    if status_code == 429:
        retry_after = parse_retry_after(headers.get("Retry-After"), now)
        raise RateLimitedError(
            message, codes=codes, correlation_id=correlation_id, retry_after=retry_after
        )
    if status_code >= 500:
        raise ServiceUnavailableError(
            message, status_code=status_code, codes=codes, correlation_id=correlation_id
        )
    raise CommercetoolsApiError(
        message, status_code=status_code, codes=codes, correlation_id=correlation_id
    )
