"""Low-level XML for omlink: safe parsing, case-insensitive reading, escaped writing.

Every parse goes through defusedxml with DTDs, entity declarations and external references
forbidden: replies are untrusted input. Reading matches element and attribute names without regard
to case (installations have varied) and applies the site's attribute renames; writing escapes every
value (ElementTree does) and turns characters the declared encoding cannot carry into character
references.
"""

from __future__ import annotations

import enum
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation, getcontext
from typing import Final

import defusedxml
from defusedxml.ElementTree import fromstring as defused_fromstring

from ...errors import CtPrimaSyncError, InvalidMoneyError, PayloadError
from ...money import Money, default_fraction_digits

__all__ = [
    "Encoding",
    "Names",
    "Node",
    "document",
    "escape_attribute",
    "escape_text",
    "format_bool",
    "format_money",
    "format_rate",
    "money_formatter",
    "new_element",
    "parse_document",
    "serialize",
    "wire_element",
]

# XML 1.0 cannot carry these at all (not even as character references).
_ILLEGAL_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_INT: Final = re.compile(r"^[+-]?[0-9]+$")
_DECIMAL: Final = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_NEEDS_ESCAPE: Final = re.compile(r'[&<>"\r\n\t]')
#: Amounts of fewer digits are written from their integers (``money_formatter``).
_EXACT_DIGITS: Final = 19
_EXACT_UNITS: Final = 10**_EXACT_DIGITS
#: Either of the two above: a value without any is written as it is.
_SPECIAL: Final = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff&<>"\r\n\t]')
_ATTRIBUTE_ESCAPES: Final = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\r": "&#13;",
        "\n": "&#10;",
        "\t": "&#09;",
    }
)


class Encoding(enum.StrEnum):
    """The encoding an omlink message declares."""

    ISO_8859_1 = "ISO-8859-1"
    UTF_8 = "UTF-8"


class Names:
    """Maps the library's default attribute and element names to an installation's names."""

    __slots__ = ("_renames",)

    def __init__(self, renames: Mapping[str, str] | None = None) -> None:
        self._renames = dict(renames or {})

    @property
    def renames(self) -> Mapping[str, str]:
        """The installation's names by the library's (empty: the defaults throughout)."""
        return self._renames

    def wire(self, name: str) -> str:
        """The name as the installation spells it."""
        return self._renames.get(name, name)


def wire_element(
    names: Names, tag: str, attrs: Mapping[str, str | None]
) -> tuple[str, dict[str, str], bool]:
    """An element's wire name and attributes, ``None`` values left out, and whether no value
    needs escaping; a value XML cannot carry raises :class:`PayloadError` naming its attribute.
    """
    kept = {key: value for key, value in attrs.items() if value is not None}
    values = "".join(kept.values())
    plain = _SPECIAL.search(values) is None  # one search for the common case
    if not plain and _ILLEGAL_XML.search(values):  # the culprit only then
        key = next(k for k, v in kept.items() if _ILLEGAL_XML.search(v))
        raise PayloadError("contains a character XML cannot carry", path=key)
    renames = names.renames
    if not renames:
        return tag, kept, plain
    return renames.get(tag, tag), {renames.get(k, k): v for k, v in kept.items()}, plain


def new_element(
    names: Names, tag: str, attrs: Mapping[str, str | None], parent: ET.Element | None = None
) -> ET.Element:
    """An element with the given attributes; ``None`` values are left out, others escaped."""
    wire_tag, wire_attrs, _ = wire_element(names, tag, attrs)
    if parent is None:
        return ET.Element(wire_tag, wire_attrs)
    return ET.SubElement(parent, wire_tag, wire_attrs)


def document(body: str, encoding: Encoding) -> str:
    """``body`` (written as ElementTree writes text) with its XML declaration; with ISO-8859-1,
    every character outside Latin-1 as a character reference (ElementTree's replacement)."""
    if encoding is Encoding.ISO_8859_1:
        body = body.encode("iso-8859-1", "xmlcharrefreplace").decode("latin-1")
    return f'<?xml version="1.0" encoding="{encoding.value}"?>{body}'


