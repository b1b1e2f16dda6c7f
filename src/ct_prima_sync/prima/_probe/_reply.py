"""What a reply string looks like, whatever its shape (pure): for the probe's report.

The library's codec reads replies into models and refuses what it does not know; the probe needs
the opposite, a description of whatever came back: the root element (``Result`` on the real
installation, ``Reply`` in older shapes), where the status sits (on the root for whole-request
outcomes, on each ``Data`` block for per-order ones, or nowhere), where an error text sits
(``RequestError`` or ``Error`` attributes, or a ``RequestError`` child), the declared encoding, and
the rows' element name and attributes. These readers are deliberately small and local to the
probe: they describe, they do not decide.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from attrs import frozen

from ...errors import PrimaProtocolError
from .._xml._tree import parse_document

__all__ = ["ReplyShape", "describe_reply", "first_message", "unknown_order_marker"]

_DECLARED = re.compile(r"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_STACK_TRACE = re.compile(r"dev mode|stack trace", re.IGNORECASE)
_TRIM = " \t\r\n:;,.-=\"'"


@frozen(kw_only=True)
class ReplyShape:
    """The anatomy of one reply string."""

    root: str
    root_attributes: tuple[str, ...]
    company: str = ""
    """The root's ``Company`` attribute (the real installation names its company there)."""
    status: str = ""
    """``OK`` or ``ERROR`` (``ERROR`` if any block says so), empty when there is none."""
    status_at: str = ""
    """Where the status sits, e.g. ``Result@RequestStatus`` or ``Result/Data@RequestStatus``."""
    error: str = ""
    """The first error text, without stack-trace tails."""
    error_at: str = ""
    """Where it sits, e.g. ``Result/RequestError@Error``."""
    declared_encoding: str = ""
    data_blocks: int = 0
    row_element: str = ""
    """The element name of the rows inside ``Data`` (``SKU``, ``sku``), mixed names joined by /."""
    rows: int = 0
    row_attributes: tuple[str, ...] = ()
    size: int = 0
    """Characters in the reply string."""


def _get(element: ET.Element, name: str) -> str | None:
    """An attribute, ignoring case (replies have varied in case)."""
    wanted = name.lower()
    for key, value in element.attrib.items():
        if key.lower() == wanted:
            return value
    return None


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    wanted = name.lower()
    return [c for c in element if isinstance(c.tag, str) and c.tag.lower() == wanted]


def first_message(text: str) -> str:
    """Prima's error text as people read it: the first line, without a stack-trace tail."""
    for line in text.splitlines():
        cut = _STACK_TRACE.split(line, maxsplit=1)[0].strip()
        if cut:
            return cut
    return ""


def _error(root: ET.Element, blocks: list[ET.Element]) -> tuple[str, str]:
    name = root.tag
    places: list[tuple[ET.Element, str]] = [(root, name)]
    places += [(child, f"{name}/{child.tag}") for child in _children(root, "RequestError")]
    for block in blocks:
        places.append((block, f"{name}/{block.tag}"))
        places += [(c, f"{name}/{block.tag}/{c.tag}") for c in _children(block, "RequestError")]
    for element, path in places:
        for attribute in ("RequestError", "Error"):
            value = _get(element, attribute)
            if value and value.strip():
                return first_message(value), f"{path}@{attribute}"
    return "", ""


def _status(root: ET.Element, blocks: list[ET.Element]) -> tuple[str, str]:
    on_root = _get(root, "RequestStatus")
    if on_root is not None:
        return on_root.strip().upper(), f"{root.tag}@RequestStatus"
    per_block = [v.strip().upper() for b in blocks if (v := _get(b, "RequestStatus")) is not None]
    if per_block:
        status = "ERROR" if "ERROR" in per_block else per_block[0]
        return status, f"{root.tag}/{blocks[0].tag}@RequestStatus"
    return "", ""


def describe_reply(text: str) -> ReplyShape:
    """The anatomy of a reply string; :class:`PrimaProtocolError` when it is not XML at all."""
    root = parse_document(text, PrimaProtocolError)
    blocks = _children(root, "Data")
    rows = [row for block in blocks for row in block if isinstance(row.tag, str)]
    row_names = list(dict.fromkeys(row.tag for row in rows if row.tag.lower() != "requesterror"))
    status, status_at = _status(root, blocks)
    error, error_at = _error(root, blocks)
    declared = _DECLARED.match(text)
    return ReplyShape(
        root=str(root.tag),
        root_attributes=tuple(root.attrib),
        company=_get(root, "Company") or "",
        status=status,
        status_at=status_at,
        error=error,
        error_at=error_at,
        declared_encoding=declared.group(1) if declared else "",
        data_blocks=len(blocks),
        row_element="/".join(row_names),
        rows=sum(1 for row in rows if row.tag in row_names),
        row_attributes=tuple(
            sorted({a for row in rows if row.tag in row_names for a in row.attrib})
        ),
        size=len(text),
    )


def unknown_order_marker(error: str, order_number: str) -> str:
    """The part of an "unknown order" text that other unknown numbers will share.

    Prima's text may quote the number asked for; the longest stretch of the text around it is
    what every such reply has in common, and what ``OmlinkConfig.unknown_order_error`` looks for.
    Empty when nothing but the number is left.
    """
    text = first_message(error)
    if order_number:
        pieces = re.split(re.escape(order_number), text, flags=re.IGNORECASE)
    else:
        pieces = [text]
    # Trim what sat next to the number: separators and quotes, a bracket opened before it or
    # closed after it; a code such as "(E:3)" at the far end stays whole.
    trimmed = (piece.lstrip(_TRIM + ")]}").rstrip(_TRIM + "([{") for piece in pieces)
    best = max(trimmed, key=len, default="")
    return best if len(best) >= 3 else ""
