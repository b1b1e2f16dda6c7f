"""Small readers for configuration dicts (from TOML or JSON) that name the setting path on error.

Every ``from_dict(data, path)`` of the mapping configuration uses these, so a bad setting always
raises :class:`~ct_prima_sync.errors.ConfigurationError` with a message such as
``sku.rules[2].pattern: not a valid regular expression``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigurationError

__all__ = [
    "reject_unknown",
    "str_list",
    "str_map",
    "str_or_none",
    "sub_path",
    "table",
]


def sub_path(path: str, key: str | int) -> str:
    """``path`` extended by a key (``a.b``) or an index (``a[3]``)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def table(data: object, path: str) -> Mapping[str, Any]:
    """``data`` as a mapping with string keys (``None`` reads as empty)."""
    if data is None:
        return {}
    if not isinstance(data, Mapping) or not all(isinstance(k, str) for k in data):
        raise ConfigurationError(f"{path}: expected a table (mapping of names to values)")
    return data


def reject_unknown(data: Mapping[str, Any], allowed: Sequence[str], path: str) -> None:
    """Refuse keys that are not settings: a misspelt key must not be silently ignored."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        names = ", ".join(sub_path(path, k) for k in unknown)
        raise ConfigurationError(
            f"{names}: unknown setting (expected one of: {', '.join(sorted(allowed))})"
        )


def str_or_none(data: Mapping[str, Any], key: str, path: str) -> str | None:
    """The non-empty string at ``data[key]``, or ``None`` when absent."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{sub_path(path, key)}: expected a non-empty string")
    return value


def str_list(data: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
    """The list of non-empty strings at ``data[key]`` (absent reads as empty)."""
    value = data.get(key)
    if value is None:
        return ()
    here = sub_path(path, key)
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigurationError(f"{here}: expected a list of strings")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item:
            raise ConfigurationError(f"{sub_path(here, index)}: expected a non-empty string")
    return tuple(value)


def str_map(data: Mapping[str, Any], key: str, path: str) -> dict[str, str]:
    """The table of string to non-empty string at ``data[key]`` (absent reads as empty)."""
    here = sub_path(path, key)
    raw = table(data.get(key), here)
    for name, value in raw.items():
        if not isinstance(value, str) or not value:
            raise ConfigurationError(f"{sub_path(here, name)}: expected a non-empty string")
    return dict(raw)
