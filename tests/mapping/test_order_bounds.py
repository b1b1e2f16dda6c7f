"""The defects an independent look at the mapping found: a crash on odd direct-discount targets,
tax that disagrees with its rate, and orders that break commercetools' own bounds. Each gives an
issue with its path (and, for money, the difference), never a wrong posting or an exception."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ct_prima_sync.commercetools import parse_order
from ct_prima_sync.mapping import IssueCode, IssueOwner, MappedOrder, map_order, map_order_json
from ct_prima_sync.money import Money
from ct_prima_sync.testing.factories import LineSpec, ShippingSpec, make_order

from .result_schema import assert_valid
from .rich_order import CONFIG, rich_order


def _map(payload: dict[str, Any]) -> MappedOrder:
    return map_order(parse_order(payload), CONFIG)


def _issues(payload: dict[str, Any]) -> list[tuple[IssueCode, str]]:
    return [(issue.code, issue.path) for issue in _map(payload).issues]


@pytest.mark.parametrize("target", [["lineItems"], {"type": "lineItems"}, 7, None])
def test_a_direct_discount_target_of_any_shape_is_an_issue_not_a_crash(target: object) -> None:
    order = rich_order()
    order["directDiscounts"][0]["target"] = {"type": target}

    result = assert_valid(map_order_json(order, CONFIG))

    assert [(i["code"], i["path"]) for i in result["issues"]] == [
        ("UNSUPPORTED_DISCOUNT", "directDiscounts[0].target.type")
    ]


def _simple(**changes: Any) -> dict[str, Any]:
    return make_order(
        lines=[
            LineSpec(sku="SKU-1", quantity=2, unit_price=1190),
            LineSpec(sku="SKU-2", quantity=1, unit_price=1070, tax_rate="0.07"),
        ],
        shipping=ShippingSpec(key="home", name="Express", price=595),
        **changes,
    )


def _shift_tax(item: dict[str, Any], units: int) -> None:
    """Move ``units`` of an item's taxed gross into its net (the totals still add up)."""
    taxed = item["taxedPrice"]
    taxed["totalNet"]["centAmount"] += units
    taxed["totalTax"]["centAmount"] -= units
    taxed["taxPortions"][0]["amount"]["centAmount"] -= units


def test_a_line_whose_tax_disagrees_with_its_rate_is_a_finance_issue_with_the_difference() -> None:
    order = _simple()
    # 23.80 gross at 19 % is 20.00 net and 3.80 tax; the order claims 20.30 and 3.50, and moves
    # the same 0.30 to the order's portions so that every total still adds up.
    _shift_tax(order["lineItems"][0], 30)
    order["taxedPrice"]["totalNet"]["centAmount"] += 30
    order["taxedPrice"]["totalTax"]["centAmount"] -= 30
    portion = next(p for p in order["taxedPrice"]["taxPortions"] if p["rate"] == 0.19)
    portion["amount"]["centAmount"] -= 30

    mapped = _map(order)

    [issue] = mapped.issues
    assert (issue.code, issue.owner, issue.path) == (
        IssueCode.TAX_RATE_MISMATCH,
        IssueOwner.FINANCE,
        "lineItems[0].taxedPrice",
    )
    assert issue.difference == Money(-30, "EUR", 2)
    assert "expected EUR 3.80" in issue.message
    assert mapped.sales_order is None


@pytest.mark.parametrize(
    ("where", "path"),
    [
        (lambda o: o["shippingInfo"], "shippingInfo.taxedPrice"),
        (lambda o: o["lineItems"][1], "lineItems[1].taxedPrice"),
    ],
    ids=["shipping", "reduced-rate-line"],
)
def test_shipping_and_every_line_are_checked_against_their_rate(where: Any, path: str) -> None:
    order = _simple()
    _shift_tax(where(order), 1)

    assert (IssueCode.TAX_RATE_MISMATCH, path) in _issues(order)


def test_a_custom_line_is_checked_against_its_rate() -> None:
    order = rich_order()
    _shift_tax(order["customLineItems"][0], 5)

    assert (IssueCode.TAX_RATE_MISMATCH, "customLineItems[0].taxedPrice") in _issues(order)


