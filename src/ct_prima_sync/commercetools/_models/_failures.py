"""Why a payload did not parse: cattrs' validation errors as ``(JSON path, message)`` pairs.

Loaded only when a payload fails the fast converter (the detailed one then names every bad field).
"""

from __future__ import annotations

from typing import Any, TypeVar

import attrs
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    IterableValidationError,
    IterableValidationNote,
)

from ct_prima_sync.errors import InvalidMoneyError

from .._converter import MONEY_PATH, FieldError, detailed_converter, wire_name

__all__ = ["detailed_problems"]

T = TypeVar("T")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _note(exc: BaseException, kind: type[T]) -> T | None:
    for note in getattr(exc, "__notes__", ()):
        if isinstance(note, kind):
            return note
    return None


def _problems(exc: BaseException, path: str = "") -> list[tuple[str, str]]:
    """Flatten a structuring failure into ``(JSON path, message)`` pairs, in payload order.

    Messages never contain the offending value (it may be personal data).
    """
    if isinstance(exc, ClassValidationError):
        names = {a.name: wire_name(a) for a in attrs.fields(exc.cl)} if attrs.has(exc.cl) else {}
        found: list[tuple[str, str]] = []
        for sub in exc.exceptions:
            attribute = _note(sub, AttributeValidationNote)
            key = names.get(attribute.name, attribute.name) if attribute else ""
            found.extend(_problems(sub, _join(path, key) if key else path))
        return found
    if isinstance(exc, IterableValidationError):
        found = []
        for sub in exc.exceptions:
            item = _note(sub, IterableValidationNote)
            found.extend(_problems(sub, f"{path}[{item.index}]" if item else path))
        return found
    if isinstance(exc, KeyError):
        return [(path, "required field is missing")]
    if isinstance(exc, InvalidMoneyError):
        text = str(exc)
        sub_path = ""
        if text.startswith(MONEY_PATH):
            sub_path, _, text = text[len(MONEY_PATH) :].partition(": ")
        # The money module quotes a bad currency code back; a payload error never echoes input.
        for quote in ("'", '"'):
            text = text.split(f", got {quote}", 1)[0]
        return [(path + sub_path, text)]
    if isinstance(exc, FieldError):
        return [(path, str(exc))]
    return [(path, f"could not be read ({type(exc).__name__})")]


def detailed_problems(data: Any, cl: type[Any]) -> list[tuple[str, str]]:
    """Every problem the detailed converter finds in ``data`` as ``cl``."""
    try:
        detailed_converter().structure(data, cl)
    except Exception as exc:  # every structuring failure becomes (path, message) pairs
        return _problems(exc)
    return []
