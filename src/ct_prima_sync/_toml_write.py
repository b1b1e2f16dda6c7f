"""Merge tables into a TOML settings file and leave everything else as it was (pure: text in,
text out).

``tomllib`` reads TOML but does not write it, and a writer that re-serialises the whole document
(``tomli-w``) would drop every comment and reorder what people wrote. The settings the library
writes are flat tables of scalars (``[prima]``, ``[prima.soap]``), so this writer edits lines:
it finds each table's lines, replaces the statements of the keys it sets, adds the missing ones
after the table's last statement, and appends a table that does not exist yet. Every other line
stays byte for byte. The result is parsed again and compared with what was intended; if the file
is written in a way this writer does not follow (dotted keys, inline tables), it refuses instead
of guessing.
"""

from __future__ import annotations

import copy
import json
import math
import re
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from attrs import frozen

from .errors import ConfigurationError

__all__ = ["Scalar", "merge_tables", "toml_value"]

Scalar = str | bool | int | float

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SEGMENT = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*""")


def toml_value(value: Scalar) -> str:
    """``value`` as a TOML value: a basic string, true/false, an integer or a float."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("settings take finite numbers only")
        return repr(value)
    # JSON's escapes are TOML's, except that TOML wants DEL escaped as well.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _key(name: str) -> str:
    return name if _BARE.fullmatch(name) else toml_value(name)


def _segments(text: str) -> tuple[str, ...] | None:
    """The names in a dotted key or header (``prima . "soap"``: prima, soap); None: unreadable."""
    names: list[str] = []
    for piece in _split_dots(text):
        match = _SEGMENT.fullmatch(piece)
        if match is None:
            return None
        basic, literal, bare = match.groups()
        names.append(bare if bare is not None else literal if literal is not None else basic)
    return tuple(names)


def _split_dots(text: str) -> list[str]:
    pieces, current, quote = [], "", ""
    for char in text:
        if quote:
            current += char
            quote = "" if char == quote else quote
        elif char in "\"'":
            current += char
            quote = char
        elif char == ".":
            pieces.append(current)
            current = ""
        else:
            current += char
    return [*pieces, current]


@frozen
class _Statement:
    """Lines ``first`` to ``last`` (inclusive): a header, a key's statement, or nothing."""

    first: int
    last: int
    kind: str  # "table", "array", "key" or "blank" (blank lines and comments)
    name: tuple[str, ...] = ()


class _Scanner:
    """Splits a TOML document into statements, following strings and brackets across lines."""

    def __init__(self) -> None:
        self.depth = 0
        self.string = ""  # the open multi-line string delimiter, if any

    def _scan(self, line: str, start: int) -> None:
        i = start
        while i < len(line):
            if self.string:
                end = line.find(self.string, i)
                if end < 0:
                    return
                i = end + 3
                self.string = ""
                continue
            char = line[i]
            if char == "#":
                return
            if line.startswith(('"""', "'''"), i):
                self.string = line[i : i + 3]
                i += 3
            elif char in "\"'":
                i = self._skip_string(line, i, char)
            else:
                self.depth += char in "[{"
                self.depth -= char in "]}"
                i += 1

    @staticmethod
    def _skip_string(line: str, i: int, quote: str) -> int:
        i += 1
        while i < len(line) and line[i] != quote:
            i += 2 if quote == '"' and line[i] == "\\" else 1
        return i + 1

    def statements(self, lines: list[str]) -> list[_Statement]:
        found: list[_Statement] = []
        index = 0
        while index < len(lines):
            line = lines[index]
            stripped = line.strip()
            first = index
            if not stripped or stripped.startswith("#"):
                found.append(_Statement(first, index, "blank"))
                index += 1
                continue
            if stripped.startswith("["):
                kind = "array" if stripped.startswith("[[") else "table"
                inner = stripped[2:] if kind == "array" else stripped[1:]
                close = inner.find("]]" if kind == "array" else "]")
                name = _segments(inner[:close]) if close >= 0 else None
                found.append(_Statement(first, index, kind, name or ()))
                index += 1
                continue
            key, equals, _ = line.partition("=")
            self._scan(line, len(key) + len(equals))
            while (self.depth > 0 or self.string) and index + 1 < len(lines):
                index += 1
                self._scan(lines[index], 0)
            self.depth, self.string = 0, ""
            found.append(_Statement(first, index, "key", _segments(key) or ()))
            index += 1
        return found


