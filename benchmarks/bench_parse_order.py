"""parse_order against the ``commercetools`` SDK's ``Order.deserialize``, and memory over a stream.

Two order shapes, each with 10 line items: ``ct_prima_sync.testing.factories.random_order``
(split-quantity discounts, mixed tax rates, custom lines, single or multiple shipping, a total
discount; self-consistent figures), and :func:`build_order` below, the fuller shape a real API
response has (variants with prices, images and attributes, product discounts, tax sub-rates,
deliveries with parcels, custom fields, sync and payment info).

Environment: ``BENCH_PARSE_N`` (orders per timing run, default 1000; the SDK gets a tenth, it
is that much slower; rates are per CPU-second of this process, so a busy machine does not skew
the ratio) and ``BENCH_PARSE_STREAM`` (streamed orders, default 100000; the stream
runs under tracemalloc, which slows it several times: expect minutes).
"""

from __future__ import annotations

import json
import os
import random
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

from ct_prima_sync.commercetools import parse_order
from ct_prima_sync.testing.factories import random_order

_TS = "2026-03-14T09:26:53.589Z"


def _money(cents: int, currency: str = "EUR", digits: int = 2) -> dict[str, Any]:
    return {
        "type": "centPrecision",
        "currencyCode": currency,
        "centAmount": cents,
        "fractionDigits": digits,
    }


def _ref(type_id: str, rnd: random.Random) -> dict[str, Any]:
    return {"typeId": type_id, "id": f"{rnd.getrandbits(128):032x}"}


def _tax_rate(rnd: random.Random) -> dict[str, Any]:
    return {
        "id": "tr-de-std",
        "name": "DE standard",
        "amount": 0.19,
        "includedInPrice": True,
        "country": "DE",
        "subRates": [{"name": "federal", "amount": 0.15}, {"name": "state", "amount": 0.04}],
    }


def _taxed(gross: int) -> dict[str, Any]:
    net = gross * 100 // 119
    return {
        "totalNet": _money(net),
        "totalGross": _money(gross),
        "totalTax": _money(gross - net),
        "taxPortions": [{"name": "DE standard", "rate": 0.19, "amount": _money(gross - net)}],
    }


def _address(key: str) -> dict[str, Any]:
    return {
        "key": key,
        "firstName": "Erika",
        "lastName": "Mustermann",
        "streetName": "Heidestrasse",
        "streetNumber": "17",
        "postalCode": "51147",
        "city": "Koeln",
        "country": "DE",
        "email": "erika@example.com",
        "phone": "+49 221 1234567",
    }


