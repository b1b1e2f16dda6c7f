"""The fake's ``where`` predicates: the subset the client sends, evaluated like the API."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ct_prima_sync.errors import ValidationError
from ct_prima_sync.testing._ct_fake import parse_predicate

ORDER: dict[str, Any] = {
    "id": "b",
    "orderNumber": "A-100",
    "customerEmail": "someone@example.com",
    "version": 3,
    "orderState": "Open",
    "createdAt": "2026-11-01T10:00:00.000Z",
    "lastModifiedAt": "2026-11-02T10:00:00.000Z",
    "supplyChannel": {"typeId": "channel", "id": "c1"},
    "lineItems": [{"variant": {"sku": "SKU-1"}}, {"variant": {"sku": "SKU-2"}}],
    "roles": ["InventorySupply", "Primary"],
}


def matches(text: str, **variables: str | list[str]) -> bool:
    values = {k: [v] if isinstance(v, str) else v for k, v in variables.items()}
    return parse_predicate(text, values)(ORDER)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('orderNumber = "A-100"', True),
        ('orderNumber != "A-100"', False),
        ('orderNumber <> "A-101"', True),
        ("version > 2", True),
        ("version >= 4", False),
        ("version < 4 and version <= 3", True),
        ('id > "a"', True),
        ('id > "b"', False),
        ('orderState in ("Open", "Confirmed")', True),
        ('orderState not in ("Open", "Confirmed")', False),
        ("cancelledAt is not defined", True),
        ("cancelledAt is defined", False),
        ('supplyChannel(id = "c1")', True),
        ('supplyChannel(id = "c2")', False),
        ('lineItems(variant(sku = "SKU-2"))', True),
        ('lineItems(variant(sku = "SKU-3"))', False),
        ('not (orderState = "Open")', False),
        ('orderState = "Complete" or (version = 3 and orderNumber = "A-100")', True),
        ('roles contains "Primary"', True),
        ('roles contains any ("OrderExport", "Primary")', True),
        ('roles contains all ("OrderExport", "Primary")', False),
        ('lastModifiedAt > "2026-11-02T09:59:59.999Z"', True),
        ('lastModifiedAt > "2026-11-02T10:00:00+00:00"', False),
        ('ORDERSTATE = "Open"', False),
        ('orderState = "Open" AND version = 3', True),
    ],
)
def test_predicates_select_what_the_api_would(text: str, *, expected: bool) -> None:
    assert matches(text) is expected


def test_input_variables_replace_hand_escaping() -> None:
    assert matches("customerEmail = :email", email="someone@example.com")
    assert not matches("customerEmail = :email", email='x" or id > "')


def test_a_repeated_variable_is_a_list_for_in() -> None:
    assert matches("orderState in :states", states=["Confirmed", "Open"])
    assert matches("orderState in (:a, :b)", a="Complete", b="Open")


def test_numeric_variables_compare_as_numbers() -> None:
    assert matches("version > :v", v="2")
    assert not matches("version > :v", v="10")


@pytest.mark.parametrize(
    "text",
    [
        'orderNumber = "A',
        "version >",
        "version = 1 and",
        "(version = 1",
        'x = "a" y',
        "a ~ 1",
        "b = :none",
    ],
)
def test_malformed_predicates_are_refused_as_invalid_input(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_predicate(text)({})
    assert caught.value.codes == ("InvalidInput",)
    assert caught.value.status_code == 400


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30))
def test_any_string_literal_round_trips_through_escaping(value: str) -> None:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    assert parse_predicate(f'name = "{escaped}"')({"name": value})


@given(st.integers(-1000, 1000), st.integers(-1000, 1000))
def test_integer_comparisons_agree_with_python(field: int, literal: int) -> None:
    item = {"n": field}
    assert parse_predicate(f"n > {literal}")(item) is (field > literal)
    assert parse_predicate(f"n <= {literal}")(item) is (field <= literal)
    assert parse_predicate(f"n = {literal}")(item) is (field == literal)


def test_error_messages_never_echo_string_literals() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_predicate('email "ann@example.com"')
    assert "ann@example.com" not in str(caught.value)