def _region(statements: list[_Statement], table: tuple[str, ...]) -> tuple[int, int] | None:
    """Indexes (into ``statements``) of the table's header and of the first statement after it."""
    for i, statement in enumerate(statements):
        if statement.kind == "table" and statement.name == table:
            later = range(i + 1, len(statements))
            end = next(
                (j for j in later if statements[j].kind in ("table", "array")), len(statements)
            )
            return i, end
    return None


def _merge_one(
    lines: list[str], table: tuple[str, ...], values: Mapping[str, Scalar], eol: str
) -> None:
    statements = _Scanner().statements(lines)
    region = _region(statements, table)
    rendered = {key: f"{_key(key)} = {toml_value(value)}{eol}" for key, value in values.items()}
    if region is None:
        header = "[" + ".".join(_key(n) for n in table) + "]" + eol
        parent = _region(statements, table[:-1]) if len(table) > 1 else None
        if parent is not None:  # a sub-table goes right after its parent's own statements
            filled = [s for s in statements[parent[0] : parent[1]] if s.kind != "blank"]
            at = filled[-1].last + 1
            lines[at:at] = [eol, header, *rendered.values()]
            return
        while lines and not lines[-1].strip():
            lines.pop()
        lines.extend([*([eol] if lines else []), header, *rendered.values()])
        return
    head, end = region
    inside = statements[head + 1 : end]
    replaced: set[str] = set()
    # Replace from the bottom up so earlier line numbers stay valid.
    for statement in reversed(inside):
        if statement.kind == "key" and len(statement.name) == 1 and statement.name[0] in rendered:
            key = statement.name[0]
            lines[statement.first : statement.last + 1] = [rendered[key]]
            replaced.add(key)
    missing = [line for key, line in rendered.items() if key not in replaced]
    if not missing:
        return
    statements = _Scanner().statements(lines)
    head, end = _region(statements, table) or region
    keys = [s for s in statements[head + 1 : end] if s.kind == "key"]
    after = keys[-1].last + 1 if keys else statements[head].last + 1
    lines[after:after] = missing


def _expected(original: dict[str, Any], updates: Mapping[str, Mapping[str, Scalar]]) -> Any:
    expected = copy.deepcopy(original)
    for table, values in updates.items():
        target = expected
        for name in table.split("."):
            target = target.setdefault(name, {})
        for key, value in values.items():
            target[key] = tomllib.loads(f"v = {toml_value(value)}", parse_float=Decimal)["v"]
    return expected


def merge_tables(text: str, updates: Mapping[str, Mapping[str, Scalar]]) -> str:
    """``text`` with the keys of each table in ``updates`` set (tables by dotted name).

    Raises :class:`ConfigurationError` when ``text`` is not TOML, or is written in a way that
    this writer cannot merge into without changing what it means.
    """
    try:
        original = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"the settings are not valid TOML: {exc}") from None
    # Split on newlines only (splitlines() would also split inside strings, at U+2028 and the
    # like); each line keeps a carriage return it had, and new lines follow the file's habit.
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    eol = "\r" if lines and all(line.endswith("\r") for line in lines if line) else ""
    for table in updates:
        _merge_one(lines, tuple(table.split(".")), updates[table], eol)
    merged = "\n".join(lines) + "\n"
    try:
        result = tomllib.loads(merged, parse_float=Decimal)
    except tomllib.TOMLDecodeError:
        result = None
    if result != _expected(original, updates):
        tables = ", ".join(f"[{t}]" for t in updates)
        raise ConfigurationError(
            f"cannot merge {tables} into these settings safely (they are written as dotted keys "
            "or an inline table?): write them as plain tables, or add the settings by hand"
        )
    return merged
