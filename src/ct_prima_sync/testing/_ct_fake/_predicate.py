"""A small, real parser and evaluator for the commercetools query predicate subset.

Supported (keywords are case-insensitive)::

    field = value   field != value   field <> value   > < >= <=
    field in (v1, v2)      field not in (v1, v2)      field in :listVar
    field is defined       field is not defined
    field contains "x"     field contains any ("x", "y")     field contains all ("x", "y")
    field(nested predicate)              -- nested objects; on arrays: any element matches
    a and b   a or b   not (a)   (a or b) and c
    values: "string" (backslash escapes), integers, decimals, true, false, :variable

Input variables come from ``var.<name>`` query parameters; a variable given several times is a
list. Comparisons between ISO-8601 timestamps compare instants, not strings.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ct_prima_sync.errors import ValidationError

__all__ = [
    "DATETIME",
    "Predicate",
    "Shape",
    "parse_instant",
    "parse_predicate",
    "parse_where",
    "sort_key",
]

Predicate = Callable[[Any], bool]

Shape = tuple[Any, ...] | None
"""What a predicate says about top-level fields, as far as a query's indexes can use it:
``("cmp", field, op, literal)``, ``("in", field, values)``, ``("and", parts)``, ``("or", parts)``;
``None`` for anything else (negations, nested fields, ``not in``, ``contains``, ``is defined``),
which tells nothing."""

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<var>:[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><>|!=|>=|<=|=|<|>)
      | (?P<punct>[(),])
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_DATETIME = DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_MISSING = object()


def _shown(token: tuple[str, str]) -> str:
    """A token for an error message; literals are not echoed (they may be personal data)."""
    kind, text = token
    return {"string": "a string literal", "number": "a number"}.get(kind, repr(text))


def _invalid(message: str) -> ValidationError:
    return ValidationError(
        f"Malformed parameter: where: {message}", status_code=400, codes=["InvalidInput"]
    )


class _Tokens:
    def __init__(self, text: str) -> None:
        self.items: list[tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise _invalid(f"unexpected character at position {pos}")
            kind = match.lastgroup
            assert kind is not None
            self.items.append((kind, match.group(kind)))
            pos = match.end()
        self.index = 0

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        at = self.index + offset
        return self.items[at] if at < len(self.items) else None

    def peek_word(self, offset: int = 0) -> str | None:
        token = self.peek(offset)
        return token[1].lower() if token is not None and token[0] == "ident" else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _invalid("unexpected end of predicate")
        self.index += 1
        return token

    def expect(self, value: str) -> None:
        token = self.take()
        if token[1].lower() != value:
            raise _invalid(f"expected {value!r}, found {_shown(token)}")


class _Parser:
    """Recursive descent over the tokens; each rule returns the predicate and its :data:`Shape`."""

    def __init__(self, text: str, variables: Mapping[str, Sequence[str]]) -> None:
        self.tokens = _Tokens(text)
        self.variables = variables

    def parse(self) -> tuple[Predicate, Shape]:
        predicate = self.disjunction()
        if self.tokens.peek() is not None:
            raise _invalid(f"unexpected {_shown(self.tokens.take())}")
        return predicate

    def disjunction(self) -> tuple[Predicate, Shape]:
        parts = [self.conjunction()]
        while self.tokens.peek_word() == "or":
            self.tokens.take()
            parts.append(self.conjunction())
        if len(parts) == 1:
            return parts[0]
        checks = [check for check, _ in parts]
        return (
            lambda item: any(check(item) for check in checks),
            ("or", tuple(shape for _, shape in parts)),
        )

    def conjunction(self) -> tuple[Predicate, Shape]:
        parts = [self.negation()]
        while self.tokens.peek_word() == "and":
            self.tokens.take()
            parts.append(self.negation())
        if len(parts) == 1:
            return parts[0]
        checks = [check for check, _ in parts]
        return (
            lambda item: all(check(item) for check in checks),
            ("and", tuple(shape for _, shape in parts)),
        )

    def negation(self) -> tuple[Predicate, Shape]:
        if self.tokens.peek_word() == "not":
            self.tokens.take()
            inner, _ = self.negation()
            return (lambda item: not inner(item)), None
        return self.primary()

    def primary(self) -> tuple[Predicate, Shape]:
        token = self.tokens.peek()
        if token == ("punct", "("):
            self.tokens.take()
            inner = self.disjunction()
            self.tokens.expect(")")
            return inner
        token = self.tokens.take()
        kind, name = token
        if kind != "ident":
            raise _invalid(f"expected a field name, found {_shown(token)}")
        return self.field_predicate(name)

    def field_predicate(self, name: str) -> tuple[Predicate, Shape]:
        token = self.tokens.peek()
        if token == ("punct", "("):
            self.tokens.take()
            nested, _ = self.disjunction()
            self.tokens.expect(")")
            return _nested(name, nested), None
        if token is not None and token[0] == "op":
            self.tokens.take()
            literal = self.value()
            return _compare(name, token[1], literal), ("cmp", name, token[1], literal)
        word = self.tokens.peek_word()
        if word == "is":
            self.tokens.take()
            negated = self.tokens.peek_word() == "not"
            if negated:
                self.tokens.take()
            self.tokens.expect("defined")
            return _defined(name, negated=negated), None
        if word == "not" and self.tokens.peek_word(1) == "in":
            self.tokens.take()
            self.tokens.take()
            values = self.value_list()
            member = _member(name, values)
            return (lambda item: not member(item)), None
        if word == "in":
            self.tokens.take()
            values = self.value_list()
            return _member(name, values), ("in", name, tuple(values))
        if word == "contains":
            self.tokens.take()
            mode = self.tokens.peek_word()
            if mode in ("any", "all"):
                self.tokens.take()
                return _contains(name, self.value_list(), every=mode == "all"), None
            return _contains(name, [self.value()], every=True), None
        raise _invalid(f"expected an operator after {name!r}")

    def value_list(self) -> list[Any]:
        token = self.tokens.peek()
        if token is not None and token[0] == "var":
            self.tokens.take()
            return list(self.variable(token[1][1:]))
        self.tokens.expect("(")
        values: list[Any] = []
        while True:
            token = self.tokens.peek()
            if token is not None and token[0] == "var":
                self.tokens.take()
                values.extend(self.variable(token[1][1:]))
            else:
                values.append(self.value())
            if self.tokens.peek() == ("punct", ","):
                self.tokens.take()
                continue
            self.tokens.expect(")")
            return values

    def value(self) -> Any:
        kind, text = self.tokens.take()
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind == "number":
            return int(text) if "." not in text else Decimal(text)
        if kind == "var":
            values = self.variable(text[1:])
            return values[0] if len(values) == 1 else list(values)
        if kind == "ident" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise _invalid(f"expected a value, found {_shown((kind, text))}")

    def variable(self, name: str) -> Sequence[str]:
        values = self.variables.get(name)
        if not values:
            raise _invalid(f"input variable {name!r} has no value (send var.{name})")
        return values


def parse_predicate(text: str, variables: Mapping[str, Sequence[str]] | None = None) -> Predicate:
    """Compile a ``where`` predicate into a function of a resource (a JSON ``dict``).

    Raises :class:`ValidationError` (400 ``InvalidInput``) for a predicate outside the subset.
    """
    return parse_where(text, variables)[0]


def parse_where(
    text: str, variables: Mapping[str, Sequence[str]] | None = None
) -> tuple[Predicate, Shape]:
    """:func:`parse_predicate`, with the predicate's :data:`Shape` (what a query may use to skip
    resources no result can be: ``_query``'s sorted index)."""
    return _Parser(text, variables or {}).parse()


