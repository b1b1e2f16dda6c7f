"""The omlink writer's text is ElementTree's, character for character."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ct_prima_sync.errors import PayloadError
from ct_prima_sync.prima._xml import Encoding
from ct_prima_sync.prima._xml._tree import Names, new_element, serialize


def _element_tree_text(root: ET.Element, encoding: Encoding) -> str:
    if encoding is Encoding.ISO_8859_1:
        body = ET.tostring(root, encoding="iso-8859-1", xml_declaration=False).decode("latin-1")
    else:
        body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="{encoding.value}"?>{body}'


_TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12
)
_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,6}", fullmatch=True)


@st.composite
def _trees(draw: st.DrawFn, depth: int = 0) -> ET.Element:
    el = ET.Element(draw(_NAME), draw(st.dictionaries(_NAME, _TEXT, max_size=3)))
    el.text = draw(st.none() | _TEXT)
    el.tail = draw(st.none() | _TEXT) if depth else None
    if depth < 3:
        el.extend(draw(st.lists(_trees(depth + 1), max_size=3)))
    return el


@settings(max_examples=300, deadline=None)
@given(root=_trees(), encoding=st.sampled_from(Encoding))
def test_plain_trees_are_written_as_element_tree_writes_them(
    root: ET.Element, encoding: Encoding
) -> None:
    assert serialize(root, encoding) == _element_tree_text(root, encoding)


@pytest.mark.parametrize("encoding", list(Encoding))
def test_namespaced_trees_and_comments_go_to_element_tree(encoding: Encoding) -> None:
    root = ET.Element("{urn:x}Envelope")
    ET.SubElement(root, "Body", {"{urn:y}a": 'x"<€'}).text = "<Request a='1'/>"
    root.append(ET.Comment("a comment"))
    assert serialize(root, encoding) == _element_tree_text(root, encoding)


def test_a_value_xml_cannot_carry_is_refused_by_its_name() -> None:
    with pytest.raises(PayloadError, match="Bad"):
        new_element(Names(), "Data", {"Good": "fine", "Skipped": None, "Bad": "a\x01b"})


def test_renamed_attributes_and_elements_are_written_by_their_wire_names() -> None:
    names = Names({"Data": "DATA", "OrderNumber": "OrderNo"})
    el = new_element(names, "Data", {"OrderNumber": "1", "Left": None, "Kept": "2"})
    assert serialize(el, Encoding.UTF_8).endswith('<DATA OrderNo="1" Kept="2" />')