def serialize(root: ET.Element, encoding: Encoding) -> str:
    """The document as a string with its XML declaration.

    With ISO-8859-1 every character outside Latin-1 becomes a character reference, so the string
    can be encoded as declared. The text is ElementTree's, character for character; a tree of
    plain elements (no namespaces, comments or processing instructions: every omlink string)
    is written without ElementTree's general serializer, at a fraction of its cost.
    """
    parts: list[str] = []
    if _write_plain(root, parts.append):
        return document("".join(parts), encoding)
    if encoding is Encoding.ISO_8859_1:
        body = ET.tostring(root, encoding="iso-8859-1", xml_declaration=False).decode("latin-1")
    else:
        body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="{encoding.value}"?>{body}'


def _write_plain(el: ET.Element, write: Callable[[str], object]) -> bool:
    """Write ``el`` as ``ElementTree.tostring`` does, when it is a plain element (a string tag
    and string attributes, no namespace); False, with something written perhaps, when it is
    not (the caller throws that away)."""
    tag = el.tag
    if not isinstance(tag, str) or "{" in tag:
        return False
    write("<" + tag)
    for key, value in el.attrib.items():
        if not isinstance(key, str) or not isinstance(value, str) or "{" in key:
            return False
        write(f' {key}="{escape_attribute(value)}"')
    text = el.text
    if text or len(el):
        write(">")
        if text:
            write(escape_text(text))
        for child in el:
            if not _write_plain(child, write):
                return False
        write(f"</{tag}>")
    else:
        write(" />")
    tail = el.tail
    if tail:
        write(escape_text(tail))
    return True


def escape_text(text: str) -> str:
    """Character data escaped as ElementTree escapes it."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def escape_attribute(text: str) -> str:
    """An attribute value escaped as ElementTree escapes it (line ends and tabs as character
    references, so that they survive attribute-value normalisation)."""
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    return text.translate(_ATTRIBUTE_ESCAPES)


def local_name(tag: object) -> str:
    """An element's name without its namespace, lower-cased."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2].lower()