def _field(item: Any, name: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(name, _MISSING)
    return _MISSING


def _nested(name: str, inner: Predicate) -> Predicate:
    def check(item: Any) -> bool:
        value = _field(item, name)
        if isinstance(value, list):
            return any(inner(element) for element in value)
        return value is not _MISSING and value is not None and inner(value)

    return check


def _defined(name: str, *, negated: bool) -> Predicate:
    def check(item: Any) -> bool:
        value = _field(item, name)
        return (
            (value is _MISSING or value is None)
            if negated
            else not (value is _MISSING or value is None)
        )

    return check


@functools.lru_cache(maxsize=1 << 16)
def parse_instant(text: str) -> datetime | None:
    """A timestamp's text as a datetime (``Z`` read as UTC), None when it is none; kept for the
    texts seen last, as every query compares the same resources' timestamps again."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _coerce(left: Any, right: Any) -> tuple[Any, Any]:
    """Bring a field value and a literal to comparable types, as the API's typed variables do."""
    if isinstance(left, bool) or isinstance(right, bool):
        if isinstance(right, str) and right in ("true", "false"):
            return left, right == "true"
        return left, right
    if isinstance(left, int | Decimal) and isinstance(right, str):
        try:
            return Decimal(left), Decimal(right)
        except InvalidOperation:
            return left, right
    if (
        isinstance(left, str)
        and isinstance(right, str)
        and _DATETIME.match(left)
        and _DATETIME.match(right)
    ):
        left_instant, right_instant = parse_instant(left), parse_instant(right)
        if left_instant is None or right_instant is None:
            return left, right
        return left_instant, right_instant
    return left, right


def _apply(op: str, left: Any, right: Any) -> bool:
    left, right = _coerce(left, right)
    try:
        if op == "=":
            return bool(left == right)
        if op in ("!=", "<>"):
            return bool(left != right)
        if op == ">":
            return bool(left > right)
        if op == "<":
            return bool(left < right)
        if op == ">=":
            return bool(left >= right)
        return bool(left <= right)
    except TypeError:
        return False


def _compare(name: str, op: str, literal: Any) -> Predicate:
    def check(item: Any) -> bool:
        value = _field(item, name)
        if value is _MISSING or value is None:
            return op in ("!=", "<>")
        return _apply(op, value, literal)

    return check


def _member(name: str, values: Sequence[Any]) -> Predicate:
    # A text field against plain text values (no timestamps) compares as the strings are: a set
    # answers it at once (``sku in :skus`` with a hundred SKUs, over every inventory entry).
    plain = all(isinstance(v, str) and not _DATETIME.match(v) for v in values)
    texts = frozenset(values) if plain else frozenset()

    def check(item: Any) -> bool:
        value = _field(item, name)
        if value is _MISSING or value is None:
            return False
        if plain and isinstance(value, str):
            return value in texts
        return any(_apply("=", value, candidate) for candidate in values)

    return check


def _contains(name: str, values: Sequence[Any], *, every: bool) -> Predicate:
    def check(item: Any) -> bool:
        value = _field(item, name)
        if not isinstance(value, list):
            return False
        hits = (any(_apply("=", element, wanted) for element in value) for wanted in values)
        return all(hits) if every else any(hits)

    return check


def sort_key(value: Any) -> tuple[int, Any]:
    """A key that orders field values of mixed kinds: timestamps, numbers, text, then missing."""
    if isinstance(value, str) and _DATETIME.match(value):
        instant = parse_instant(value)
        if instant is not None:
            return (0, instant)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return (1, Decimal(value))
    if isinstance(value, str | bool):
        return (2, str(value))
    return (3, 0)
