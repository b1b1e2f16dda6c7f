"""The hash of a mapping configuration: which rules a decision was made with.

:func:`config_hash` gives the same text for two configurations exactly when they are equal, in
every process (sets and tables are written in sorted order, never in hash order), so a checkout
verdict and the order run can tell whether they used the same rules.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, cast

import attrs

__all__ = ["config_hash"]


def _canonical(value: object) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, enum.Enum):
        return _canonical(value.value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, re.Pattern):
        return {"pattern": value.pattern, "flags": value.flags}
    if attrs.has(type(value)):
        fields = attrs.fields(cast("type[attrs.AttrsInstance]", type(value)))
        return {
            "@": type(value).__name__,
            **{a.name: _canonical(getattr(value, a.name)) for a in fields if a.init},
        }
    if isinstance(value, Mapping):
        return [[_canonical(k), _canonical(v)] for k, v in sorted(value.items(), key=_key)]
    if isinstance(value, set | frozenset):
        return sorted((_canonical(item) for item in value), key=_text)
    if isinstance(value, tuple | list):
        return [_canonical(item) for item in value]
    raise TypeError(f"no canonical form for {type(value).__name__}")


def _text(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _key(item: tuple[object, object]) -> str:
    return _text(_canonical(item[0]))


def config_hash(config: object) -> str:
    """A short, stable hash (16 hex digits of SHA-256) of a configuration object's values."""
    digest = hashlib.sha256(_text(_canonical(config)).encode()).hexdigest()
    return digest[:16]
