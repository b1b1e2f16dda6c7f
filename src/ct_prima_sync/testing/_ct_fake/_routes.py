"""Project-scoped endpoints: ``/{projectKey}/{resource}[/{id | key=.. | order-number=..}]``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from attrs import frozen

from ct_prima_sync.errors import NotFoundError, ValidationError

from ._carts import create_cart, order_from_cart, update_cart
from ._complete import complete_order
from ._extensions import create_extension, update_extension
from ._faults import CommercetoolsFaultScript
from ._graphql import answer_graphql
from ._inventory import apply_inventory_action, entry_draft, reserve_for_order
from ._orders import apply_order_action, invalid_input
from ._query import run_query
from ._store import SELF, MessageDraft, Project, Store, conflict

__all__ = ["Call", "complete_order", "import_order", "insert_customer", "route"]

Resource = dict[str, Any]


@frozen(kw_only=True)
class Call:
    """One API request as the routes see it."""

    method: str
    path: str
    params: Mapping[str, Sequence[str]]
    body: bytes

    def json(self) -> Any:
        """The request body as JSON, or the API's 400 when it is not JSON."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise invalid_input("Request body does not contain valid JSON.") from None


def order_from_import(store: Store, project: Project, draft: Any) -> Resource:
    """Build an Order from an OrderImportDraft (ids for line items, typed money, Open state)."""
    if not isinstance(draft, dict) or not isinstance(draft.get("totalPrice"), dict):
        raise invalid_input("An order import draft needs a 'totalPrice'.")
    order = dict(draft)
    if isinstance(order.get("orderNumber"), str) and project.order_numbered(order["orderNumber"]):
        raise ValidationError(
            "An order with this orderNumber already exists.",
            status_code=400,
            codes=["DuplicateField"],
        )
    return complete_order(store, order)


def _customer_view(customer: Resource) -> Resource:
    # Customers can be queried by ``lowercaseEmail`` (addresses match in any letter case),
    # a field the representation does not carry.
    return {**customer, "lowercaseEmail": str(customer.get("email", "")).lower()}


_VIEWS: dict[str, Callable[[Resource], Resource]] = {"customers": _customer_view}


def _lookup(project: Project, kind: str, selector: str) -> Resource:
    for prefix, field in (("key=", "key"), ("order-number=", "orderNumber")):
        if selector.startswith(prefix):
            if kind != "orders" and field == "orderNumber":
                break
            return project.find(kind, field, unquote(selector[len(prefix) :]))
    return project.get(kind, selector)


def _update(  # noqa: PLR0917 (internal helper, called once)
    store: Store,
    project: Project,
    kind: str,
    resource: Resource,
    call: Call,
    faults: CommercetoolsFaultScript,
) -> Resource:
    body = call.json()
    if not isinstance(body, dict) or not isinstance(body.get("version"), int):
        raise invalid_input("An update needs 'version' (integer) and 'actions'.")
    actions = body.get("actions")
    if not isinstance(actions, list):
        raise invalid_input("An update needs 'actions' (a list).")
    return apply_update(store, project, kind, resource, body["version"], actions, faults, call)


def apply_update(  # noqa: PLR0917 (the REST and the GraphQL update share it)
    store: Store,
    project: Project,
    kind: str,
    resource: Resource,
    version: int,
    actions: list[Any],
    faults: CommercetoolsFaultScript,
    call: Call,
) -> Resource:
    """Apply update ``actions`` (REST JSON) to version ``version`` of ``resource``: all of them or,
    on the API's error (a 409 for a stale version, a 400 for an invalid action), none."""
    if faults.take(call.method, call.path, ("conflict",)) is not None:
        raise conflict(resource["version"])
    if kind == "carts":
        return update_cart(store, project, resource, version, actions)

    def change(updated: Resource) -> list[MessageDraft]:
        messages: list[MessageDraft] = []
        for action in actions:
            if kind == "orders":
                messages += apply_order_action(updated, action, store, project)
            elif kind == "inventory":
                messages += apply_inventory_action(updated, action)
            elif kind == "extensions" and isinstance(action, dict):
                update_extension(updated, action)
            else:
                raise invalid_input(f"The fake accepts no update actions on {kind}.")
        return messages

    return store.update(project, kind, resource, version, change)


def _create(store: Store, project: Project, kind: str, call: Call) -> tuple[int, Any]:
    draft = call.json()
    if not isinstance(draft, dict):
        raise invalid_input("The request body must be a JSON object.")
    if kind == "inventory":
        entry = entry_draft(project, draft)
        return 201, store.insert(
            project, "inventory", entry, [("InventoryEntryCreated", {"inventoryEntry": SELF})]
        )
    if kind == "channels":
        if not isinstance(draft.get("key"), str):
            raise invalid_input("A channel draft needs a 'key'.")
        if any(c.get("key") == draft["key"] for c in project.all("channels")):
            raise ValidationError(
                "A channel with this key already exists.", status_code=400, codes=["DuplicateField"]
            )
        return 201, store.insert(project, "channels", {"roles": [], **draft})
    if kind == "customers":
        return 201, {"customer": insert_customer(store, project, draft)}
    if kind == "orders":
        return 201, order_from_cart(store, project, draft)
    if kind == "carts":
        return 201, create_cart(store, project, draft)
    if kind == "extensions":
        return 201, create_extension(store, project, draft)
    raise NotFoundError(
        "Resources of this kind cannot be created.", status_code=404, codes=["ResourceNotFound"]
    )


