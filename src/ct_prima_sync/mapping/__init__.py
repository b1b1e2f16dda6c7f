"""The pure mapping between commercetools and Prima: orders, taxes, discounts, charges, customers,
depots, SKUs, stock, and dispatch (which orders to ask Prima about, what its despatches become in
commercetools). No I/O, no clock, no globals (docs/mapping.md, docs/dispatch.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ._config import (
    CarrierService,
    CustomLineTarget,
    DiscountPresentation,
    ExternalTaxPolicy,
    MappingConfig,
    OrderDiscountLines,
    OrderDiscountScope,
    PriceBasis,
    ShippingCharges,
    TaxCodeRule,
)
from ._customers import (
    AccountMatch,
    AccountSource,
    CustomerConfig,
    MappedCustomer,
    map_customer,
    normalise_email,
    split_address,
)
from ._depots import NO_CHANNEL, DepotMap
from ._issues import IssueCode, IssueOwner, MappingIssue
from ._json import map_order_json, plan_stock_json
from ._order import MappedOrder, map_order
from ._payments import PaymentConfig, PayMethod
from ._result import SCHEMA_VERSION, MappingResult
from ._sku import SkuAttributeSource, SkuCodec, SkuRule
from ._stock import (
    CurrentStock,
    ReservationRule,
    StockChange,
    StockConfig,
    StockEntry,
    StockPlan,
    plan_stock_updates,
    replan_change,
)

if TYPE_CHECKING:  # dispatch and checkout load on first use: mapping an order needs neither
    from ._assess import Check
    from ._checkout import (
        CheckoutConfig,
        CheckoutVerdict,
        ExtensionError,
        StockCheck,
        validate_checkout,
    )
    from ._dispatch_config import (
        CancelPolicy,
        CarrierConfig,
        CheckInterval,
        CheckSchedule,
        DispatchConfig,
    )
    from ._dispatch_issues import DispatchIssue, DispatchIssueKind
    from ._dispatch_lines import ShippableLine, delivery_key, shippable_lines
    from ._dispatch_plan import DispatchOutcome, DispatchPlan, PlannedDelivery, plan_dispatch
    from ._dispatch_report import Assessment, PrimaDespatchReport, assess_report
    from ._dispatch_review import LineChange, OrderReview, ReturnedItem, review_order
    from ._dispatch_schedule import CheckCandidate, CheckPlan, next_check_at, plan_checks
    from ._fingerprint import config_hash

_LAZY = {
    "Check": "._assess",
    "CheckoutConfig": "._checkout",
    "CheckoutVerdict": "._checkout",
    "ExtensionError": "._checkout",
    "StockCheck": "._checkout",
    "validate_checkout": "._checkout",
    "config_hash": "._fingerprint",
    "CancelPolicy": "._dispatch_config",
    "CarrierConfig": "._dispatch_config",
    "CheckInterval": "._dispatch_config",
    "CheckSchedule": "._dispatch_config",
    "DispatchConfig": "._dispatch_config",
    "DispatchIssue": "._dispatch_issues",
    "DispatchIssueKind": "._dispatch_issues",
    "ShippableLine": "._dispatch_lines",
    "delivery_key": "._dispatch_lines",
    "shippable_lines": "._dispatch_lines",
    "DispatchOutcome": "._dispatch_plan",
    "DispatchPlan": "._dispatch_plan",
    "PlannedDelivery": "._dispatch_plan",
    "plan_dispatch": "._dispatch_plan",
    "Assessment": "._dispatch_report",
    "PrimaDespatchReport": "._dispatch_report",
    "assess_report": "._dispatch_report",
    "LineChange": "._dispatch_review",
    "OrderReview": "._dispatch_review",
    "ReturnedItem": "._dispatch_review",
    "review_order": "._dispatch_review",
    "CheckCandidate": "._dispatch_schedule",
    "CheckPlan": "._dispatch_schedule",
    "next_check_at": "._dispatch_schedule",
    "plan_checks": "._dispatch_schedule",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "NO_CHANNEL",
    "SCHEMA_VERSION",
    "AccountMatch",
    "AccountSource",
    "Assessment",
    "CancelPolicy",
    "CarrierConfig",
    "CarrierService",
    "Check",
    "CheckCandidate",
    "CheckInterval",
    "CheckPlan",
    "CheckSchedule",
    "CheckoutConfig",
    "CheckoutVerdict",
    "CurrentStock",
    "CustomLineTarget",
    "CustomerConfig",
    "DepotMap",
    "DiscountPresentation",
    "DispatchConfig",
    "DispatchIssue",
    "DispatchIssueKind",
    "DispatchOutcome",
    "DispatchPlan",
    "ExtensionError",
    "ExternalTaxPolicy",
    "IssueCode",
    "IssueOwner",
    "LineChange",
    "MappedCustomer",
    "MappedOrder",
    "MappingConfig",
    "MappingIssue",
    "MappingResult",
    "OrderDiscountLines",
    "OrderDiscountScope",
    "OrderReview",
    "PayMethod",
    "PaymentConfig",
    "PlannedDelivery",
    "PriceBasis",
    "PrimaDespatchReport",
    "ReservationRule",
    "ReturnedItem",
    "ShippableLine",
    "ShippingCharges",
    "SkuAttributeSource",
    "SkuCodec",
    "SkuRule",
    "StockChange",
    "StockCheck",
    "StockConfig",
    "StockEntry",
    "StockPlan",
    "TaxCodeRule",
    "assess_report",
    "config_hash",
    "delivery_key",
    "map_customer",
    "map_order",
    "map_order_json",
    "next_check_at",
    "normalise_email",
    "plan_checks",
    "plan_dispatch",
    "plan_stock_json",
    "plan_stock_updates",
    "replan_change",
    "review_order",
    "shippable_lines",
    "split_address",
    "validate_checkout",
]
