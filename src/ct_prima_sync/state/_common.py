"""Checks every store applies to its inputs in the same way."""

from __future__ import annotations

import json
from typing import Any

from ..errors import StateError


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
