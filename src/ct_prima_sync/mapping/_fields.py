"""Unknown commercetools fields that may change money or fulfilment (UNRECOGNISED_FIELD).

commercetools adds fields as its API grows. The models keep unknown keys in ``extra``; this check
flags those on money-bearing shapes whose name suggests they change an amount or what ships from
where. A field reviewed and found harmless is listed in ``ignore_fields`` (by key name).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from ..commercetools._models.order import Order
from ._config import MappingConfig
from ._context import OrderContext
from ._issues import IssueCode

__all__ = ["check_unknown_fields"]

_RELEVANT: Final = re.compile(
    r"price|amount|discount|tax|money|quantity|shipping|channel|rounding|total|fee|charge|gift",
    re.IGNORECASE,
)

# Fields known not to change the figures the mapping reads: commercetools' amounts already reflect
# them (taxRoundingTarget, discountTypeCombination) or they describe something that was not sold.
_HARMLESS: Final = frozenset(
    {
        "refusedGifts",
        "taxRoundingTarget",
        "discountTypeCombination",
        "shippingCustomFields",
        "totalLineItemQuantity",  # the sum of the line quantities, which are read themselves
    }
)


def _shapes(order: Order) -> Iterator[tuple[str, Mapping[str, Any]]]:
    yield "", order.extra
    if order.taxed_price is not None:
        yield "taxedPrice", order.taxed_price.extra
    if order.discount_on_total_price is not None:
        yield "discountOnTotalPrice", order.discount_on_total_price.extra
    for index, line in enumerate(order.line_items):
        path = f"lineItems[{index}]"
        yield path, line.extra
        yield f"{path}.price", line.price.extra
        if line.tax_rate is not None:
            yield f"{path}.taxRate", line.tax_rate.extra
        if line.taxed_price is not None:
            yield f"{path}.taxedPrice", line.taxed_price.extra
        for n, part in enumerate(line.discounted_price_per_quantity):
            yield f"{path}.discountedPricePerQuantity[{n}]", part.extra
    for index, custom in enumerate(order.custom_line_items):
        path = f"customLineItems[{index}]"
        yield path, custom.extra
        if custom.tax_rate is not None:
            yield f"{path}.taxRate", custom.tax_rate.extra
    infos = [("shippingInfo", order.shipping_info)] if order.shipping_info else []
    infos += [
        (f"shipping[{n}].shippingInfo", s.shipping_info) for n, s in enumerate(order.shipping)
    ]
    for path, info in infos:
        yield path, info.extra
        if info.tax_rate is not None:
            yield f"{path}.taxRate", info.tax_rate.extra


def check_unknown_fields(ctx: OrderContext, order: Order, config: MappingConfig) -> None:
    """Report unknown fields that may change money or fulfilment."""
    for path, extra in _shapes(order):
        for key in extra:
            if key in _HARMLESS or key in config.ignore_fields or not _RELEVANT.search(key):
                continue
            ctx.report(
                IssueCode.UNRECOGNISED_FIELD,
                f"field {key!r} is new to this library and may change amounts or fulfilment: "
                "check it, then list it in ignore_fields if it does not",
                f"{path}.{key}" if path else key,
            )
