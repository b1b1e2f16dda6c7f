"""A rich commercetools order (every shape the mapping reads) and a configuration that maps it,
shared by the mutation and bounds tests."""

from __future__ import annotations

from typing import Any

from ct_prima_sync.mapping import MappingConfig
from ct_prima_sync.testing.factories import (
    CustomLineSpec,
    LineSpec,
    ShippingSpec,
    UnitDiscount,
    make_order,
)

CONFIG = MappingConfig.from_dict(
    {
        "sku": {"rules": [{"pattern": r"(?P<product>SKU)-(?P<n>\d+)", "matrix": ["n"]}]},
        "depots": {"default": "WH1", "supply_channels": {"channel-berlin": "WH1"}},
        "taxes": {
            "codes": [
                {"code": "S", "rate": "0.19"},
                {"code": "R", "rate": "0.07"},
                {"code": "Z", "rate": "0.0"},
            ]
        },
        "shipping": {"default": "CARRIAGE", "methods": {"Express": "EXPRESS"}},
        "custom_lines": {"gift-wrap": {"charge": "GW"}, "insurance": {"product": "INS"}},
    }
)


def rich_order(**changes: Any) -> dict[str, Any]:
    """Lines with split-quantity cart and direct discounts, a high-precision price, a gift, custom
    lines as a product and as a charge, multiple shipping with a shipping discount, a discount on
    the total price, three tax rates, a discount code, a direct discount and payment info."""
    order = make_order(
        lines=[
            LineSpec(
                sku="SKU-1",
                quantity=3,
                unit_price=1999,
                discounts=(UnitDiscount(quantity=2, amount=300, discount_id="direct-1"),),
                supply_channel="channel-berlin",
            ),
            LineSpec(sku="SKU-2", quantity=2, unit_price=12_345, precise_digits=4, tax_rate="0.07"),
            LineSpec(sku="SKU-3", quantity=1, unit_price=0, gift=True, tax_rate="0.0"),
            LineSpec(
                sku="SKU-4",
                quantity=5,
                unit_price=777,
                tax_rate="0.07",
                discounts=(UnitDiscount(quantity=5, amount=77, discount_id="cart-discount-9"),),
            ),
        ],
        custom_lines=[
            CustomLineSpec(slug="gift-wrap", quantity=1, unit_price=350),
            CustomLineSpec(slug="insurance", quantity=1, unit_price=199, tax_rate="0.07"),
        ],
        shipping=[
            ShippingSpec(key="home", name="Express", price=990, discount=200),
            ShippingSpec(key="office", name="Standard", price=490, tax_rate="0.07"),
        ],
        total_discount=500,
        total_discount_id="direct-total",
        payment_method="card",
        store_key="de-store",
        customer_id="customer-1",
        **changes,
    )
    order["discountCodes"] = [
        {"discountCode": {"typeId": "discount-code", "id": "code-1"}, "state": "MatchesCart"}
    ]
    order["purchaseOrderNumber"] = "PO-77"
    return order