def _line_item(index: int, rnd: random.Random) -> dict[str, Any]:
    unit = rnd.randint(500, 20000)
    quantity = rnd.randint(1, 5)
    discounted = unit - unit // 10
    cart_discount = _ref("cart-discount", rnd)
    return {
        "id": f"li-{index}-{rnd.getrandbits(64):016x}",
        "productId": f"{rnd.getrandbits(128):032x}",
        "productKey": f"product-{index}",
        "name": {"en": f"Product {index}", "de": f"Produkt {index}"},
        "productType": {**_ref("product-type", rnd), "version": 3},
        "productSlug": {"en": f"product-{index}", "de": f"produkt-{index}"},
        "variant": {
            "id": 1,
            "sku": f"SKU-{index:05d}",
            "key": f"variant-{index}",
            "prices": [{"id": "p1", "value": _money(unit)}],
            "images": [{"url": "https://example.com/a.jpg", "dimensions": {"w": 800, "h": 600}}],
            "attributes": [
                {"name": "colour", "value": {"key": "red", "label": {"en": "Red"}}},
                {"name": "size", "value": "M"},
                {"name": "weight-g", "value": 250},
            ],
            "assets": [],
        },
        "price": {
            "id": f"price-{index}",
            "value": _money(unit),
            "discounted": {
                "value": _money(unit - unit // 20),
                "discount": _ref("product-discount", rnd),
            },
        },
        "quantity": quantity,
        "discountedPricePerQuantity": [
            {
                "quantity": quantity,
                "discountedPrice": {
                    "value": _money(discounted),
                    "includedDiscounts": [
                        {"discount": cart_discount, "discountedAmount": _money(unit // 20)},
                        {
                            "discount": _ref("cart-discount", rnd),
                            "discountedAmount": _money(unit // 10 - unit // 20),
                        },
                    ],
                },
            }
        ],
        "taxRate": _tax_rate(rnd),
        "perMethodTaxRate": [],
        "addedAt": _TS,
        "lastModifiedAt": _TS,
        "state": [{"quantity": quantity, "state": _ref("state", rnd)}],
        "priceMode": "Platform",
        "lineItemMode": "Standard",
        "inventoryMode": "ReserveOnOrder",
        "supplyChannel": _ref("channel", rnd),
        "distributionChannel": _ref("channel", rnd),
        "totalPrice": _money(discounted * quantity),
        "taxedPrice": _taxed(discounted * quantity),
        "taxedPricePortions": [],
    }


def build_order(seed: int) -> dict[str, Any]:
    """A realistic commercetools Order JSON (10 line items, discounts, taxes, shipping)."""
    rnd = random.Random(seed)
    items = [_line_item(index, rnd) for index in range(10)]
    fee = 495
    items_total = sum(item["totalPrice"]["centAmount"] for item in items)
    shipping_price = 595
    shipping_discounted = 0
    total = items_total + fee + shipping_discounted
    return {
        "type": "Order",
        "id": f"{rnd.getrandbits(128):032x}",
        "version": 7,
        "versionModifiedAt": _TS,
        "lastMessageSequenceNumber": 4,
        "createdAt": _TS,
        "lastModifiedAt": _TS,
        "lastModifiedBy": {"clientId": "abc", "isPlatformClient": False},
        "createdBy": {"clientId": "abc", "isPlatformClient": False},
        "completedAt": _TS,
        "orderNumber": f"WEB-{seed:08d}",
        "customerId": f"{rnd.getrandbits(128):032x}",
        "customerEmail": "erika@example.com",
        "customerGroup": _ref("customer-group", rnd),
        "store": {"typeId": "store", "key": "de-online"},
        "locale": "de-DE",
        "country": "DE",
        "totalPrice": _money(total),
        "taxedPrice": _taxed(total),
        "taxedShippingPrice": _taxed(shipping_discounted),
        "discountOnTotalPrice": {
            "discountedAmount": _money(1000),
            "includedDiscounts": [
                {"discount": _ref("cart-discount", rnd), "discountedAmount": _money(1000)}
            ],
            "discountedNetAmount": _money(840),
            "discountedGrossAmount": _money(1000),
        },
        "taxMode": "Platform",
        "taxRoundingMode": "HalfEven",
        "priceRoundingMode": "HalfEven",
        "taxCalculationMode": "LineItemLevel",
        "inventoryMode": "ReserveOnOrder",
        "orderState": "Confirmed",
        "shipmentState": "Pending",
        "paymentState": "Paid",
        "state": _ref("state", rnd),
        "origin": "Customer",
        "shippingMode": "Single",
        "shipping": [],
        "billingAddress": _address("billing"),
        "shippingAddress": _address("shipping"),
        "itemShippingAddresses": [],
        "lineItems": items,
        "customLineItems": [
            {
                "id": f"cli-{rnd.getrandbits(64):016x}",
                "key": "gift-wrap",
                "name": {"en": "Gift wrapping", "de": "Geschenkverpackung"},
                "money": _money(fee),
                "slug": "gift-wrap",
                "quantity": 1,
                "totalPrice": _money(fee),
                "discountedPricePerQuantity": [],
                "taxCategory": _ref("tax-category", rnd),
                "taxRate": _tax_rate(rnd),
                "taxedPrice": _taxed(fee),
                "taxedPricePortions": [],
                "perMethodTaxRate": [],
                "state": [{"quantity": 1, "state": _ref("state", rnd)}],
                "priceMode": "Standard",
            }
        ],
        "shippingInfo": {
            "shippingMethodName": "DHL Paket",
            "price": _money(shipping_price),
            "shippingRate": {
                "price": _money(shipping_price),
                "freeAbove": _money(5000),
                "tiers": [],
            },
            "taxRate": _tax_rate(rnd),
            "taxCategory": _ref("tax-category", rnd),
            "taxedPrice": _taxed(shipping_discounted),
            "discountedPrice": {
                "value": _money(shipping_discounted),
                "includedDiscounts": [
                    {
                        "discount": _ref("cart-discount", rnd),
                        "discountedAmount": _money(shipping_price),
                    }
                ],
            },
            "shippingMethod": _ref("shipping-method", rnd),
            "deliveries": [
                {
                    "id": f"del-{rnd.getrandbits(64):016x}",
                    "createdAt": _TS,
                    "items": [{"id": items[0]["id"], "quantity": items[0]["quantity"]}],
                    "parcels": [
                        {
                            "id": "parcel-1",
                            "createdAt": _TS,
                            "measurements": {"weightInGram": 1200},
                            "trackingData": {"trackingId": "00340434", "carrier": "DHL"},
                        }
                    ],
                }
            ],
            "shippingMethodState": "MatchesCart",
        },
        "syncInfo": [{"channel": _ref("channel", rnd), "externalId": "SO-1", "syncedAt": _TS}],
        "returnInfo": [],
        "discountCodes": [],
        "directDiscounts": [],
        "refusedGifts": [],
        "paymentInfo": {"payments": [_ref("payment", rnd)]},
        "custom": {
            "type": _ref("type", rnd),
            "fields": {"giftMessage": "Happy birthday", "erpCustomerNo": "C-42"},
        },
        "cart": _ref("cart", rnd),
    }


def _seconds(parse: Callable[[dict[str, Any]], object], orders: list[dict[str, Any]]) -> float:
    # CPU time of this process, not wall time: other processes share the machine, and they would
    # otherwise decide the ratio.
    start = time.process_time()
    for order in orders:
        parse(order)
    return time.process_time() - start


def _compare(label: str, orders: list[dict[str, Any]], sdk_parse: Callable[..., object]) -> None:
    sdk_orders = orders[: max(len(orders) // 10, 10)]
    for order in orders[:3]:  # both parsers accept the payload before they are timed
        parse_order(order)
        sdk_parse(order)
    ours = theirs = float("inf")
    for _ in range(3):  # interleaved rounds, best of three for each
        ours = min(ours, _seconds(parse_order, orders))
        theirs = min(theirs, _seconds(sdk_parse, sdk_orders))
    ours_rate, theirs_rate = len(orders) / ours, len(sdk_orders) / theirs
    print(f"{label}:")
    print(f"  parse_order                     {ours_rate:8.0f} orders/CPU-s")
    print(f"  commercetools Order.deserialize {theirs_rate:8.0f} orders/CPU-s")
    print(f"  ratio                           {ours_rate / theirs_rate:8.1f}x (goal: at least 20x)")


def _stream(order: dict[str, Any], count: int) -> Iterator[dict[str, Any]]:
    # One order rendered as JSON text; each streamed order is a fresh decode with its own id,
    # so nothing is shared between orders and nothing is held after it is parsed.
    head, _, tail = json.dumps(order).replace(order["id"], "{order_id}", 1).partition("{order_id}")
    for index in range(count):
        yield json.loads(f"{head}{index:032x}{tail}")


def main() -> None:
    """Print orders/second for both parsers, their ratio, and peak memory over a stream."""
    from commercetools.platform.models import Order as SdkOrder

    n = int(os.environ.get("BENCH_PARSE_N", "1000"))
    streamed = int(os.environ.get("BENCH_PARSE_STREAM", "100000"))
    _compare(
        "factory orders (random_order, 10 lines)",
        [random_order(seed, line_count=10) for seed in range(n)],
        SdkOrder.deserialize,
    )
    _compare(
        "full API-shaped orders (variants with prices, deliveries, custom fields)",
        [build_order(seed) for seed in range(n)],
        SdkOrder.deserialize,
    )

    tracemalloc.start()
    checkpoints = {10_000, streamed}
    start = time.perf_counter()
    for index, order in enumerate(_stream(random_order(0, line_count=10), streamed), start=1):
        parse_order(order)
        if index in checkpoints:
            _, peak = tracemalloc.get_traced_memory()
            elapsed = time.perf_counter() - start
            print(
                f"streamed {index:>7} orders: peak traced memory {peak / 1024:6.0f} KiB"
                f" ({elapsed:.0f} s under tracemalloc)"
            )
    tracemalloc.stop()


if __name__ == "__main__":
    main()
