"""Checks every store applies to its inputs in the same way."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from ..errors import DuplicateRecordError, StateError
from ._records import OrderLine


def json_detail(detail: dict[str, Any]) -> str:
    """``detail`` as canonical JSON text; refuses what JSON cannot carry (NaN, objects)."""
    if not isinstance(detail, dict):
        raise StateError("exception detail must be a dict")
    try:
        return json.dumps(detail, sort_keys=True, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise StateError(f"exception detail is not JSON-able: {type(exc).__name__}") from None


def check_limit(limit: int | None) -> None:
    """Limits are positive integers (or None where allowed)."""
    if limit is not None and limit < 1:
        raise StateError(f"limit must be at least 1, got {limit}")


def check_seconds(seconds: float, what: str) -> None:
    """Durations are positive."""
    if not seconds > 0:
        raise StateError(f"{what} must be positive")


def check_name(name: str, what: str) -> None:
    """Names (flows, cursors) are short, non-empty strings."""
    if not isinstance(name, str) or not name or len(name) > 100:
        raise StateError(f"{what} must be a non-empty name of at most 100 characters")


def json_counts(counts: Mapping[str, int]) -> str:
    """A run's counts as canonical JSON; refuses anything but whole numbers by name."""
    clean: dict[str, int] = {}
    for name, value in counts.items():
        if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, int):
            raise StateError("run counts must map names to whole numbers")
        clean[name] = value
    return json.dumps(clean, sort_keys=True, separators=(",", ":"))


def needles(texts: Collection[str]) -> list[str]:
    """Lower-cased search strings for ``texts``, each as written and as JSON escapes it (stored
    JSON may escape non-ASCII characters)."""
    found: list[str] = []
    for text in texts:
        if not text:
            continue
        for form in (text, json.dumps(text)[1:-1]):
            if form.lower() not in found:
                found.append(form.lower())
    return found


def merge_lines(lines: Iterable[OrderLine]) -> dict[tuple[str, str], int]:
    """An order's lines as units per (sku, depot), lines of the same key added up; refuses
    negative or non-integer quantities and empty SKUs, and leaves out keys that add up to 0."""
    merged: dict[tuple[str, str], int] = {}
    for line in lines:
        quantity = line.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise StateError(f"order line {line.sku!r}: quantity must be a whole number >= 0")
        if not line.sku:
            raise StateError("order line: the SKU must not be empty")
        key = (line.sku, line.depot)
        merged[key] = merged.get(key, 0) + quantity
    return {key: units for key, units in merged.items() if units > 0}


def check_references(references: Sequence[tuple[str, str]]) -> None:
    """A batch of ``(order id, Prima reference)`` names each order and each reference once."""
    orders = [order_id for order_id, _ in references]
    if len(set(orders)) != len(orders):
        raise StateError("an order is named twice in one batch of Prima references")
    given = [reference for _, reference in references if reference]
    if len(set(given)) != len(given):
        raise DuplicateRecordError("a Prima reference is given twice in one batch")
