"""Stock replies read as they are parsed, row by row, so that memory follows the rows kept and
not the XML tree: a whole-catalogue reply (every SKU in one answer) can be tens of megabytes.

Each ``sku`` row is read into a :class:`~ct_prima_sync.prima.StockLevel` when its end tag is
parsed and then dropped from the tree; product and matrix codes, which repeat from row to row, are
interned. The same defusedxml protections as every other parse apply (no DTD, no entities, no
external references). A reply whose root is not ``OK`` is left to the ordinary reader, which
raises the rejection or the protocol error it stands for.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, cast

import defusedxml
from defusedxml.ElementTree import iterparse

from ...errors import PrimaProtocolError
from .._models import SkuCode, StockLevel
from ._tree import Names, Node, local_name

if TYPE_CHECKING:
    from _typeshed import SupportsRead

__all__ = ["stream_stock_rows"]

_CHUNK: Final = 64 * 1024


class _Slices:
    """A file-like view of a string or bytes that hands it out in slices (never a copy whole)."""

    def __init__(self, text: str | bytes) -> None:
        self._text = text
        self._at = 0

    def read(self, size: int = -1) -> str | bytes:
        size = _CHUNK if size is None or size < 0 else size
        chunk = self._text[self._at : self._at + size]
        self._at += len(chunk)
        return chunk


def _row(node: Node, date_format: str) -> StockLevel:
    matrix = [node.text(f"MtrxCode{i}") for i in range(1, 5)]
    while matrix and not matrix[-1]:
        matrix.pop()
    product = node.required("Product")
    return StockLevel(
        sku=SkuCode(product=sys.intern(product), matrix=tuple(sys.intern(m) for m in matrix)),
        available=node.integer("AvailableQuantity"),
        depot=sys.intern(node.text("Warehouse")),
        available_date=node.date("AvailableDate", date_format),
    )


def stream_stock_rows(
    text: str | bytes,
    names: Names,
    date_format: str,
    roots: tuple[str, ...],
    not_ok: Callable[[], list[StockLevel]],
) -> list[StockLevel]:
    """The ``Data/sku`` rows of an ATS reply, in order; ``not_ok`` answers a reply whose root
    status is not OK (it raises)."""
    wanted_roots = {names.wire(r).lower() for r in roots}
    data_name, row_name = names.wire("Data").lower(), names.wire("sku").lower()
    levels: list[StockLevel] = []
    depth = 0
    data: ET.Element | None = None
    index = 0
    try:
        source = cast("SupportsRead[str]", _Slices(text))  # str or bytes, as ``text`` is
        for event, element in iterparse(source, events=("start", "end")):
            name = local_name(element.tag)
            if event == "start":
                depth += 1
                if depth == 1:
                    if name not in wanted_roots:
                        raise PrimaProtocolError("the reply has an unexpected root element")
                    status = next(
                        (v for k, v in element.attrib.items() if local_name(k) == "requeststatus"),
                        "",
                    )
                    if status.strip().upper() != "OK":
                        return not_ok()
                elif depth == 2 and name == data_name:
                    data = element
                continue
            depth -= 1
            if depth == 2 and name == row_name and data is not None:
                node = Node(element, names, PrimaProtocolError, f"Data/sku[{index}]")
                levels.append(_row(node, date_format))
                index += 1
                data.clear()  # drop the rows read so far (their parent is the only holder)
            elif depth == 1 and name == data_name:
                data = None
    except defusedxml.DefusedXmlException as exc:
        raise PrimaProtocolError(f"hostile XML refused ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise PrimaProtocolError(f"not well-formed XML ({exc})") from None
    return levels
