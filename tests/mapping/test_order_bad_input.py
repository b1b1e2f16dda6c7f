"""Bad input gives issues (or, for a payload that is not an order at all, a typed error) and never
an unhandled exception; all issues of an order are reported at once."""

from __future__ import annotations

import copy
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ct_prima_sync.commercetools import parse_order
from ct_prima_sync.errors import PayloadError
from ct_prima_sync.mapping import (
    ExternalTaxPolicy,
    IssueCode,
    IssueOwner,
    MappedOrder,
    MappingConfig,
    PaymentConfig,
    map_order,
)
from ct_prima_sync.testing.factories import LineSpec, ShippingSpec, make_order
from ct_prima_sync.testing.strategies import order_payloads

CONFIG = MappingConfig.from_dict(
    {
        "sku": {"table": {"KNOWN-1": "KNOWN/1"}},
        "depots": {"default": "WH1", "supply_channels": {"berlin": "BER"}},
        "taxes": {"codes": [{"code": "S", "rate": "0.19"}]},
        "shipping": {"methods": {"Standard": "CARRIAGE"}},
        "currencies": ["EUR"],
    }
)


def _order(**changes: Any) -> dict[str, Any]:
    return make_order(
        lines=[LineSpec(sku="KNOWN-1", quantity=2, unit_price=1000)],
        shipping=ShippingSpec(key="std", name="Standard", price=500),
        **changes,
    )


def _map(payload: dict[str, Any], config: MappingConfig = CONFIG) -> MappedOrder:
    return map_order(parse_order(payload), config)


def _codes(mapped: MappedOrder) -> list[tuple[IssueCode, str]]:
    return [(issue.code, issue.path) for issue in mapped.issues]


def test_the_reference_order_maps_cleanly() -> None:
    assert _map(_order()).ok


def test_every_problem_of_an_order_is_reported_at_once() -> None:
    payload = make_order(
        lines=[
            LineSpec(sku="UNKNOWN-9", quantity=1, unit_price=1000),
            LineSpec(sku="KNOWN-1", quantity=1, unit_price=1000, supply_channel="paris"),
            LineSpec(sku="KNOWN-1", quantity=1, unit_price=1000, tax_rate="0.2"),
        ],
        shipping=ShippingSpec(key="exp", name="Drone", price=500),
        currency="USD",
    )
    mapped = _map(payload)

    assert mapped.sales_order is None
    assert _codes(mapped) == [
        (IssueCode.CURRENCY_NOT_ALLOWED, "totalPrice.currencyCode"),
        (IssueCode.UNMAPPED_SKU, "lineItems[0].variant.sku"),
        (IssueCode.UNKNOWN_DEPOT, "lineItems[1].supplyChannel"),
        (IssueCode.UNMAPPED_TAX_RATE, "lineItems[2].taxRate"),
        (IssueCode.UNMAPPED_SHIPPING_METHOD, "shippingInfo"),
    ]
    owners = {issue.code: issue.owner for issue in mapped.issues}
    assert owners[IssueCode.UNKNOWN_DEPOT] is IssueOwner.OPERATIONS
    assert owners[IssueCode.UNMAPPED_TAX_RATE] is IssueOwner.FINANCE
    assert owners[IssueCode.UNMAPPED_SKU] is IssueOwner.ECOMMERCE


def test_issue_messages_say_what_to_change_and_carry_no_personal_data() -> None:
    payload = make_order(
        lines=[LineSpec(sku="UNKNOWN-9", quantity=1, unit_price=1000)],
        customer_email="jane.doe@example.com",
    )
    (issue,) = _map(payload).issues

    assert "UNKNOWN-9" in issue.message
    assert "[sku.table]" in issue.message
    everything = str(issue) + repr(issue)
    for personal in ("jane.doe", payload["shippingAddress"]["lastName"], "Musterstrasse"):
        assert personal not in everything


def test_a_negative_quantity_is_an_invalid_order() -> None:
    payload = _order()
    payload["lineItems"][0]["quantity"] = -2

    assert (IssueCode.INVALID_ORDER, "lineItems[0].quantity") in _codes(_map(payload))


def test_an_amount_in_another_currency_on_a_line_is_an_invalid_order() -> None:
    payload = _order()
    payload["lineItems"][0]["totalPrice"]["currencyCode"] = "USD"

    mapped = _map(payload)
    assert (IssueCode.INVALID_ORDER, "lineItems[0].totalPrice") in _codes(mapped)
    assert mapped.sales_order is None


def test_a_line_without_taxes_is_an_invalid_order() -> None:
    payload = _order()
    del payload["lineItems"][0]["taxedPrice"]

    assert _codes(_map(payload)) == [(IssueCode.INVALID_ORDER, "lineItems[0].taxedPrice")]


def test_a_payload_missing_a_required_field_raises_a_typed_error_naming_it() -> None:
    payload = _order()
    del payload["lineItems"][0]["totalPrice"]

    with pytest.raises(PayloadError) as caught:
        parse_order(payload)
    assert "lineItems[0]" in caught.value.path


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("taxMode", "QuantumTax"),
        ("taxRoundingMode", "HalfOdd"),
        ("taxCalculationMode", "OrderLevel"),
    ],
)
def test_unknown_enum_values_of_money_fields_are_unrecognised(field: str, value: str) -> None:
    payload = _order()
    payload[field] = value

    assert (IssueCode.UNRECOGNISED_FIELD, field) in _codes(_map(payload))


