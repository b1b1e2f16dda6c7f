"""The one cattrs converter for settings files, built in one place, and its error messages.

:func:`make_converter` registers, in this order (later registrations win in cattrs):

1. ``str``, ``int``, ``float``, ``bool``: strict. TOML's own type must match (no ``"5"`` for 5, no
   ``true`` for 1); a number setting takes an integer or a decimal (TOML decimals arrive as
   ``Decimal`` and become ``float``: durations and rates, never money).
2. ``datetime``: a TOML date-time or an ISO 8601 string, with its offset.
3. Enums: one of the member values; the message lists them.
4. ``tuple[X, ...]`` and ``frozenset[X]``: a TOML array, each element checked.
5. ``Mapping[str, X]``: a TOML table.
6. Every attrs class (the library's configuration objects): a TOML table structured by cattrs'
   generated function with ``forbid_extra_keys``, so an unknown key is named, not ignored.

:func:`describe` turns what cattrs raises (an exception group with a note per attribute and
index) into one :class:`Problem` per wrong value, with the key path as a person writes it in the
file: ``[prima] rate_limit``, ``[engine.retry] base_seconds``, ``[commercetools] scopes[2]``.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
from attrs import frozen
from cattrs import Converter
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn

from ..errors import ConfigurationError

__all__ = ["Problem", "describe", "make_converter"]

Path = tuple[str | int, ...]


class WrongValueError(ValueError):
    """A value of the wrong type or form; the message says what is expected."""


@frozen
class Problem:
    """One wrong setting: where it is (``[prima] rate_limit``) and what is expected."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def _shown(value: object) -> str:
    """How a wrong value is quoted back: short scalars as written, the rest by kind only."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return f"the number {value}"
    if isinstance(value, str):
        return f'the string "{value}"' if len(value) <= 40 else "a long string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, datetime):
        return "a date-time"
    return f"a {type(value).__name__}"


def _wrong(expected: str, value: object) -> WrongValueError:
    return WrongValueError(f"expected {expected}, got {_shown(value)}")


def _structure_str(value: object, kind: object) -> str:
    if _is_enum(kind):  # a StrEnum reaches the str hook first (cattrs dispatches on the MRO)
        structured: str = _enum_hook(kind)(value, kind)  # type: ignore[arg-type]
        return structured
    if not isinstance(value, str):
        raise _wrong("a string", value)
    return value


def _structure_int(value: object, _type: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong("a whole number", value)
    return value


def _structure_float(value: object, _type: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise _wrong("a number", value)
    return float(value)


def _structure_bool(value: object, _type: object) -> bool:
    if not isinstance(value, bool):
        raise _wrong("true or false", value)
    return value


def _structure_datetime(value: object, _type: object) -> datetime:
    expected = "an ISO 8601 time with an offset, like 2026-01-31T00:00:00+00:00"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise _wrong(expected, value) from None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise _wrong(expected, value)
    return value


def _is_enum(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, enum.Enum)


def _enum_hook(kind: type[enum.Enum]) -> Callable[[Any, Any], Any]:
    values = [str(member.value) for member in kind]

    def structure(value: object, _type: object) -> enum.Enum:
        for member in kind:
            if value == member.value:
                return member
        raise _wrong("one of " + ", ".join(f'"{v}"' for v in values), value)

    return structure


def _origin(kind: Any) -> Any:
    return typing.get_origin(kind)


def _is_sequence(kind: Any) -> bool:
    return _origin(kind) in (tuple, frozenset, set, list)


def _is_mapping(kind: Any) -> bool:
    return _origin(kind) in (dict, Mapping, typing.Mapping)


def make_converter() -> Converter:
    """The settings converter: strict types, every nested table checked, unknown keys named."""
    converter = Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_structure_hook_factory(_is_enum, _enum_hook)

    def sequence_hook(kind: Any) -> Callable[[Any, Any], Any]:
        container = _origin(kind)
        (item,) = typing.get_args(kind)[:1]
        item_hook = converter.get_structure_hook(item)

        def structure(value: object, _type: object) -> Any:
            if not isinstance(value, list | tuple):
                raise _wrong("an array", value)
            items, errors = [], []
            for index, element in enumerate(value):
                try:
                    items.append(item_hook(element, item))
                except Exception as exc:
                    exc.__notes__ = [IterableValidationNote(f"@ index {index}", index, item)]
                    errors.append(exc)
            if errors:
                raise IterableValidationError("wrong items", errors, kind)
            return tuple(items) if container is tuple else container(items)

        return structure

    def mapping_hook(kind: Any) -> Callable[[Any, Any], Any]:
        key_type, value_type = typing.get_args(kind) or (str, Any)
        value_hook = converter.get_structure_hook(value_type)

        def structure(value: object, _type: object) -> Any:
            if not isinstance(value, Mapping):
                raise _wrong("a table", value)
            result, errors = {}, []
            for key, element in value.items():
                try:
                    result[_structure_str(key, key_type)] = value_hook(element, value_type)
                except Exception as exc:
                    exc.__notes__ = [IterableValidationNote(f"@ key {key}", key, value_type)]
                    errors.append(exc)
            if errors:
                raise IterableValidationError("wrong values", errors, kind)
            return result

        return structure

    def attrs_hook(kind: type[Any]) -> Callable[[Any, Any], Any]:
        generated = make_dict_structure_fn(
            kind,
            converter,
            _cattrs_forbid_extra_keys=True,
            _cattrs_prefer_attrib_converters=False,  # the strict hooks, not attrs' converters
        )

        def structure(value: object, _type: object) -> Any:
            if not isinstance(value, Mapping):
                raise _wrong("a table", value)
            return generated(value, kind)

        return structure

    converter.register_structure_hook_factory(_is_sequence, sequence_hook)
    converter.register_structure_hook_factory(_is_mapping, mapping_hook)
    converter.register_structure_hook_factory(attrs.has, attrs_hook)
    return converter


def keys_at(root: type[Any], path: Path) -> set[str]:
    """The keys the attrs class found at ``path`` below ``root`` takes (empty if none)."""
    kind: Any = root
    for part in path:
        if isinstance(part, int):
            continue
        if not attrs.has(kind):
            return set()
        found = {f.name: f.type for f in attrs.fields(attrs.resolve_types(kind))}.get(part)
        if found is None:
            return set()
        kind = _unwrap(found)
    return {f.name for f in attrs.fields(kind)} if attrs.has(kind) else set()


def _unwrap(kind: Any) -> Any:
    """``X | None`` -> ``X``; a string annotation is resolved by attrs beforehand."""
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    if _origin(kind) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return kind


def where(path: Path) -> str:
    """``("engine", "retry", "base_seconds")`` -> ``[engine.retry] base_seconds``; a list index
    attaches to its key (``scopes[2]``); a table alone is ``[engine.retry]``."""
    tables: list[str] = []
    for part in path:
        if isinstance(part, int) and tables:
            tables[-1] = f"{tables[-1]}[{part}]"
        else:
            tables.append(str(part))
    if not tables:
        return ""
    if len(tables) == 1:
        return f"[{tables[0]}]"
    return f"[{'.'.join(tables[:-1])}] {tables[-1]}"


def describe(error: BaseException, path: Path, fields: Callable[[Path], set[str]]) -> list[Problem]:
    """Every wrong value in what cattrs raised while structuring the table at ``path``.

    ``fields(path)`` names the keys the table at ``path`` takes: a validator message that starts
    with one of them (``rate_limit must be positive``) is attached to that key.
    """
    if isinstance(error, ClassValidationError | IterableValidationError):
        problems: list[Problem] = []
        for sub in error.exceptions:
            sub_path = path
            for note in getattr(sub, "__notes__", ()):
                if isinstance(note, AttributeValidationNote):
                    sub_path = (*path, note.name)
                elif isinstance(note, IterableValidationNote):
                    index = note.index
                    sub_path = (*path, index if isinstance(index, int) else str(index))
            problems += describe(sub, sub_path, fields)
        return problems
    if isinstance(error, ForbiddenExtraKeysError):
        known = sorted(fields(path))
        hint = f" (known keys: {', '.join(known)})" if known else ""
        return [
            Problem(where((*path, name)), f"unknown key{hint}")
            for name in sorted(error.extra_fields)
        ]
    if isinstance(error, KeyError):  # cattrs notes the missing attribute: path names it already
        return [Problem(where(path), "required, but missing")]
    if isinstance(error, WrongValueError):
        return [Problem(where(path), str(error))]
    if isinstance(error, ConfigurationError):
        message = str(error)
        # A table's own check may name the table ("submission_flow: max_rate must ..."): the path
        # names it already.
        if path and message.startswith(f"{path[-1]}: "):
            message = message.removeprefix(f"{path[-1]}: ")
        first, _, rest = message.partition(" ")
        name = first.split(".")[-1]
        if rest and name in fields(path):
            return [Problem(where((*path, name)), rest)]
        return [Problem(where(path), message)]
    return [Problem(where(path), f"invalid value ({type(error).__name__})")]
