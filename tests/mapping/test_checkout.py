"""The checkout validator refuses exactly what the order mapping would refuse, says why in
commercetools' ExtensionError shape, and checks a cart only as far as it is complete."""

from __future__ import annotations

import copy
import json
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.mapping import (
    CheckoutConfig,
    MappingConfig,
    PaymentConfig,
    StockCheck,
    config_hash,
    map_order_json,
    validate_checkout,
)
from ct_prima_sync.testing.factories import LineSpec, ShippingSpec, make_order, make_payment
from ct_prima_sync.testing.strategies import TAX_RATES, order_payloads

BASE = MappingConfig.from_dict(
    {
        "sku": {"rules": [{"pattern": r"(?P<product>SKU)-(?P<n>\d+)", "matrix": ["n"]}]},
        "depots": {
            "default": "WH1",
            "supply_channels": {"channel-berlin": "WH1", "channel-hamburg": "WH2"},
        },
        "taxes": {"codes": [{"code": f"T{rate}", "rate": rate} for rate in TAX_RATES]},
        "shipping": {"default": "CARRIAGE", "methods": {"Express": "EXPRESS"}},
        "custom_lines": {"gift-wrap": {"charge": "GW"}, "insurance": {"product": "INS"}},
    }
)

#: Configurations that refuse some generated orders: a narrower SKU rule, one currency, fewer
#: tax codes, no shipping default, no depot for Hamburg, no custom lines.
NARROW = MappingConfig.from_dict(
    {
        "sku": {"rules": [{"pattern": r"(?P<product>SKU)-(?P<n>00[0-2])", "matrix": ["n"]}]},
        "depots": {"default": "WH1", "supply_channels": {"channel-berlin": "WH1"}},
        "taxes": {"codes": [{"code": "S", "rate": "0.19"}, {"code": "R", "rate": "0.07"}]},
        "shipping": {"methods": {"Express": "EXPRESS"}},
        "currencies": ["EUR"],
    }
)
CONFIGS = [
    BASE,
    NARROW,
    attrs.evolve(BASE, currencies=frozenset({"EUR", "KWD"})),
    attrs.evolve(BASE, custom_lines={}),
]


def _cart(order: dict[str, Any], *, taxed: bool = True) -> dict[str, Any]:
    """The cart the order came from: no order number or state; untaxed, no taxes or shipping."""
    cart = copy.deepcopy(order)
    for key in ("orderNumber", "orderState", "shipmentState", "paymentState", "completedAt"):
        cart.pop(key, None)
    cart["cartState"] = "Active"
    if not taxed:
        for key in ("taxedPrice", "shippingInfo", "taxedShippingPrice"):
            cart.pop(key, None)
        cart["shipping"] = []
        for line in cart["lineItems"] + cart.get("customLineItems", []):
            for key in ("taxRate", "taxedPrice"):
                line.pop(key, None)
    return cart


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=order_payloads(max_lines=5), config=st.sampled_from(CONFIGS))
def test_an_order_is_refused_at_checkout_exactly_when_the_mapping_reports_issues(
    payload: dict[str, Any], config: MappingConfig
) -> None:
    mapped = map_order_json(payload, config)
    verdict = validate_checkout(payload, config)

    assert verdict.ok == mapped.ok
    assert [i.code for i in verdict.issues] == [i.code for i in mapped.issues]
    assert [e.extra_info["issueCode"] for e in verdict.errors] == [i.code for i in mapped.issues]
    assert verdict.config_hash == config_hash(config)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=order_payloads(max_lines=5), config=st.sampled_from(CONFIGS))
def test_a_complete_cart_passes_when_its_order_would_map(
    payload: dict[str, Any], config: MappingConfig
) -> None:
    """Only payments wait for the order: a taxed cart's verdict is its order's."""
    mapped = map_order_json(payload, config)
    verdict = validate_checkout(_cart(payload), config)

    assert verdict.resource == "cart"
    assert "payments" in verdict.skipped
    assert verdict.ok == mapped.ok


def _order(*skus: str, channel: str | None = None, currency: str = "EUR") -> dict[str, Any]:
    return make_order(
        lines=[
            LineSpec(sku=sku, quantity=2, unit_price=1000, tax_rate="0.19", supply_channel=channel)
            for sku in skus
        ],
        shipping=ShippingSpec(key="ship", name="Standard", price=495, tax_rate="0.19"),
        currency=currency,
    )


