"""Request strings written straight to text, element by element, with no tree in between.

A request is written through an :class:`ElementSink`: :class:`TextSink` writes each element's
text as it comes, exactly as :func:`~._tree.new_element` followed by :func:`~._tree.serialize`
writes it (ElementTree's text, character for character: the tests hold the two to it);
:class:`TreeSink` builds the ElementTree elements instead. A name that is not plain (a namespace
brace, or not a string) makes :class:`TextSink` raise :class:`NotPlain`, and the request is then
written again through :class:`TreeSink`, whose serialisation handles it as ElementTree does.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Protocol

from ._tree import Encoding, Names, document, escape_attribute, new_element, serialize, wire_element

__all__ = ["ElementSink", "NotPlain", "TextSink", "TreeSink"]


class NotPlain(Exception):  # noqa: N818 (a signal to fall back, not an error anyone sees)
    """An element :class:`TextSink` does not write (its name is not a plain string)."""


class ElementSink(Protocol):
    """Where a request's elements go, in document order."""

    def start(self, tag: str, attrs: Mapping[str, str | None]) -> None:
        """An element whose children follow, until :meth:`end` (``None`` values left out)."""

    def empty(self, tag: str, attrs: Mapping[str, str | None]) -> None:
        """An element without children."""

    def end(self) -> None:
        """The end of the element :meth:`start` began last."""

    def document(self, encoding: Encoding) -> str:
        """The whole document with its XML declaration (once every element has ended)."""


class TextSink:
    """Writes each element's text as it comes (the engine's request path)."""

    __slots__ = ("_names", "_open", "_parts", "_unclosed")

    def __init__(self, names: Names) -> None:
        self._names = names
        self._parts: list[str] = []
        self._open: list[str] = []
        self._unclosed = False  # the last start tag still lacks its ">"

    def _start_tag(self, tag: str, attrs: Mapping[str, str | None]) -> tuple[str, str]:
        wire_tag, wire_attrs, plain = wire_element(self._names, tag, attrs)
        try:
            if "{" in wire_tag or "{" in "".join(wire_attrs):
                raise NotPlain(wire_tag)
        except TypeError:  # a name that is not a string
            raise NotPlain(repr(wire_tag)) from None
        if self._unclosed:
            self._parts.append(">")
        if plain:
            text = "".join([f' {k}="{v}"' for k, v in wire_attrs.items()])
        else:
            text = "".join([f' {k}="{escape_attribute(v)}"' for k, v in wire_attrs.items()])
        return wire_tag, f"<{wire_tag}{text}"

    def start(self, tag: str, attrs: Mapping[str, str | None]) -> None:
        """An element whose children follow, until :meth:`end`."""
        wire_tag, text = self._start_tag(tag, attrs)
        self._parts.append(text)
        self._open.append(wire_tag)
        self._unclosed = True

    def empty(self, tag: str, attrs: Mapping[str, str | None]) -> None:
        """An element without children."""
        _, text = self._start_tag(tag, attrs)
        self._parts.append(text + " />")
        self._unclosed = False

    def written(self, text: str) -> None:
        """Elements written as text already (a child of the element :meth:`start` began last)."""
        if self._unclosed:
            self._parts.append(">")
            self._unclosed = False
        self._parts.append(text)

    def end(self) -> None:
        """The end of the element :meth:`start` began last (``" />"`` if it had no children)."""
        tag = self._open.pop()
        self._parts.append(" />" if self._unclosed else f"</{tag}>")
        self._unclosed = False

    def document(self, encoding: Encoding) -> str:
        """The document with its XML declaration."""
        return document("".join(self._parts), encoding)


class TreeSink:
    """Builds the ElementTree elements (for names :class:`TextSink` does not write)."""

    __slots__ = ("_names", "_open", "root")

    def __init__(self, names: Names) -> None:
        self._names = names
        self._open: list[ET.Element] = []
        self.root: ET.Element | None = None
        """The document's root element, once one was written."""

    def _element(self, tag: str, attrs: Mapping[str, str | None]) -> ET.Element:
        parent = self._open[-1] if self._open else None
        element = new_element(self._names, tag, attrs, parent)
        if parent is None:
            self.root = element
        return element

    def start(self, tag: str, attrs: Mapping[str, str | None]) -> None:
        """An element whose children follow, until :meth:`end`."""
        self._open.append(self._element(tag, attrs))

    def empty(self, tag: str, attrs: Mapping[str, str | None]) -> None:
        """An element without children."""
        self._element(tag, attrs)

    def end(self) -> None:
        """The end of the element :meth:`start` began last."""
        self._open.pop()

    def document(self, encoding: Encoding) -> str:
        """The tree serialised with its XML declaration."""
        if self.root is None:
            raise ValueError("no element was written")
        return serialize(self.root, encoding)
