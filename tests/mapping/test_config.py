"""MappingConfig: loadable from a dict and from TOML, validated with messages naming the setting."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.mapping import (
    DiscountPresentation,
    ExternalTaxPolicy,
    MappingConfig,
    OrderDiscountScope,
    PayMethod,
    PriceBasis,
)
from ct_prima_sync.prima import SkuCode

TOML = """
currencies = ["EUR", "GBP"]
order_channel = "WEB"
ignore_fields = ["marketingBadge"]

[prices]
basis = "line"
vat_inclusive = false
discounts = "discount_lines"
discount_sku = "DISC/ALL"
order_discount_scope = "lines_and_charges"

[taxes]
external = "accept"
[[taxes.codes]]
code = "S"
rate = 0.19
country = "DE"
included = true
[[taxes.codes]]
code = "Z"
rate = 0

[shipping]
default = "CARRIAGE"
methods = { "Express" = "EXP" }
keys = { "ship-2" = "CARR2" }

[custom_lines]
"gift-wrap" = { charge = "GW" }
"insurance" = { product = "INS/STD" }

[payments]
field = "paymentMethod"
methods = { card = "CC" }

[sku.table]
"GIFTCARD-50" = "GIFT/50"

[depots]
default = "WH1"
"""


def test_a_whole_toml_configuration_loads_with_exact_rates() -> None:
    config = MappingConfig.from_toml(TOML)

    assert config.currencies == frozenset({"EUR", "GBP"})
    assert config.price_basis is PriceBasis.LINE
    assert config.vat_inclusive is False
    assert config.discounts is DiscountPresentation.DISCOUNT_LINES
    assert config.discount_sku == SkuCode(product="DISC", matrix=("ALL",))
    assert config.order_discount_scope is OrderDiscountScope.LINES_AND_CHARGES
    assert config.external_tax is ExternalTaxPolicy.ACCEPT
    assert config.tax_codes[0].rate == Decimal("0.19")
    assert config.tax_code_for(Decimal("0.19"), "VAT", "DE", True) == "S"
    assert config.tax_code_for(Decimal("0.19"), "VAT", "AT", True) is None
    assert config.tax_code_for(Decimal("0.0"), "Zero", "FR", False) == "Z"
    assert config.shipping.code_for(shipping_key="ship-2", method_names=("Express",)) == "CARR2"
    assert config.shipping.code_for(shipping_key=None, method_names=("Express",)) == "EXP"
    assert config.shipping.code_for(shipping_key=None, method_names=("Other",)) == "CARRIAGE"
    assert config.custom_lines["gift-wrap"].charge == "GW"
    assert config.custom_lines["insurance"].product == SkuCode(product="INS", matrix=("STD",))
    assert config.payments.methods == {"card": PayMethod(method="CC")}
    assert config.sku.to_prima("GIFTCARD-50") == SkuCode(product="GIFT", matrix=("50",))
    assert config.depots.default == "WH1"
    assert config.ignore_fields == frozenset({"marketingBadge"})


def test_an_empty_configuration_has_documented_defaults() -> None:
    config = MappingConfig.from_dict({})

    assert config.price_basis is PriceBasis.UNIT
    assert config.vat_inclusive is True
    assert config.discounts is DiscountPresentation.FOLDED
    assert config.external_tax is ExternalTaxPolicy.REJECT
    assert config.currencies == frozenset()


def test_rates_from_json_numbers_are_read_as_the_digits_written() -> None:
    config = MappingConfig.from_dict({"taxes": {"codes": [{"code": "S", "rate": 0.07}]}})

    assert config.tax_codes[0].rate == Decimal("0.07")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"prices": {"basis": "box"}}, "prices.basis: expected one of 'unit', 'line'"),
        ({"prices": {"vat_inclusive": "yes"}}, "prices.vat_inclusive: expected true or false"),
        ({"prices": {"discounts": "discount_lines"}}, "prices.discount_sku: required"),
        ({"prices": {"colour": 1}}, "prices.colour: unknown setting"),
        ({"taxes": {"codes": [{"code": "S"}]}}, "taxes.codes[0].rate: required"),
        ({"taxes": {"codes": [{"rate": "0.19"}]}}, "taxes.codes[0].code: required"),
        ({"taxes": {"codes": [{"code": "S", "rate": "abc"}]}}, "taxes.codes[0].rate"),
        ({"taxes": {"codes": [{"code": "S", "rate": "-0.1"}]}}, "taxes.codes[0].rate"),
        ({"taxes": {"codes": {"code": "S"}}}, "taxes.codes: expected a list"),
        ({"taxes": {"external": "maybe"}}, "taxes.external: expected one of"),
        ({"custom_lines": {"fee": {}}}, "custom_lines.fee: set exactly one of"),
        ({"custom_lines": {"fee": {"product": "A", "charge": "B"}}}, "custom_lines.fee"),
        ({"shipping": {"methods": {"Express": ""}}}, "shipping.methods.Express"),
        ({"currencies": ["euro"]}, "currencies"),
        ({"sku": {"colour": 1}}, "sku.colour: unknown setting"),
        ({"depots": {"default": 3}}, "depots.default"),
        ({"customers": {"account_sources": ["psychic"]}}, "customers.account_sources[0]"),
        ({"surprise": 1}, "surprise: unknown setting"),
    ],
)
def test_a_bad_setting_is_refused_with_its_path(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        MappingConfig.from_dict(data)

    assert message in str(caught.value)


def test_toml_that_does_not_parse_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        MappingConfig.from_toml("prices = [")


def test_the_stock_table_of_mapping_toml_is_read_with_the_same_skus_and_depots() -> None:
    from pathlib import Path

    example = Path(__file__).parents[2] / "docs" / "examples" / "mapping.toml"
    config = MappingConfig.from_toml(example.read_text(encoding="utf-8"))
    assert config.stock.buffer == 1
    assert config.stock.skus == config.sku
    assert config.stock.depots == config.depots
