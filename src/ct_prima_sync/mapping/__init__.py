"""The pure mapping between commercetools and Prima: orders, taxes, discounts, charges, customers,
depots, SKUs, stock, and dispatch (which orders to ask Prima about, what its despatches become in
commercetools). No I/O, no clock, no globals (docs/mapping.md, docs/dispatch.md)."""

from __future__ import annotations

from ._config import (
    CustomLineTarget,
    DiscountPresentation,
    ExternalTaxPolicy,
    MappingConfig,
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
from ._issues import IssueCode, IssueOwner, MappingIssue
from ._json import map_order_json, plan_stock_json
from ._order import MappedOrder, map_order
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

__all__ = [
    "NO_CHANNEL",
    "AccountMatch",
    "AccountSource",
    "Assessment",
    "CancelPolicy",
    "CarrierConfig",
    "CheckCandidate",
    "CheckInterval",
    "CheckPlan",
    "CheckSchedule",
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
    "ExternalTaxPolicy",
    "IssueCode",
    "IssueOwner",
    "LineChange",
    "MappedCustomer",
    "MappedOrder",
    "MappingConfig",
    "MappingIssue",
    "OrderDiscountScope",
    "OrderReview",
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
    "StockConfig",
    "StockEntry",
    "StockPlan",
    "TaxCodeRule",
    "assess_report",
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
]
