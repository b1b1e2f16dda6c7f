"""What finance and operations read on a Prima order besides the lines: the payment (method,
provider, amount, transaction and authorisation references, OrderPaid, and whether it covers the
order), the carrier and service, and a VatInclusive that agrees with Prima's price book."""

from __future__ import annotations

from typing import Any

import pytest

from ct_prima_sync.commercetools import parse_order, parse_payment
from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.mapping import (
    IssueCode,
    IssueOwner,
    MappedOrder,
    MappingConfig,
    map_order,
    map_order_json,
)
from ct_prima_sync.money import Money
from ct_prima_sync.testing.factories import LineSpec, ShippingSpec, make_order, make_payment

from .result_schema import assert_valid

BASE: dict[str, Any] = {
    "sku": {"rules": [{"pattern": "(?P<product>.+)"}]},
    "depots": {"default": "WH1"},
    "taxes": {"codes": [{"code": "S", "rate": "0.19"}]},
    "shipping": {"default": "CARRIAGE"},
    "payments": {
        "read_payments": True,
        "methods": {"card": {"method": "CC", "sub_method": "VISA"}, "paypal": "PP"},
        "providers": {"stripe": "STRIPE"},
    },
}
CONFIG = MappingConfig.from_dict(BASE)


def _order(**changes: Any) -> dict[str, Any]:
    # 2 x 11.90 + 4.90 shipping = 28.70 gross
    return make_order(
        lines=[LineSpec(sku="TEE", quantity=2, unit_price=1190)],
        shipping=ShippingSpec(key="home", name="Standard", price=490),
        **changes,
    )


def _map(
    order: dict[str, Any], payments: list[dict[str, Any]], config: MappingConfig = CONFIG
) -> MappedOrder:
    return map_order(parse_order(order), config, payments=[parse_payment(p) for p in payments])


def test_a_captured_card_payment_becomes_order_payment_data_and_order_paid() -> None:
    payment = make_payment(
        2870, transactions=[("Authorization", -1, "Success"), ("Charge", -1, "Success")]
    )
    mapped = _map(_order(), [payment])

    assert mapped.issues == ()
    assert mapped.sales_order is not None
    [paid] = mapped.sales_order.payments
    assert (paid.pay_method, paid.sub_pay_method, paid.provider) == ("CC", "VISA", "STRIPE")
    assert paid.amount == Money(2870, "EUR", 2)
    assert (paid.transaction_id, paid.auth_reference) == ("psp-charge-1", "psp-authorization-0")
    assert paid.authorised_at is not None
    assert mapped.sales_order.order_paid


def test_an_order_authorised_but_not_captured_is_covered_not_flagged() -> None:
    mapped = _map(_order(), [make_payment(2870)])

    assert mapped.ok
    assert mapped.sales_order is not None
    assert mapped.sales_order.payments[0].amount == Money(2870, "EUR", 2)
    assert not mapped.sales_order.order_paid  # nothing captured yet, paymentState not Paid


@pytest.mark.parametrize(
    ("transactions", "covered"),
    [
        ([("Authorization", -1, "Success"), ("CancelAuthorization", -1, "Success")], 0),
        ([("Charge", -1, "Success"), ("Refund", 500, "Success")], 2370),
        ([("Authorization", -1, "Pending")], 0),
        ([("Authorization", -1, "Failure"), ("Charge", 2000, "Success")], 2000),
        ([("Charge", -1, "Success"), ("Chargeback", -1, "Success")], 0),
    ],
    ids=["cancelled", "partly-refunded", "pending", "failed-auth-part-charge", "charged-back"],
)
def test_payments_that_do_not_cover_the_gross_are_a_finance_issue_with_the_difference(
    transactions: list[tuple[str, int, str]], covered: int
) -> None:
    mapped = _map(_order(), [make_payment(2870, transactions=transactions)])

    [issue] = mapped.issues
    assert (issue.code, issue.owner, issue.path) == (
        IssueCode.PAYMENT_MISMATCH,
        IssueOwner.FINANCE,
        "paymentInfo.payments",
    )
    assert issue.difference == Money(covered - 2870, "EUR", 2)


def test_two_payments_together_cover_the_order() -> None:
    gift_card = make_payment(
        1000, method="paypal", interface="paypal", transactions=[("Charge", -1, "Success")], seed=1
    )
    card = make_payment(1870, seed=2)
    mapped = _map(_order(), [gift_card, card])

    assert mapped.ok
    assert mapped.sales_order is not None
    assert [
        (p.pay_method, p.provider, p.amount.minor_units) for p in mapped.sales_order.payments
    ] == [
        ("PP", "paypal", 1000),
        ("CC", "STRIPE", 1870),
    ]


def test_an_unmapped_payment_method_is_a_finance_issue_at_the_payment() -> None:
    mapped = _map(_order(), [make_payment(2870, method="klarna")])

    assert [(i.code, i.path) for i in mapped.issues] == [
        (IssueCode.UNMAPPED_PAYMENT_METHOD, "payments[0].paymentMethodInfo.method")
    ]