def test_a_new_money_field_is_flagged_until_reviewed() -> None:
    payload = _order()
    payload["lineItems"][0]["priceAdjustment"] = {"centAmount": -100}

    assert _codes(_map(payload)) == [(IssueCode.UNRECOGNISED_FIELD, "lineItems[0].priceAdjustment")]
    reviewed = attrs.evolve(CONFIG, ignore_fields=frozenset({"priceAdjustment"}))
    assert _map(payload, reviewed).ok


def test_a_new_field_that_does_not_touch_money_is_kept_quietly() -> None:
    payload = _order()
    payload["lineItems"][0]["marketingBadge"] = "new"
    payload["lineItems"][0]["taxRate"]["taxRoundingTarget"] = "Net"

    assert _map(payload).ok


def test_a_direct_discount_with_an_unknown_target_is_unsupported() -> None:
    payload = _order()
    payload["directDiscounts"] = [{"id": "d1", "value": {}, "target": {"type": "loyaltyPoints"}}]

    assert _codes(_map(payload)) == [
        (IssueCode.UNSUPPORTED_DISCOUNT, "directDiscounts[0].target.type")
    ]


def test_external_taxes_are_refused_unless_the_policy_accepts_them() -> None:
    payload = _order()
    payload["taxMode"] = "ExternalAmount"

    assert _codes(_map(payload)) == [(IssueCode.UNSUPPORTED_TAX_SETUP, "taxMode")]
    accepting = attrs.evolve(CONFIG, external_tax=ExternalTaxPolicy.ACCEPT)
    assert _map(payload, accepting).ok


def test_disabled_taxes_are_unsupported() -> None:
    payload = _order()
    payload["taxMode"] = "Disabled"

    assert (IssueCode.UNSUPPORTED_TAX_SETUP, "taxMode") in _codes(_map(payload))


def test_a_custom_line_nobody_configured_is_reported() -> None:
    payload = _order()
    payload["customLineItems"] = make_order(
        lines=[],
        custom_lines=[],
    )["customLineItems"] + [
        {
            "id": "c1",
            "name": {"en": "Fee"},
            "money": {"currencyCode": "EUR", "centAmount": 100, "fractionDigits": 2},
            "slug": "mystery-fee",
            "quantity": 1,
            "totalPrice": {"currencyCode": "EUR", "centAmount": 100, "fractionDigits": 2},
        }
    ]

    assert (IssueCode.UNMAPPED_CUSTOM_LINE, "customLineItems[0].slug") in _codes(_map(payload))


_JUNK: st.SearchStrategy[Any] = st.sampled_from(
    [None, -1, 0, "", "x", 1.5, True, {}, [], {"centAmount": "1"}]
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=order_payloads(max_lines=3), data=st.data())
def test_a_corrupted_payload_gives_a_typed_error_or_issues_never_a_crash(
    payload: dict[str, Any], data: st.DataObject
) -> None:
    corrupted = copy.deepcopy(payload)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(corrupted)))
        parent = corrupted
        for step in path[:-1]:
            parent = parent[step]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(_JUNK)
    config = MappingConfig.from_dict(
        {
            "sku": {"rules": [{"pattern": r"(?P<product>SKU)-(?P<n>\d+)", "matrix": ["n"]}]},
            "depots": {"default": "WH1"},
            "taxes": {"codes": [{"code": "ANY", "rate": r} for r in ("0.19", "0.07", "0.2")]},
            "shipping": {"default": "CARRIAGE"},
        }
    )
    try:
        order = parse_order(corrupted)
    except PayloadError:
        return
    mapped = map_order(order, config)
    assert mapped.ok or mapped.issues


def test_a_line_shipped_by_methods_taxed_at_different_rates_is_unsupported() -> None:
    payload = _order()
    line = payload["lineItems"][0]
    rate = line.pop("taxRate")
    other = {**rate, "amount": 0.07}
    line["perMethodTaxRate"] = [
        {"shippingMethodKey": "a", "taxRate": rate},
        {"shippingMethodKey": "b", "taxRate": other},
    ]

    assert (IssueCode.UNSUPPORTED_TAX_SETUP, "lineItems[0].perMethodTaxRate") in _codes(
        _map(payload)
    )


def test_a_tax_rate_made_of_sub_rates_is_unsupported() -> None:
    payload = _order()
    payload["lineItems"][0]["taxRate"]["subRates"] = [{"name": "state", "amount": 0.19}]

    assert _codes(_map(payload)) == [
        (IssueCode.UNSUPPORTED_TAX_SETUP, "lineItems[0].taxRate.subRates")
    ]


def test_an_order_mixing_gross_and_net_rates_is_unsupported() -> None:
    payload = _order()
    payload["lineItems"][0]["taxRate"]["includedInPrice"] = False

    assert (IssueCode.UNSUPPORTED_TAX_SETUP, "lineItems") in _codes(_map(payload))


def test_an_unmapped_payment_method_is_reported_to_finance() -> None:
    payload = make_order(
        lines=[LineSpec(sku="KNOWN-1", quantity=1, unit_price=100)], payment_method="barter"
    )
    config = attrs.evolve(CONFIG, payments=PaymentConfig(field="paymentMethod"))
    (issue,) = _map(payload, config).issues

    assert (issue.code, issue.owner) == (IssueCode.UNMAPPED_PAYMENT_METHOD, IssueOwner.FINANCE)


def test_an_order_without_its_taxed_price_is_invalid_whatever_the_tax_mode() -> None:
    payload = _order()
    payload["taxMode"] = "External"
    del payload["taxedPrice"]
    accepting = attrs.evolve(CONFIG, external_tax=ExternalTaxPolicy.ACCEPT)

    assert _codes(_map(payload, accepting)) == [(IssueCode.INVALID_ORDER, "taxedPrice")]
