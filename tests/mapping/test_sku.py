"""The SKU codec: commercetools SKUs to Prima product + matrix codes and back."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.mapping._sku import SkuAttributeSource, SkuCodec, SkuRule
from ct_prima_sync.prima import SkuCode

STYLE_COLOUR_SIZE = {
    "pattern": r"(?P<product>[A-Z0-9]+)-(?P<colour>[A-Z]+)-(?P<size>[A-Z0-9]+)",
    "matrix": ["colour", "size"],
    "template": "{product}-{colour}-{size}",
}
PLAIN = {"pattern": r"(?P<product>[A-Z0-9]+)", "template": "{product}"}


def codec(**extra: object) -> SkuCodec:
    return SkuCodec.from_dict({"rules": [STYLE_COLOUR_SIZE, PLAIN], **extra})


def test_a_pattern_rule_splits_the_sku_into_product_and_matrix_codes() -> None:
    assert codec().to_prima("TSHIRT01-RED-M") == SkuCode(product="TSHIRT01", matrix=("RED", "M"))


def test_rules_are_tried_in_order_and_the_first_match_wins() -> None:
    assert codec().to_prima("MUG7") == SkuCode(product="MUG7")


def test_the_table_overrides_the_rules() -> None:
    mapped = codec(table={"TSHIRT01-RED-M": "LEGACY9/R/MED", "GIFT": {"product": "GC"}})
    assert mapped.to_prima("TSHIRT01-RED-M") == SkuCode(product="LEGACY9", matrix=("R", "MED"))
    assert mapped.to_prima("GIFT") == SkuCode(product="GC")


def test_an_sku_nothing_maps_gives_none() -> None:
    assert codec().to_prima("lower-case-sku") is None
    assert codec().to_prima(None) is None


def test_variant_attributes_are_the_last_resort() -> None:
    mapped = SkuCodec(attributes=SkuAttributeSource(product="style", matrix=("colour", "size")))
    attributes = {"style": "JKT", "colour": {"key": "NAVY", "label": "Navy"}, "size": 42}
    assert mapped.to_prima("whatever", attributes) == SkuCode(product="JKT", matrix=("NAVY", "42"))
    assert mapped.to_prima("whatever", {"colour": "NAVY"}) is None


def test_without_a_product_attribute_the_sku_is_the_product() -> None:
    mapped = SkuCodec.from_dict({"attributes": {"matrix": ["colour", "size"]}})
    attributes = {"colour": "RED", "size": {"key": "M"}}
    assert mapped.to_prima("TEE", attributes) == SkuCode(product="TEE", matrix=("RED", "M"))
    assert mapped.to_prima(None, attributes) is None


def test_missing_trailing_matrix_codes_are_dropped() -> None:
    rule = SkuRule(pattern=re.compile(r"(?P<product>\w+?)(-(?P<size>\w+))?"), matrix=("size",))
    assert SkuCodec(rules=(rule,)).to_prima("CAP") == SkuCode(product="CAP")


def test_the_reverse_rebuilds_the_commercetools_sku_for_stock() -> None:
    mapped = codec(table={"GIFT-CARD": "GC"})
    assert mapped.to_commercetools(SkuCode(product="TSHIRT01", matrix=("RED", "M"))) == (
        "TSHIRT01-RED-M"
    )
    assert mapped.to_commercetools(SkuCode(product="GC")) == "GIFT-CARD"
    assert mapped.to_commercetools(SkuCode(product="MUG7")) == "MUG7"


def test_the_reverse_refuses_a_candidate_that_would_map_elsewhere() -> None:
    # The template makes "A-B-C" of (A, B, C)... but so does the table for another Prima SKU.
    mapped = codec(table={"A-B-C": "OTHER"})
    assert mapped.to_commercetools(SkuCode(product="A", matrix=("B", "C"))) is None


def test_a_sku_read_from_attributes_cannot_be_reversed() -> None:
    mapped = SkuCodec(attributes=SkuAttributeSource(product="style"))
    assert mapped.to_commercetools(SkuCode(product="JKT")) is None


codes = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=8)


@settings(deadline=None)  # timing is not the claim; loaded CI machines are slow
@given(product=codes, colour=st.text(alphabet="ABCDEFGHIJ", min_size=1, max_size=5), size=codes)
def test_ct_to_prima_to_ct_round_trips(product: str, colour: str, size: str) -> None:
    mapped = codec()
    sku = f"{product}-{colour}-{size}"
    code = mapped.to_prima(sku)
    assert code is not None
    assert mapped.to_commercetools(code) == sku


@settings(deadline=None)  # timing is not the claim; loaded CI machines are slow
@given(product=codes, matrix=st.lists(codes, max_size=4).map(tuple))
def test_whenever_the_reverse_answers_the_forward_maps_it_back(
    product: str, matrix: tuple[str, ...]
) -> None:
    mapped = codec(table={"X1-Y-Z": "T/1"})
    code = SkuCode(product=product, matrix=matrix)
    sku = mapped.to_commercetools(code)
    if sku is not None:
        assert mapped.to_prima(sku) == code


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rules": [{"pattern": "(?P<product>"}]}, r"sku\.rules\[0\]\.pattern: not a valid"),
        ({"rules": [{"pattern": "(?P<sku>.*)"}]}, r"sku\.rules\[0\]\.pattern: needs a named"),
        ({"rules": [{"pattern": "(?P<product>.*)", "matrix": ["size"]}]}, r"rules\[0\]\.matrix"),
        (
            {"rules": [{"pattern": "(?P<product>.*)", "template": "{product}-{size}"}]},
            r"sku\.rules\[0\]\.template: unknown fields size",
        ),
        ({"rules": [{"matrix": []}]}, r"sku\.rules\[0\]\.pattern: required"),
        ({"table": {"A": 3}}, r"sku\.table\.A: expected"),
        ({"table": {"A": "/X"}}, r"sku\.table\.A: a Prima SKU needs a product"),
        ({"rule": []}, r"sku\.rule: unknown setting"),
        ({"attributes": {}}, r"sku\.attributes: set product, matrix or both"),
        ({"rules": "x"}, r"sku\.rules: expected a list"),
    ],
)
def test_bad_configuration_names_the_setting(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        SkuCodec.from_dict(data)
