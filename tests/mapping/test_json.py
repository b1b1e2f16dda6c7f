"""JSON in, JSON out: what iPaaS code steps call."""

from __future__ import annotations

import copy
import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ct_prima_sync.errors import ConfigurationError, PayloadError
from ct_prima_sync.mapping import MappingResult, map_order_json, plan_stock_json
from ct_prima_sync.testing.factories import LineSpec, make_order, random_order

from .result_schema import assert_valid

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "mapping.toml"


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    with EXAMPLE.open("rb") as handle:
        return tomllib.load(handle, parse_float=Decimal)


def no_floats(value: object) -> bool:
    if isinstance(value, float):
        return False
    if isinstance(value, dict):
        return all(no_floats(v) for v in value.values())
    if isinstance(value, list):
        return all(no_floats(v) for v in value)
    return True


def test_a_factory_order_maps_to_json_with_exact_decimal_totals(config: dict[str, Any]) -> None:
    order = random_order(7, currency="EUR")
    result = assert_valid(map_order_json(order, config))
    assert result["ok"], result["issues"]
    assert result["schema_version"] == 1
    assert result["issues"] == []
    assert result["order_number"] == order["orderNumber"]
    totals = result["totals"]
    taxed = order["taxedPrice"]
    assert totals["gross"] == {
        "amount": str(Decimal(taxed["totalGross"]["centAmount"]).scaleb(-2)),
        "currency": "EUR",
    }
    assert totals["net"]["amount"] == str(Decimal(taxed["totalNet"]["centAmount"]).scaleb(-2))
    assert result["sales_order"]["order_number"] == order["orderNumber"]
    assert no_floats(result)
    json.dumps(result)


@pytest.mark.parametrize("seed", range(12))
def test_every_example_order_maps_with_the_example_configuration(
    seed: int, config: dict[str, Any]
) -> None:
    result = map_order_json(random_order(seed), config)
    assert result.ok, result.issues
    assert_valid(result)


def test_kwd_and_jpy_amounts_keep_their_own_fraction_digits(config: dict[str, Any]) -> None:
    kwd = assert_valid(map_order_json(random_order(1, currency="KWD"), config))
    jpy = assert_valid(map_order_json(random_order(1, currency="JPY"), config))
    kwd, jpy = kwd["totals"]["gross"]["amount"], jpy["totals"]["gross"]["amount"]
    assert len(kwd.split(".")[1]) == 3
    assert "." not in jpy


def test_an_unmapped_sku_gives_issues_not_an_order(config: dict[str, Any]) -> None:
    order = make_order(lines=[LineSpec(sku="no such sku!", quantity=1, unit_price=500)])
    result = assert_valid(map_order_json(order, config))
    assert not result["ok"]
    assert result["sales_order"] is None
    codes = {(i["code"], i["owner"], i["path"]) for i in result["issues"]}
    assert ("UNMAPPED_SKU", "ecommerce", "lineItems[0].variant.sku") in codes


def test_a_malformed_order_gives_invalid_order_with_the_path(config: dict[str, Any]) -> None:
    order = random_order(3)
    broken = copy.deepcopy(order)
    broken["lineItems"][0]["quantity"] = "two"
    result = assert_valid(map_order_json(broken, config))
    assert not result["ok"]
    [issue] = result["issues"]
    assert issue["code"] == "INVALID_ORDER"
    assert issue["path"].startswith("lineItems[0]")
    assert result["order_number"] == order["orderNumber"]


@pytest.mark.parametrize("order", [{}, {"id": "x"}, []])
def test_anything_that_is_not_an_order_gives_an_issue_not_an_exception(
    order: Any, config: dict[str, Any]
) -> None:
    result = assert_valid(map_order_json(order, config))
    assert [i["code"] for i in result["issues"]] == ["INVALID_ORDER"]


def test_a_bad_configuration_raises_once_instead_of_failing_every_order() -> None:
    with pytest.raises(ConfigurationError, match=r"sku\.rules\[0\]\.pattern"):
        map_order_json(random_order(1), {"sku": {"rules": [{"pattern": "("}]}})


def test_the_configuration_may_be_toml_text_a_dict_or_a_mapping_config(
    config: dict[str, Any],
) -> None:
    from ct_prima_sync.mapping import MappingConfig

    order = random_order(4)
    text = EXAMPLE.read_text(encoding="utf-8")
    results = [
        map_order_json(order, text).to_dict(),
        map_order_json(order, config).to_dict(),
        map_order_json(order, MappingConfig.from_toml(text)).to_dict(),
    ]

    assert results[0]["ok"]
    assert results[0] == results[1] == results[2]