def test_payment_state_paid_sets_order_paid_and_coverage_can_be_switched_off() -> None:
    config = MappingConfig.from_dict(
        {**BASE, "payments": {**BASE["payments"], "check_coverage": False}}
    )
    order = _order()
    order["paymentState"] = "Paid"

    mapped = _map(order, [], config)

    assert mapped.ok
    assert mapped.sales_order is not None
    assert mapped.sales_order.order_paid
    assert mapped.sales_order.payments == ()


def test_map_order_json_takes_payments_as_json_or_expanded_in_the_order() -> None:
    payment = make_payment(2870, transactions=[("Charge", -1, "Success")])
    order = _order()
    order["paymentInfo"] = {"payments": [{"typeId": "payment", "id": payment["id"]}]}

    given = assert_valid(map_order_json(order, CONFIG, payments=[payment]))
    order["paymentInfo"]["payments"][0]["obj"] = payment
    expanded = assert_valid(map_order_json(order, CONFIG))

    assert given["ok"]
    assert given == expanded
    assert given["sales_order"]["order_paid"] is True
    assert given["sales_order"]["payments"][0]["amount"] == {"amount": "28.70", "currency": "EUR"}


def test_a_malformed_payment_is_an_invalid_order_naming_the_payment() -> None:
    payment = make_payment(2870)
    payment["transactions"][0]["amount"]["centAmount"] = "lots"

    result = assert_valid(map_order_json(_order(), CONFIG, payments=[payment]))

    [issue] = result["issues"]
    assert issue["code"] == "INVALID_ORDER"
    assert issue["path"] == "payments[0].transactions[0].amount.centAmount"


CARRIERS = MappingConfig.from_dict(
    {
        **BASE,
        "payments": {},
        "shipping": {
            "default": "CARRIAGE",
            "methods": {
                "express": {"charge": "EXP", "carrier": "DHL", "service": "EXPRESS"},
                "standard": {"carrier": "DPD", "service": "CLASSIC"},
            },
        },
    }
)


def _shipped(method_key: str, name: str = "Standard") -> dict[str, Any]:
    order = _order()
    order["shippingInfo"]["shippingMethod"] = {"typeId": "shipping-method", "key": method_key}
    order["shippingInfo"]["shippingMethodName"] = name
    return order


def test_the_shipping_method_key_gives_the_prima_carrier_service_and_charge() -> None:
    mapped = map_order(parse_order(_shipped("express", "Express")), CARRIERS)

    assert mapped.sales_order is not None
    assert (mapped.sales_order.carrier, mapped.sales_order.carrier_service) == ("DHL", "EXPRESS")
    assert [c.charge_code for c in mapped.sales_order.charges] == ["EXP"]
    standard = map_order(parse_order(_shipped("standard")), CARRIERS).sales_order
    assert standard is not None
    assert (standard.carrier, standard.charges[0].charge_code) == ("DPD", "CARRIAGE")


def test_an_unmapped_shipping_method_is_an_operations_issue_not_an_empty_carrier() -> None:
    mapped = map_order(parse_order(_shipped("drone", "Drone")), CARRIERS)

    [issue] = mapped.issues
    assert (issue.code, issue.owner, issue.path) == (
        IssueCode.UNMAPPED_CARRIER,
        IssueOwner.OPERATIONS,
        "shippingInfo.shippingMethod",
    )
    assert "'Drone'" in issue.message


def test_multiple_shipping_with_different_carriers_is_an_issue() -> None:
    order = make_order(
        lines=[LineSpec(sku="TEE", quantity=1, unit_price=1190)],
        shipping=[
            ShippingSpec(key="express", name="Express", price=990),
            ShippingSpec(key="standard", name="Standard", price=490),
        ],
    )
    for entry in order["shipping"]:
        key = entry["shippingKey"]
        entry["shippingInfo"]["shippingMethod"] = {"typeId": "shipping-method", "key": key}

    mapped = map_order(parse_order(order), CARRIERS)

    assert [(i.code, i.path) for i in mapped.issues] == [(IssueCode.UNMAPPED_CARRIER, "shipping")]


def test_without_carrier_mapping_the_carrier_is_left_to_prima() -> None:
    sales_order = map_order(
        parse_order(_order()), MappingConfig.from_dict({**BASE, "payments": {}})
    )
    assert sales_order.sales_order is not None
    assert sales_order.sales_order.carrier == ""


def test_vat_inclusive_must_agree_with_the_prima_price_book() -> None:
    with pytest.raises(ConfigurationError, match=r"prices\.vat_inclusive.*E:548"):
        MappingConfig.from_dict(
            {"prices": {"vat_inclusive": True, "price_book_vat_inclusive": False}}
        )
    agreed = MappingConfig.from_dict(
        {"prices": {"vat_inclusive": False, "price_book_vat_inclusive": False}}
    )
    assert agreed.price_book_vat_inclusive is False