def parse_document(text: str | bytes, error: type[CtPrimaSyncError]) -> ET.Element:
    """Parse untrusted XML; anything malformed or hostile raises ``error`` (and nothing else)."""
    try:
        root: ET.Element = defused_fromstring(
            text, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException as exc:
        raise error(f"hostile XML refused ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise error(f"not well-formed XML ({exc.msg if hasattr(exc, 'msg') else exc})") from None
    except (ValueError, TypeError, LookupError) as exc:
        raise error(f"unreadable XML ({type(exc).__name__})") from None
    if not isinstance(root, ET.Element):
        raise error("the XML has no root element")
    return root


class Node:
    """A read-only view of an element that matches names case-insensitively."""

    __slots__ = ("_attrs", "_el", "_error", "_names", "path")

    def __init__(
        self, el: ET.Element, names: Names, error: type[CtPrimaSyncError], path: str = ""
    ) -> None:
        self._el = el
        self._names = names
        self._error = error
        self._attrs = {k.rpartition("}")[2].lower(): v for k, v in el.attrib.items()}
        self.path = path or local_name(el.tag)

    @property
    def name(self) -> str:
        """The element's local name, lower-cased."""
        return local_name(self._el.tag)

    def is_named(self, name: str) -> bool:
        """True when the element is (the installation's spelling of) ``name``."""
        return self.name == self._names.wire(name).lower()

    def fail(self, message: str, field: str = "") -> CtPrimaSyncError:
        """The error to raise for a bad value here (the caller raises it)."""
        where = f"{self.path}@{field}" if field else self.path
        if self._error is PayloadError:
            return PayloadError(message, path=where)
        return self._error(f"{where}: {message}")

    def text(self, name: str, default: str = "") -> str:
        """An attribute's value, or ``default`` when absent."""
        return self._attrs.get(self._names.wire(name).lower(), default)

    def has(self, name: str) -> bool:
        """True when the attribute is present."""
        return self._names.wire(name).lower() in self._attrs

    def required(self, name: str) -> str:
        """An attribute that must be present and non-empty."""
        value = self.text(name)
        if not value:
            raise self.fail("is missing or empty", name)
        return value

    def attributes(self) -> dict[str, str]:
        """Every attribute, with the names as sent."""
        return {k.rpartition("}")[2]: v for k, v in self._el.attrib.items()}

    def children(self, name: str) -> Iterator[Node]:
        """Child elements named ``name`` (any case), in document order."""
        wanted = self._names.wire(name).lower()
        index = 0
        for child in self._el:
            if local_name(child.tag) == wanted:
                yield Node(child, self._names, self._error, f"{self.path}/{name}[{index}]")
                index += 1

    def child(self, name: str) -> Node | None:
        """The first child element named ``name``, if any."""
        return next(self.children(name), None)

    def integer(self, name: str, default: int | None = None) -> int:
        """An integer attribute."""
        raw = self.text(name).strip()
        if not raw and default is not None:
            return default
        if not _INT.match(raw):
            raise self.fail("is not an integer", name)
        return int(raw)

    def decimal(self, name: str, default: Decimal | None = None) -> Decimal:
        """A decimal attribute (never a float)."""
        raw = self.text(name).strip()
        if not raw and default is not None:
            return default
        if not _DECIMAL.match(raw):
            raise self.fail("is not a decimal number", name)
        try:
            return Decimal(raw)
        except InvalidOperation:
            raise self.fail("is not a decimal number", name) from None

    def money(self, name: str, currency: str, default_zero: bool = True) -> Money:
        """An amount in major units; keeps the currency's fraction digits, or more if sent."""
        raw = self.text(name).strip()
        if not raw:
            if default_zero:
                return Money.zero(currency)
            raise self.fail("is missing or empty", name)
        value = self.decimal(name)
        exponent = value.as_tuple().exponent
        sent_digits = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        digits = max(default_fraction_digits(currency), sent_digits)
        try:
            return Money.from_decimal(value, currency, digits)
        except InvalidMoneyError:
            raise self.fail("is not an amount", name) from None

    def boolean(self, name: str, default: bool = False) -> bool:
        """A Yes/No attribute (also accepts true/false, Y/N, 1/0)."""
        raw = self.text(name).strip().lower()
        if not raw:
            return default
        if raw in {"yes", "y", "true", "1"}:
            return True
        if raw in {"no", "n", "false", "0"}:
            return False
        raise self.fail("is not Yes or No", name)

    def date(self, name: str, fmt: str) -> date | None:
        """A date attribute in the installation's format, or None when empty."""
        raw = self.text(name).strip()
        if not raw:
            return None
        try:
            return datetime.strptime(raw, fmt).date()  # noqa: DTZ007 (a calendar date, no time)
        except ValueError:
            raise self.fail("is not a date in the configured format", name) from None

    def datetime(self, name: str, fmt: str) -> datetime | None:
        """A date-time attribute, read as UTC, or None when empty."""
        raw = self.text(name).strip()
        if not raw:
            return None
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=UTC)
        except ValueError:
            raise self.fail("is not a date-time in the configured format", name) from None


def format_bool(value: bool) -> str:
    """Prima's Yes/No."""
    return "Yes" if value else "No"


def format_rate(rate: Decimal) -> str:
    """A tax rate in plain positional notation: ``str(Decimal)`` writes ``0E-7`` or ``2E+1`` for
    some values, which Prima's number parsing need not read."""
    return format(abs(rate) if rate.is_zero() else rate, "f")


def format_money(amount: Money) -> str:
    """An amount as a decimal string with exactly its fraction digits (never a float)."""
    return f"{amount.to_decimal():.{amount.fraction_digits}f}"


def money_formatter() -> Callable[[Money], str]:
    """:func:`format_money`, or a quicker function writing the same text, for the amounts of one
    document: the quicker one when this thread's decimal context holds every amount of under
    20 digits exactly (the default context does), as :func:`format_money` needs for its text."""
    context = getcontext()
    exact = context.prec >= _EXACT_DIGITS and context.Emin <= -21 and context.Emax >= 20
    return _format_minor_units if exact and not context.clamp else format_money


def _format_minor_units(amount: Money) -> str:
    """:func:`format_money`'s text written from the integer minor units (an exact context)."""
    units, digits = amount.minor_units, amount.fraction_digits
    if digits == 2 and 0 <= units < _EXACT_UNITS:  # the common case, in short
        whole, cents = divmod(units, 100)
        return f"{whole}.{cents:02d}"
    if not -_EXACT_UNITS < units < _EXACT_UNITS:
        return format_money(amount)
    if not digits:
        return str(units)
    text = str(-units if units < 0 else units).rjust(digits + 1, "0")
    return ("-" if units < 0 else "") + text[:-digits] + "." + text[-digits:]