def test_an_unmapped_sku_in_an_untaxed_cart_is_refused_naming_its_line() -> None:
    order = _order("SKU-001", "GIFT-9")
    cart = _cart(order, taxed=False)

    verdict = validate_checkout(cart, BASE)

    assert not verdict.ok
    assert verdict.resource == "cart"
    (error,) = verdict.errors
    body = error.to_json()
    assert body["code"] == "InvalidInput"
    assert body["message"] == "This item cannot be ordered at the moment."
    info = body["extensionExtraInfo"]
    assert info["issueCode"] == "UNMAPPED_SKU"
    assert info["lineItemId"] == cart["lineItems"][1]["id"]
    assert info["sku"] == "GIFT-9"
    assert info["configHash"] == config_hash(BASE)
    assert {"tax", "totals", "payments"} <= set(verdict.skipped)
    assert {"sku", "depot", "currency"} <= set(verdict.checks)


def test_an_untaxed_cart_of_mapped_lines_passes_and_says_what_was_not_checked() -> None:
    verdict = validate_checkout(_cart(_order("SKU-001", "SKU-002"), taxed=False), BASE)

    assert verdict.ok
    assert verdict.to_response() == (200, {"actions": []})
    assert "tax" in verdict.skipped
    assert "totals" in verdict.skipped


def test_an_empty_cart_passes_but_an_empty_order_does_not() -> None:
    cart = _cart(_order("SKU-001"), taxed=False)
    cart["lineItems"] = []

    assert validate_checkout(cart, BASE).ok
    assert not validate_checkout(cart, BASE, resource="order").ok


def test_a_taxed_cart_with_an_unmapped_tax_rate_is_refused() -> None:
    config = attrs.evolve(BASE, tax_codes=BASE.tax_codes[1:])  # 0.19 has no code now

    verdict = validate_checkout(_cart(_order("SKU-001")), config)

    codes = {e.extra_info["issueCode"] for e in verdict.errors}
    assert codes == {"UNMAPPED_TAX_RATE"}
    assert "tax" in verdict.checks


def test_each_refusal_kind_has_its_code_and_owner() -> None:
    config = MappingConfig.from_dict(
        {
            "sku": {"table": {"A-1": "A1"}},
            "depots": {"supply_channels": {"channel-berlin": "WH1"}},
            "currencies": ["EUR"],
            "taxes": {"codes": [{"code": "S", "rate": "0.19"}]},
        }
    )
    order = _order("A-1", channel="channel-hamburg", currency="JPY")

    verdict = validate_checkout(order, config)

    found = {(e.extra_info["issueCode"], e.extra_info["owner"]) for e in verdict.errors}
    assert ("CURRENCY_NOT_ALLOWED", "finance") in found
    assert ("UNKNOWN_DEPOT", "operations") in found
    assert ("UNMAPPED_SHIPPING_METHOD", "operations") in found


