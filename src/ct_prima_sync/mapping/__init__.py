"""The pure mapping between commercetools and Prima: orders, taxes, discounts, charges, customers,
depots, SKUs and stock. No I/O, no clock, no globals (docs/mapping.md)."""

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
    "CurrentStock",
    "CustomLineTarget",
    "CustomerConfig",
    "DepotMap",
    "DiscountPresentation",
    "ExternalTaxPolicy",
    "IssueCode",
    "IssueOwner",
    "MappedCustomer",
    "MappedOrder",
    "MappingConfig",
    "MappingIssue",
    "OrderDiscountScope",
    "PriceBasis",
    "ReservationRule",
    "ShippingCharges",
    "SkuAttributeSource",
    "SkuCodec",
    "SkuRule",
    "StockChange",
    "StockConfig",
    "StockEntry",
    "StockPlan",
    "TaxCodeRule",
    "map_customer",
    "map_order",
    "map_order_json",
    "normalise_email",
    "plan_stock_json",
    "plan_stock_updates",
    "replan_change",
    "split_address",
]
