"""Changes made in commercetools after an order reached Prima (pure): each cancellation, edit
and return is passed on once, to Prima when the installation takes it, else to operations."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest

from ct_prima_sync.commercetools import parse_order
from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.mapping import (
    CancelPolicy,
    CarrierConfig,
    DispatchConfig,
    DispatchIssueKind,
    MappingConfig,
    OrderReview,
    review_order,
)
from ct_prima_sync.testing.factories import LineSpec, ShippingSpec, make_order
from ct_prima_sync.testing.scenario import SCENARIO_MAPPING_TOML

MAPPING = MappingConfig.from_toml(SCENARIO_MAPPING_TOML)


def _order(**changes: Any) -> dict[str, Any]:
    order = make_order(
        lines=[
            LineSpec(sku="TEE1001-BLK-M", quantity=3, unit_price=1999),
            LineSpec(sku="CAP1002-RED-L", quantity=1, unit_price=999),
        ],
        shipping=ShippingSpec(key="standard", name="Standard", price=495),
        order_number="WEB-9",
        seed=1,  # the same order every call: a baseline and its changed copy
    )
    order.update(changes)
    return order


def _review(
    order: dict[str, Any],
    *,
    baseline: dict[str, Any] | None = None,
    config: DispatchConfig | None = None,
    returns: frozenset[str] = frozenset(),
    gross: int | None = None,
    watch: bool = True,
) -> OrderReview:
    known = None
    state = ""
    if baseline is not None:
        first = review_order(
            parse_order(baseline),
            known_lines=None,
            known_order_state="",
            known_returns=frozenset(),
            mapping=MAPPING,
            config=DispatchConfig(),
        )
        known = [(line.line_id, line.sku, line.ordered) for line in first.lines]
        state = first.order_state
    return review_order(
        parse_order(order),
        known_lines=known,
        known_order_state=state,
        known_returns=returns,
        mapping=MAPPING,
        config=config or DispatchConfig(),
        known_gross=gross,
        watch_changes=watch,
    )


def test_an_unchanged_order_needs_nothing() -> None:
    order = _order()
    review = _review(order, baseline=order)
    assert (review.cancelled, review.changes, review.returns, review.issues) == (
        False,
        (),
        (),
        (),
    )


def test_a_cancellation_raises_for_operations_unless_prima_takes_cancellations() -> None:
    review = _review(_order(orderState="Cancelled"), baseline=_order())
    assert review.cancelled
    (issue,) = review.issues
    assert issue.kind is DispatchIssueKind.CT_ORDER_CANCELLED
    assert str(issue.owner) == "operations"
    assert issue.detail == {"order_number": "WEB-9"}
    sending = _review(
        _order(orderState="Cancelled"),
        baseline=_order(),
        config=DispatchConfig(cancel_in_prima=True),
    )
    assert (sending.cancel_in_prima, sending.issues) == (True, ())


def test_an_edit_lists_every_line_that_changed() -> None:
    before = _order()
    after = _order()
    tee, cap = after["lineItems"]
    tee["quantity"] = 1
    after["lineItems"] = [tee]
    review = _review(after, baseline=before)
    assert [(c.sku, c.before, c.after) for c in review.changes] == [
        ("TEE1001/BLK/M", 3, 1),
        ("CAP1002/RED/L", 1, 0),
    ]
    (issue,) = review.issues
    assert issue.kind is DispatchIssueKind.CT_ORDER_CHANGED
    assert "TEE1001/BLK/M: 3 -> 1" in issue.message
    assert issue.detail["changes"][1] == {
        "line_id": cap["id"],
        "sku": "CAP1002/RED/L",
        "before": 1,
        "after": 0,
    }


def test_on_the_first_review_a_changed_total_betrays_an_edit_since_submission() -> None:
    order = _order()
    gross = order["taxedPrice"]["totalGross"]["centAmount"]
    assert _review(order, gross=gross).issues == ()
    (issue,) = _review(order, gross=gross + 999).issues
    assert issue.kind is DispatchIssueKind.CT_ORDER_CHANGED
    assert (issue.detail["gross_before"], issue.detail["gross_after"]) == (gross + 999, gross)


def _returned(order: dict[str, Any]) -> dict[str, Any]:
    now = "2026-11-25T10:00:00.000Z"
    order["returnInfo"] = [
        {
            "items": [
                {
                    "id": "ret-1",
                    "type": "LineItemReturnItem",
                    "lineItemId": order["lineItems"][0]["id"],
                    "quantity": 2,
                    "shipmentState": "Returned",
                    "paymentState": "Initial",
                    "comment": "too small, says Ms Example",
                    "createdAt": now,
                    "lastModifiedAt": now,
                }
            ],
            "returnDate": now,
        }
    ]
    return order


def test_a_new_return_is_passed_on_once_without_the_customers_words() -> None:
    order = _returned(_order())
    review = _review(order, baseline=_order(), watch=False)
    (returned,) = review.returns
    assert (returned.return_item_id, returned.quantity, returned.sku) == (
        "ret-1",
        2,
        "TEE1001/BLK/M",
    )
    assert returned.return_date == datetime(2026, 11, 25, 10, tzinfo=UTC)
    (issue,) = review.issues
    assert issue.kind is DispatchIssueKind.CT_RETURN_RECORDED
    assert "Example" not in repr(issue.detail) + issue.message
    assert _review(order, baseline=_order(), returns=frozenset({"ret-1"})).returns == ()
    to_prima = _review(order, baseline=_order(), config=DispatchConfig(returns_to_prima=True))
    assert (len(to_prima.returns_for_prima), to_prima.issues) == (1, ())


def test_a_shipped_order_is_watched_for_returns_only() -> None:
    review = _review(_order(orderState="Cancelled"), baseline=_order(), watch=False)
    assert (review.cancelled, review.issues) == (False, ())


def test_dispatch_settings_are_read_with_clear_errors() -> None:
    config = DispatchConfig.from_dict(
        {
            "despatch_details": True,
            "schedule": {
                "max_checks_per_run": 200,
                "intervals": [
                    {"min_age_hours": 0, "every_hours": Decimal("0.5")},
                    {"min_age_hours": 48, "every_hours": 12},
                ],
            },
            "carriers": {"dpd": {"name": "DPD", "tracking_url": "https://t.example/{tracking_id}"}},
            "parcel_type_key": "parcel-tracking",
            "on_prima_cancel": "cancel_order",
            "follow_since": "2026-11-01T00:00:00+00:00",
        }
    )
    assert config.schedule.intervals[0].every_hours == 0.5
    assert config.carrier("DPD").url_for("1Z") == "https://t.example/1Z"
    assert config.carrier("ROYALMAIL") == CarrierConfig(name="ROYALMAIL")
    assert config.on_prima_cancel is CancelPolicy.CANCEL_ORDER
    assert config.follow_since == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(ConfigurationError, match=r"unknown settings \['budget'\]"):
        DispatchConfig.from_dict({"budget": 5})
    with pytest.raises(ConfigurationError, match="parcel_type_key"):
        DispatchConfig.from_dict(
            {"carriers": {"dpd": {"name": "D", "tracking_url": "u/{tracking_id}"}}}
        )
    with pytest.raises(ConfigurationError, match=r"\{tracking_id\}"):
        CarrierConfig(name="D", tracking_url="https://t.example/{parcel}")
    with pytest.raises(
        ConfigurationError, match="on_prima_cancel: 'refund' is not one of cancel_order, raise"
    ):
        DispatchConfig.from_dict({"on_prima_cancel": "refund"})
    with pytest.raises(ConfigurationError, match="offset"):
        DispatchConfig(follow_since=datetime(2026, 11, 1))  # noqa: DTZ001 (the point of the test)
    with pytest.raises(ConfigurationError, match="shipped_order_state"):
        attrs.evolve(DispatchConfig(), shipped_order_state="Shipped")