def test_configured_messages_become_message_and_localized_message() -> None:
    config = CheckoutConfig.from_dict(
        {
            "default_locale": "de",
            "messages": {
                "UNMAPPED_SKU": {"de": "Artikel derzeit nicht bestellbar.", "en": "Not orderable."}
            },
        },
        BASE,
    )

    (error,) = validate_checkout(_order("NOPE"), config).errors

    assert error.message == "Artikel derzeit nicht bestellbar."
    assert error.to_json()["localizedMessage"] == {
        "de": "Artikel derzeit nicht bestellbar.",
        "en": "Not orderable.",
    }


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"messages": {"NO_SUCH_CODE": {"en": "x"}}}, "not an issue code"),
        ({"stock_check": "sometimes"}, "expected 'off', 'warn' or 'refuse'"),
        ({"messages": {"UNMAPPED_SKU": {"en": 3}}}, "locale"),
        ({"colour": "blue"}, "unknown setting"),
    ],
)
def test_a_bad_checkout_table_names_the_setting(table: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        CheckoutConfig.from_dict(table, BASE)


@pytest.mark.parametrize(
    "payload",
    [b"{not json", "[]", json.dumps({"id": "c1", "cartState": "Active"}), b"\xff\xfe"],
)
def test_a_malformed_payload_is_refused_as_invalid_input_not_raised(payload: str | bytes) -> None:
    verdict = validate_checkout(payload, BASE)

    assert not verdict.ok
    status, body = verdict.to_response()
    assert status == 400
    assert body["errors"][0]["code"] == "InvalidInput"
    assert body["errors"][0]["extensionExtraInfo"]["issueCode"] == "INVALID_ORDER"


def test_the_hash_names_the_configuration_and_changes_with_it() -> None:
    same = MappingConfig.from_dict(
        {
            "sku": {"rules": [{"pattern": r"(?P<product>SKU)-(?P<n>\d+)", "matrix": ["n"]}]},
            "depots": {
                "supply_channels": {"channel-hamburg": "WH2", "channel-berlin": "WH1"},
                "default": "WH1",
            },
            "taxes": {"codes": [{"code": f"T{rate}", "rate": rate} for rate in TAX_RATES]},
            "shipping": {"methods": {"Express": "EXPRESS"}, "default": "CARRIAGE"},
            "custom_lines": {"insurance": {"product": "INS"}, "gift-wrap": {"charge": "GW"}},
        }
    )

    assert config_hash(same) == config_hash(BASE)
    assert config_hash(attrs.evolve(BASE, currencies=frozenset({"EUR"}))) != config_hash(BASE)
    assert len(config_hash(BASE)) == 16


def _stock_config(mode: StockCheck) -> CheckoutConfig:
    return CheckoutConfig(mapping=BASE, stock=mode)


def test_the_stock_check_is_off_by_default() -> None:
    order = _order("SKU-001")

    verdict = validate_checkout(order, BASE, stock={("SKU-001", "WH1"): 0})

    assert verdict.ok
    assert "stock" not in verdict.checks


def test_the_stock_check_warns_or_refuses_a_quantity_beyond_the_snapshot() -> None:
    order = _order("SKU-001", "SKU-002")  # two of each, depot WH1 (the default)
    stock = {("SKU-001", "WH1"): 1, ("SKU-002", "WH1"): 2}

    warned = validate_checkout(order, _stock_config(StockCheck.WARN), stock=stock)
    refused = validate_checkout(order, _stock_config(StockCheck.REFUSE), stock=stock)

    assert warned.ok
    (warning,) = warned.warnings
    assert warning.extra_info["issueCode"] == "OUT_OF_STOCK"
    assert warning.extra_info["lineItemId"] == order["lineItems"][0]["id"]
    assert not refused.ok
    assert [e.extra_info["sku"] for e in refused.errors] == ["SKU-001"]
    assert refused.errors[0].message == "Not enough of this item is in stock."


def test_lines_of_one_sku_and_depot_are_counted_together_and_unknown_skus_pass() -> None:
    order = _order("SKU-001", "SKU-001", "SKU-003")  # 2 + 2 of SKU-001
    stock = {("SKU-001", "WH1"): 3}

    verdict = validate_checkout(order, _stock_config(StockCheck.REFUSE), stock=stock)

    assert len(verdict.errors) == 2
    assert {e.extra_info["sku"] for e in verdict.errors} == {"SKU-001"}


def test_an_order_with_expanded_payments_is_checked_as_the_mapping_checks_it() -> None:
    """Payments expanded in the order are read as map_order_json reads them."""
    config = attrs.evolve(
        BASE, payments=PaymentConfig.from_dict({"read_payments": True, "methods": {"card": "CC"}})
    )
    order = _order("SKU-001")
    gross = order["taxedPrice"]["totalGross"]["centAmount"]
    short = make_payment(gross - 1, seed=1)
    order["paymentInfo"] = {"payments": [{"typeId": "payment", "id": short["id"], "obj": short}]}

    mapped = map_order_json(order, config)
    verdict = validate_checkout(order, config)

    assert [i.code for i in mapped.issues] == ["PAYMENT_MISMATCH"]
    assert [i.code for i in verdict.issues] == ["PAYMENT_MISMATCH"]
    assert not validate_checkout(_cart(order), config).issues  # a cart's payments wait