def _created(store: Store, project: Project, kind: str, call: Call) -> tuple[int, Any]:
    status, payload = _create(store, project, kind, call)
    return status, store.encoded(project, kind, payload)


def insert_customer(
    store: Store, project: Project, draft: dict[str, Any], *, seeded: bool = False
) -> Resource:
    """Store a customer from a CustomerDraft; e-mail addresses are unique (case-insensitively)."""
    email = draft.get("email")
    if not isinstance(email, str):
        raise invalid_input("A customer draft needs an 'email'.")
    if any(str(c.get("email", "")).lower() == email.lower() for c in project.all("customers")):
        raise ValidationError(
            "There is already an existing customer with the provided email.",
            status_code=400,
            codes=["DuplicateField"],
        )
    body = {k: v for k, v in draft.items() if k != "password"}
    body.setdefault("addresses", [])
    body.setdefault("isEmailVerified", False)
    return store.insert(
        project, "customers", body, [("CustomerCreated", {"customer": SELF})], visible_now=seeded
    )


def import_order(store: Store, project: Project, draft: Any) -> Resource:
    """Import an order: reserve tracked stock, store it, record ``OrderImported``."""
    order = order_from_import(store, project, draft)
    reserve_for_order(store, project, order)
    return store.insert(project, "orders", order, [("OrderImported", {"order": SELF})])


def _delete(store: Store, project: Project, kind: str, selector: str, call: Call) -> Resource:
    if kind != "inventory":
        raise invalid_input(f"The fake deletes no {kind}.")
    resource = _lookup(project, kind, selector)
    versions = call.params.get("version") or []
    if not versions or not versions[-1].isdigit():
        raise invalid_input("A delete needs the 'version' query parameter.")
    if int(versions[-1]) != resource["version"]:
        raise conflict(resource["version"])
    return store.delete(project, kind, resource["id"])


def route(
    store: Store, project: Project, parts: list[str], call: Call, faults: CommercetoolsFaultScript
) -> tuple[int, Any]:
    """Answer one project-scoped request: (status, JSON body)."""
    if parts == ["graphql"] and call.method == "POST":
        return answer_graphql(
            call.json(),
            find=lambda field, value: (
                project.get("orders", value)
                if field == "id"
                else project.find("orders", "orderNumber", value)
            ),
            update=lambda order, version, actions: apply_update(
                store, project, "orders", order, version, actions, faults, call
            ),
        )
    kinds: dict[str, str] = {
        "orders": "orders",
        "customers": "customers",
        "channels": "channels",
        "inventory": "inventory",
        "messages": "messages",
        "payments": "payments",
        "carts": "carts",
        "extensions": "extensions",
    }
    if not parts or parts[0] not in kinds or len(parts) > 2:
        raise NotFoundError(
            "The resource path does not exist.", status_code=404, codes=["ResourceNotFound"]
        )
    kind = kinds[parts[0]]
    selector = parts[1] if len(parts) == 2 else ""
    handlers: dict[tuple[bool, str], Callable[[], tuple[int, Any]]] = {
        (False, "GET"): lambda: (
            200,
            store.page_text(
                project,
                kind,
                run_query(
                    lambda: store.queryable(project, kind),
                    call.params,
                    _VIEWS.get(kind),
                    None
                    if kind in _VIEWS
                    else (lambda fields: store.sorted_index(project, kind, fields)),
                    lambda ids: store.queryable_with_ids(project, kind, ids),
                ),
            ),
        ),
        (False, "POST"): lambda: _created(store, project, kind, call),
        (True, "GET"): lambda: (
            200,
            store.encoded(project, kind, _lookup(project, kind, selector)),
        ),
        (True, "POST"): lambda: (
            200,
            store.encoded(
                project,
                kind,
                _update(store, project, kind, _lookup(project, kind, selector), call, faults),
            ),
        ),
        (True, "DELETE"): lambda: (200, _delete(store, project, kind, selector, call)),
    }
    if kind == "orders" and selector == "import" and call.method == "POST":
        return 201, store.encoded(project, kind, import_order(store, project, call.json()))
    if kind in ("messages", "payments") and call.method != "GET":
        # Payments belong to the payment service provider's integration: the fake serves them
        # read-only (seed them with FakeCommercetools.add_payment).
        raise NotFoundError(
            f"{kind.title()} are read-only here.", status_code=404, codes=["ResourceNotFound"]
        )
    handler = handlers.get((bool(selector), call.method))
    if handler is None:
        raise invalid_input(f"Method {call.method} is not supported here.")
    return handler()
