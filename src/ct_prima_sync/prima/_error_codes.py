"""Prima's ``(E:nnn) message`` error codes: parsed into data, classified by a configurable table.

A real installation's refusal text holds one or more ``(E:nnn) message`` parts separated by
newlines, each followed by a "DEV MODE Stack Trace" tail (``docs/prima.md``)::

    (E:194) There were no Valid Order Lines found for Order CT-1 DEV MODE Stack Trace: ...
    (E:548) Price obtained from the Price Book has a different VAT Incl Prices Value ...

:func:`parse_error_codes` turns that into :class:`~ct_prima_sync.prima.PrimaErrorCode` values,
:func:`short_error_text` into what a person should read (the messages without the tails), and
:class:`ErrorCodeTable` says what each code means to the library. Codes may be localised or differ
by version: the table is configuration, with the codes seen on a real installation as defaults.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from typing import Final

from attrs import field, frozen

from ..errors import ConfigurationError
from ._models import PrimaErrorCode

__all__ = [
    "ErrorCodeMeaning",
    "ErrorCodeTable",
    "parse_error_codes",
    "short_error_text",
]

_CODE: Final = re.compile(r"\(\s*(E\s*:\s*\d+)\s*\)")
_TAIL: Final = re.compile(r"DEV\s+MODE\s+Stack\s+Trace", re.IGNORECASE)
_MAX_MESSAGE: Final = 300


def _clean(text: str) -> str:
    cut = _TAIL.search(text)
    if cut is not None:
        text = text[: cut.start()]
    shown = " ".join(text.split())
    return shown if len(shown) <= _MAX_MESSAGE else shown[: _MAX_MESSAGE - 3] + "..."


def parse_error_codes(text: str) -> tuple[PrimaErrorCode, ...]:
    """Every ``(E:nnn) message`` part of ``text``, in order; empty when it has none.

    The code is normalised to ``E:nnn`` (no spaces); the message is the text up to the next code
    or the part's "DEV MODE Stack Trace" tail, on one line.
    """
    matches = list(_CODE.finditer(text))
    codes: list[PrimaErrorCode] = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        code = "".join(match.group(1).split()).upper()
        codes.append(PrimaErrorCode(code=code, message=_clean(text[match.end() : end])))
    return tuple(codes)


def short_error_text(text: str) -> str:
    """``text`` as a person should read it: each code with its message, tails removed."""
    codes = parse_error_codes(text)
    if not codes:
        return _clean(text)
    return "; ".join(f"({c.code}) {c.message}".rstrip() for c in codes)


class ErrorCodeMeaning(enum.StrEnum):
    """What an error code means to the library."""

    DUPLICATE_ORDER_NUMBER = "duplicate_order_number"
    """The order number already exists in Prima (``E:21``): the order itself may or may not be
    this one, so the engine asks before it decides."""
    PRICE_BOOK_MISMATCH = "price_book_mismatch"
    """The order's VAT-inclusive prices disagree with Prima's price book (``E:548``): a mapping
    problem for finance (``VatInclusive`` and the price basis)."""
    FOLLOW_ON = "follow_on"
    """A consequence of another error (``E:194``): never decides who owns the refusal."""
    UNKNOWN = "unknown"
    """A code the table does not list."""


def _codes(value: Iterable[str]) -> frozenset[str]:
    return frozenset("".join(str(v).split()).upper() for v in value)


def _check_codes(_: object, attribute: object, value: frozenset[str]) -> None:
    name = getattr(attribute, "name", "error_codes")
    for code in value:
        if not re.fullmatch(r"E:\d+", code):
            raise ConfigurationError(f"error_codes.{name}: {code!r} is not a code like 'E:21'")


@frozen(kw_only=True)
class ErrorCodeTable:
    """Which Prima error codes mean what (``OmlinkSchema.error_codes``).

    Defaults are the codes a real installation gave: ``E:21`` duplicate order number, ``E:548``
    price-book mismatch, ``E:194`` follow-on. Each field takes any number of codes (``"E:21"``),
    for installations whose codes differ by version or language.
    """

    duplicate_order_number: frozenset[str] = field(
        default=frozenset({"E:21"}), converter=_codes, validator=_check_codes
    )
    price_book_mismatch: frozenset[str] = field(
        default=frozenset({"E:548"}), converter=_codes, validator=_check_codes
    )
    follow_on: frozenset[str] = field(
        default=frozenset({"E:194"}), converter=_codes, validator=_check_codes
    )

    def __attrs_post_init__(self) -> None:
        groups = (self.duplicate_order_number, self.price_book_mismatch, self.follow_on)
        seen: set[str] = set()
        for group in groups:
            if seen & group:
                raise ConfigurationError(
                    f"error_codes: {', '.join(sorted(seen & group))} is listed twice"
                )
            seen |= group

    def meaning(self, code: str) -> ErrorCodeMeaning:
        """What ``code`` (``E:nnn``) means."""
        if code in self.duplicate_order_number:
            return ErrorCodeMeaning.DUPLICATE_ORDER_NUMBER
        if code in self.price_book_mismatch:
            return ErrorCodeMeaning.PRICE_BOOK_MISMATCH
        if code in self.follow_on:
            return ErrorCodeMeaning.FOLLOW_ON
        return ErrorCodeMeaning.UNKNOWN

    def deciding(self, codes: Sequence[PrimaErrorCode]) -> PrimaErrorCode | None:
        """The first code that is not a follow-on, which decides who owns the refusal."""
        for code in codes:
            if self.meaning(code.code) is not ErrorCodeMeaning.FOLLOW_ON:
                return code
        return None

    def decide(self, codes: Sequence[PrimaErrorCode]) -> ErrorCodeMeaning:
        """The meaning of the deciding code; UNKNOWN when every code is a follow-on or none."""
        first = self.deciding(codes)
        return self.meaning(first.code) if first is not None else ErrorCodeMeaning.UNKNOWN
