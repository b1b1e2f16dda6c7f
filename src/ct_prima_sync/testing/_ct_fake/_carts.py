"""Carts in the fake: create, add and change line items, set the shipping address and a custom
shipping method, and place an order from a cart, with prices from the fake's catalogue.

Prices are gross (tax included) and taxed once the cart has a shipping address, as commercetools
does in the ``Platform`` tax mode: each line at its product's rate, shipping at the catalogue's
shipping rate (``SHIPPING_TAX_RATE``), every figure rounded half-even; ``taxedPrice`` appears
when everything is taxed. An order can only be placed from a taxed cart. Registered extensions
are called on every create and update of a cart and on the order's creation, before anything is
kept (``_extensions``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Final

import httpx

from ct_prima_sync.money import RoundingMode, default_fraction_digits

from .._order_parts import Ctx, Taxed, order_taxed_json, tax_name
from ._complete import complete_order
from ._extensions import call_extensions
from ._inventory import reserve_for_order
from ._orders import invalid_input, invalid_operation, resolve_channel
from ._store import SELF, MessageDraft, Project, Store, conflict

__all__ = ["SHIPPING_TAX_RATE", "create_cart", "order_from_cart", "update_cart"]

Resource = dict[str, Any]

#: The rate custom shipping methods are taxed at.
SHIPPING_TAX_RATE: Final = "0.19"


def _client(store: Store) -> httpx.Client:
    if store.extension_client is None:
        store.extension_client = httpx.Client()
    return store.extension_client


def _ctx(currency: str) -> Ctx:
    return Ctx(
        currency=currency,
        digits=default_fraction_digits(currency),
        included=True,
        tax_rounding=RoundingMode.HALF_EVEN,
        price_rounding=RoundingMode.HALF_EVEN,
        unit_level=False,
        rng=random.Random(0),
    )


def _line(store: Store, project: Project, ctx: Ctx, draft: Any) -> Resource:
    if not isinstance(draft, dict) or not isinstance(draft.get("sku"), str):
        raise invalid_input("A line item draft needs a 'sku'.")
    sku = draft["sku"]
    product = project.catalogue.get(sku)
    if product is None:
        raise invalid_input(f"No product has a variant with SKU '{sku}'.")
    price, currency, _rate = product
    if currency != ctx.currency:
        raise invalid_input(f"SKU '{sku}' has no price in {ctx.currency}.")
    quantity = draft.get("quantity", 1)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise invalid_input("A line item's quantity is a positive whole number.")
    line: Resource = {
        "id": store.new_id(),
        "productId": f"product-{sku}",
        "name": {"en": sku},
        "variant": {"id": 1, "sku": sku, "attributes": []},
        "price": {"id": f"price-{sku}", "value": ctx.money(price)},
        "quantity": quantity,
        "discountedPricePerQuantity": [],
        "totalPrice": ctx.money(price * quantity),
        "taxedPricePortions": [],
        "perMethodTaxRate": [],
        "state": [],
        "priceMode": "Platform",
        "lineItemMode": "Standard",
    }
    if draft.get("supplyChannel") is not None:
        line["supplyChannel"] = resolve_channel(project, draft["supplyChannel"])
    return line


def _retax(project: Project, cart: Resource) -> None:
    """Totals, and taxes once the cart has a shipping address."""
    ctx = _ctx(cart["totalPrice"]["currencyCode"])
    country = (cart.get("shippingAddress") or {}).get("country")
    taxed: list[Taxed] = []
    total = 0
    for line in cart["lineItems"]:
        line_total = line["price"]["value"]["centAmount"] * line["quantity"]
        line["totalPrice"] = ctx.money(line_total)
        total += line_total
        rate = project.catalogue[line["variant"]["sku"]][2]
        _tax_item(ctx, line, line_total, rate, country, taxed)
    info = cart.get("shippingInfo")
    if info is not None:
        price = info["price"]["centAmount"]
        total += price
        _tax_item(ctx, info, price, SHIPPING_TAX_RATE, country, taxed)
    cart["totalPrice"] = ctx.money(total)
    if country is None:
        cart.pop("taxedPrice", None)
    else:
        cart["taxedPrice"] = order_taxed_json(ctx, taxed)


def _tax_item(  # noqa: PLR0917 (internal helper)
    ctx: Ctx, item: Resource, amount: int, rate: str, country: str | None, taxed: list[Taxed]
) -> None:
    if country is None:
        item.pop("taxRate", None)
        item.pop("taxedPrice", None)
        return
    figures = ctx.tax([(1, amount)], rate, tax_name(rate))
    item["taxRate"] = {**ctx.tax_rate_json(rate, tax_name(rate)), "country": country}
    item["taxedPrice"] = ctx.taxed_json(figures)
    taxed.append(figures)


def create_cart(store: Store, project: Project, draft: Resource) -> Resource:
    """Create a cart from a CartDraft (``currency``, ``lineItems``, ``shippingAddress``,
    ``customerEmail``, ``inventoryMode``, ``key``), calling the extensions first."""
    currency = draft.get("currency")
    if not isinstance(currency, str):
        raise invalid_input("A cart draft needs a 'currency'.")
    try:
        ctx = _ctx(currency)
    except ValueError:
        raise invalid_input(f"'{currency}' is not a currency code.") from None
    now = store.now()
    cart: Resource = {
        "id": store.new_id(),
        "version": 1,
        "createdAt": now,
        "lastModifiedAt": now,
        "cartState": "Active",
        "totalPrice": ctx.money(0),
        "lineItems": [_line(store, project, ctx, d) for d in draft.get("lineItems") or []],
        "customLineItems": [],
        "taxMode": "Platform",
        "taxRoundingMode": "HalfEven",
        "taxCalculationMode": "LineItemLevel",
        "inventoryMode": draft.get("inventoryMode", "None"),
        "shippingMode": "Single",
        "shipping": [],
        "origin": "Customer",
        "discountCodes": [],
        "directDiscounts": [],
        "refusedGifts": [],
    }
    for name in ("key", "customerEmail", "shippingAddress", "country", "store"):
        if draft.get(name) is not None:
            cart[name] = draft[name]
    _retax(project, cart)
    call_extensions(project, _client(store), "cart", "Create", cart)
    return store.insert(project, "carts", cart)


def _add_line(store: Store, project: Project, cart: Resource, action: Resource) -> None:
    ctx = _ctx(cart["totalPrice"]["currencyCode"])
    line = _line(store, project, ctx, action)
    for existing in cart["lineItems"]:
        same = existing["variant"]["sku"] == line["variant"]["sku"]
        if same and existing.get("supplyChannel") == line.get("supplyChannel"):
            existing["quantity"] += line["quantity"]
            return
    cart["lineItems"] = [*cart["lineItems"], line]


def _find_line(cart: Resource, action: Resource) -> Resource:
    for line in cart["lineItems"]:
        if line["id"] == action.get("lineItemId"):
            found: Resource = line
            return found
    raise invalid_input("The cart has no line item with this 'lineItemId'.")


def _change_quantity(cart: Resource, action: Resource) -> None:
    quantity = action.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
        raise invalid_input("'quantity' is a whole number, zero or more.")
    line = _find_line(cart, action)
    if quantity == 0:
        cart["lineItems"] = [li for li in cart["lineItems"] if li is not line]
    else:
        line["quantity"] = quantity


def _set_shipping_method(cart: Resource, action: Resource) -> None:
    name = action.get("shippingMethodName")
    rate = action.get("shippingRate")
    price = rate.get("price") if isinstance(rate, dict) else None
    if not isinstance(name, str) or not isinstance(price, dict):
        raise invalid_input(
            "setCustomShippingMethod needs 'shippingMethodName' and 'shippingRate'."
        )
    ctx = _ctx(cart["totalPrice"]["currencyCode"])
    if price.get("currencyCode") != ctx.currency or not isinstance(price.get("centAmount"), int):
        raise invalid_input("The shipping rate's price must be in the cart's currency.")
    money = ctx.money(price["centAmount"])
    cart["shippingInfo"] = {
        "shippingMethodName": name,
        "price": money,
        "shippingRate": {"price": money, "tiers": []},
        "shippingMethodState": "MatchesCart",
        "deliveries": [],
    }


def _apply(store: Store, project: Project, cart: Resource, action: Any) -> None:
    if not isinstance(action, dict):
        raise invalid_input("An update action is an object with 'action'.")
    name = action.get("action")
    handlers: dict[str, Callable[[], None]] = {
        "addLineItem": lambda: _add_line(store, project, cart, action),
        "changeLineItemQuantity": lambda: _change_quantity(cart, action),
        "removeLineItem": lambda: _change_quantity(cart, {**action, "quantity": 0}),
        "setShippingAddress": lambda: cart.__setitem__("shippingAddress", action.get("address")),
        "setCustomShippingMethod": lambda: _set_shipping_method(cart, action),
        "setCustomerEmail": lambda: cart.__setitem__("customerEmail", action.get("email")),
    }
    handler = handlers.get(str(name))
    if handler is None:
        raise invalid_input(f"The fake does not know the cart update action {name!r}.")
    handler()


def update_cart(
    store: Store, project: Project, cart: Resource, version: int, actions: list[Any]
) -> Resource:
    """Apply update actions to a cart (at ``version``), calling the extensions first."""
    if cart.get("cartState") != "Active":
        raise invalid_operation("Only an active cart can be changed.")

    def change(updated: Resource) -> list[MessageDraft]:
        for action in actions:
            _apply(store, project, updated, action)
        _retax(project, updated)
        call_extensions(project, _client(store), "cart", "Update", dict(updated))
        return []

    return store.update(project, "carts", cart, version, change)


def order_from_cart(store: Store, project: Project, draft: Any) -> Resource:
    """Place an order from a taxed, active cart (an OrderFromCartDraft: ``cart`` or ``id``,
    ``version``, ``orderNumber``), calling the extensions first; the cart becomes Ordered."""
    if not isinstance(draft, dict):
        raise invalid_input("The request body must be a JSON object.")
    reference = draft.get("cart")
    cart_id = reference.get("id") if isinstance(reference, dict) else draft.get("id")
    if not isinstance(cart_id, str) or not isinstance(draft.get("version"), int):
        raise invalid_input("An order from a cart needs the cart's 'id' and 'version'.")
    cart = project.get("carts", cart_id)
    if draft["version"] != cart["version"]:
        raise conflict(cart["version"])
    if cart.get("cartState") != "Active":
        raise invalid_operation("The cart was already ordered.")
    if "taxedPrice" not in cart:
        raise invalid_operation("The cart has no taxes yet: set its shipping address.")
    if not cart["lineItems"]:
        raise invalid_operation("An order needs at least one line item.")
    now = store.now()
    order = complete_order(
        store,
        {
            **{k: v for k, v in cart.items() if k not in ("cartState", "version", "key")},
            "id": store.new_id(),
            "version": 1,
            "createdAt": now,
            "lastModifiedAt": now,
            "cart": {"typeId": "cart", "id": cart_id},
            **({"orderNumber": draft["orderNumber"]} if draft.get("orderNumber") else {}),
        },
    )
    call_extensions(project, _client(store), "order", "Create", order)
    reserve_for_order(store, project, order)
    created = store.insert(project, "orders", order, [("OrderCreated", {"order": SELF})])

    def ordered(updated: Resource) -> list[MessageDraft]:
        updated["cartState"] = "Ordered"
        return []

    store.update(project, "carts", cart, cart["version"], ordered)
    return created
