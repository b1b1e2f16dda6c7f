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

if TYPE_CHECKING:  # dispatch decisions load on first use: mapping an order needs none of them
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
    from ._postings import (
        EntryLine,
        MissingAccount,
        PaymentMovement,
        PostingEntry,
        PostingSource,
        RevenueItem,
        build_entries,
        reverse_entry,
    )
    from ._postings_batch import (
        PlannedBatch,
        batch_id,
        build_journal,
        check_batch,
        journal_money_side,
        plan_batches,
    )
    from ._postings_config import (
        AccountRole,
        PostingAccounts,
        PostingMode,
        PostingPeriod,
    )

_LAZY = {
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
    "AccountRole": "._postings_config",
    "PostingAccounts": "._postings_config",
    "PostingMode": "._postings_config",
    "PostingPeriod": "._postings_config",
    "EntryLine": "._postings",
    "MissingAccount": "._postings",
    "PaymentMovement": "._postings",
    "PostingEntry": "._postings",
    "PostingSource": "._postings",
    "RevenueItem": "._postings",
    "build_entries": "._postings",
    "reverse_entry": "._postings",
    "PlannedBatch": "._postings_batch",
    "batch_id": "._postings_batch",
    "build_journal": "._postings_batch",
    "check_batch": "._postings_batch",
    "journal_money_side": "._postings_batch",
    "plan_batches": "._postings_batch",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "NO_CHANNEL",
    "SCHEMA_VERSION",
    "AccountMatch",
    "AccountRole",
    "AccountSource",
    "Assessment",
    "CancelPolicy",
    "CarrierConfig",
    "CarrierService",
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
    "EntryLine",
    "ExternalTaxPolicy",
    "IssueCode",
    "IssueOwner",
    "LineChange",
    "MappedCustomer",
    "MappedOrder",
    "MappingConfig",
    "MappingIssue",
    "MappingResult",
    "MissingAccount",
    "OrderDiscountLines",
    "OrderDiscountScope",
    "OrderReview",
    "PayMethod",
    "PaymentConfig",
    "PaymentMovement",
    "PlannedBatch",
    "PlannedDelivery",
    "PostingAccounts",
    "PostingEntry",
    "PostingMode",
    "PostingPeriod",
    "PostingSource",
    "PriceBasis",
    "PrimaDespatchReport",
    "ReservationRule",
    "ReturnedItem",
    "RevenueItem",
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
    "batch_id",
    "build_entries",
    "build_journal",
    "check_batch",
    "delivery_key",
    "journal_money_side",
    "map_customer",
    "map_order",
    "map_order_json",
    "next_check_at",
    "normalise_email",
    "plan_batches",
    "plan_checks",
    "plan_dispatch",
    "plan_stock_json",
    "plan_stock_updates",
    "replan_change",
    "reverse_entry",
    "review_order",
    "shippable_lines",
    "split_address",
]