def test_unit_price_level_allows_half_a_minor_unit_per_unit_and_no_more() -> None:
    # 7 x 0.05 at 19 % per unit: 0.04 net and 0.01 tax each, 0.07 tax against 0.0559 exact.
    order = make_order(
        lines=[LineSpec(sku="SKU-1", quantity=7, unit_price=5)], tax_calculation="UnitPriceLevel"
    )
    assert _map(order).ok
    _shift_tax(order["lineItems"][0], -4)  # 0.11 tax: beyond 7 half units of the exact 0.0559
    assert (IssueCode.TAX_RATE_MISMATCH, "lineItems[0].taxedPrice") in _issues(order)


def test_duplicate_line_ids_are_an_invalid_order_at_the_second() -> None:
    order = rich_order()
    order["customLineItems"][1]["id"] = order["lineItems"][2]["id"]

    assert _issues(order) == [(IssueCode.INVALID_ORDER, "customLineItems[1].id")]


@pytest.mark.parametrize("cents", [0, -350])
def test_a_custom_line_with_zero_or_negative_money_is_an_invalid_order(cents: int) -> None:
    order = rich_order()
    order["customLineItems"][0]["money"]["centAmount"] = cents

    assert (IssueCode.INVALID_ORDER, "customLineItems[0].money") in _issues(order)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("lineItems", 0, "quantity"), 2**63),
        (("lineItems", 0, "totalPrice", "centAmount"), 2**63),
        (("taxedPrice", "totalGross", "centAmount"), -(2**63) - 1),
        (("lineItems", 1, "price", "value", "preciseAmount"), 2**70),
        (("shipping", 0, "shippingInfo", "price", "centAmount"), 10**20),
    ],
)
def test_amounts_and_quantities_beyond_int64_are_an_invalid_order_with_their_path(
    path: tuple[str | int, ...], value: int
) -> None:
    order = rich_order()
    parent: Any = order
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    json_path = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path).lstrip(".")
    if path[-1] in ("centAmount", "preciseAmount"):
        json_path = json_path.rsplit(".", 1)[0]

    result = assert_valid(map_order_json(order, CONFIG))

    assert ("INVALID_ORDER", json_path) in [(i["code"], i["path"]) for i in result["issues"]]


def test_a_high_precision_price_with_fewer_digits_than_the_currency_is_an_invalid_order() -> None:
    order = rich_order()
    value = order["lineItems"][1]["price"]["value"]
    value["fractionDigits"], value["preciseAmount"] = 1, 123

    assert (IssueCode.INVALID_ORDER, "lineItems[1].price.value.fractionDigits") in _issues(order)


@pytest.mark.parametrize(
    "path",
    [
        ("customLineItems", 0, "money"),
        ("shipping", 1, "shippingInfo", "shippingRate", "price"),
        ("lineItems", 0, "discountedPricePerQuantity", 0, "discountedPrice", "includedDiscounts", 0,
         "discountedAmount"),
        ("discountOnTotalPrice", "discountedGrossAmount"),
        ("taxedShippingPrice", "totalNet"),
    ],
)  # fmt: skip
def test_an_amount_in_another_currency_anywhere_is_an_invalid_order_with_its_path(
    path: tuple[str | int, ...],
) -> None:
    order = rich_order()
    parent: Any = order
    for key in path:
        parent = parent[key]
    parent["currencyCode"] = "USD"
    json_path = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path).lstrip(".")

    assert (IssueCode.INVALID_ORDER, json_path) in _issues(order)


@pytest.mark.parametrize("rate", [-0.19, 19, 1.5])
def test_a_tax_rate_outside_0_to_1_is_an_invalid_order(rate: float) -> None:
    order = rich_order()
    order["lineItems"][0]["taxRate"]["amount"] = rate

    assert _issues(order) == [(IssueCode.INVALID_ORDER, "lineItems[0].taxRate.amount")]


def test_the_rich_order_itself_keeps_every_bound() -> None:
    assert _map(copy.deepcopy(rich_order())).ok