def test_the_order_may_be_json_text_or_bytes(config: dict[str, Any]) -> None:
    order = random_order(5)
    as_text = map_order_json(json.dumps(order), config)
    as_bytes = map_order_json(json.dumps(order).encode(), config)

    assert as_text.ok
    assert as_text == as_bytes == map_order_json(order, config)


def test_the_result_is_typed_and_round_trips_through_its_json_text(config: dict[str, Any]) -> None:
    result = map_order_json(random_order(6), config)

    assert isinstance(result, MappingResult)
    assert result.ok
    assert result.sales_order is not None
    assert result.issues == ()
    assert json.loads(result.to_json()) == result.to_dict()
    assert result.to_dict()["sales_order"]["order_number"] == result.order_number


def test_decimal_strings_never_use_exponent_notation() -> None:
    from ct_prima_sync.mapping._result import decimal_text, money_json
    from ct_prima_sync.money import Money

    assert money_json(Money(0, "EUR", 2))["amount"] == "0.00"
    assert money_json(Money(5, "XTS", 8))["amount"] == "0.00000005"
    assert money_json(Money(10**30, "JPY", 0))["amount"] == "1" + "0" * 30
    assert decimal_text(Decimal("1E-7")) == "0.0000001"
    assert decimal_text(Decimal("1.00E+4")) == "10000"


STOCK_CONFIG = {
    "sku": {"rules": [{"pattern": "(?P<product>[A-Z]+)", "template": "{product}"}]},
    "depots": {"default": "WH1", "supply_channels": {"ch1": "WH1"}},
    "stock": {"buffer": 1},
}


def test_plan_stock_json_returns_the_changes_and_the_mismatch_report() -> None:
    result = plan_stock_json(
        [{"product": "TEE", "depot": "WH1", "available": 10}, {"product": "CAP", "available": 3}],
        [{"sku": "TEE", "depot": "WH1", "quantity": 2}],
        [
            {"sku": "TEE", "channel": "ch1", "quantityOnStock": 12, "availableQuantity": 10},
            {"sku": "OLD", "channel": "ch1", "quantityOnStock": 1, "availableQuantity": 1},
        ],
        STOCK_CONFIG,
    )
    assert result["changes"] == [
        {
            "sku": "TEE",
            "channel": "ch1",
            "depot": "WH1",
            "quantity_on_stock": 9,
            "expected_available": 7,
            "current_on_stock": 12,
            "target": 7,
            "create": False,
        },
        {
            "sku": "CAP",
            "channel": "ch1",
            "depot": "WH1",
            "quantity_on_stock": 2,
            "expected_available": 2,
            "current_on_stock": None,
            "target": 2,
            "create": True,
        },
        {
            "sku": "OLD",
            "channel": "ch1",
            "depot": "WH1",
            "quantity_on_stock": 0,
            "expected_available": 0,
            "current_on_stock": 1,
            "target": 0,
            "create": False,
        },
    ]
    assert result["missing_in_commercetools"] == [["CAP", "WH1"]]
    assert result["missing_in_prima"] == [["OLD", "WH1"]]
    json.dumps(result)


def test_plan_stock_json_sets_dates_and_restock_days_when_configured() -> None:
    config = {**STOCK_CONFIG, "stock": {"expected_delivery": True, "restockable_in_days": 2}}
    result = plan_stock_json(
        [{"product": "TEE", "available": 4, "available_date": "2026-12-01"}],
        [],
        [
            {
                "sku": "TEE",
                "channel": "ch1",
                "quantityOnStock": 4,
                "availableQuantity": 4,
                "expectedDelivery": "2026-11-20T00:00:00.000Z",
            }
        ],
        config,
    )
    (change,) = result["changes"]
    assert (change["expected_delivery"], change["restockable_in_days"]) == ("2026-12-01", 2)
    with pytest.raises(PayloadError, match=r"ats\[0\]\.available_date"):
        plan_stock_json(
            [{"product": "TEE", "available": 1, "available_date": "soon"}], [], [], STOCK_CONFIG
        )


def test_plan_stock_json_names_the_bad_row() -> None:
    with pytest.raises(PayloadError, match=r"ats\[0\]\.available"):
        plan_stock_json([{"product": "TEE", "available": "many"}], [], [], STOCK_CONFIG)
    with pytest.raises(PayloadError, match=r"ats\[0\]: Prima has at most four matrix codes"):
        plan_stock_json(
            [{"product": "T", "matrix": ["a", "b", "c", "d", "e"], "available": 1}],
            [],
            [],
            STOCK_CONFIG,
        )
    with pytest.raises(PayloadError, match=r"entries\[0\]\.quantityOnStock"):
        plan_stock_json([], [], [{"sku": "A", "availableQuantity": 1}], STOCK_CONFIG)
