"""``FakeCommercetools``: the public face of the fake (seeding, inspection, transport, server)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ct_prima_sync.errors import NotFoundError

from .._wsgi_server import serve_wsgi
from ._app import CommercetoolsApp, CommercetoolsRequestRecord
from ._faults import CommercetoolsFaultScript, FaultingTransport
from ._inventory import adjust_entry, entry_draft, find_entry, reserve_for_order
from ._orders import apply_order_action, resolve_channel
from ._routes import complete_order, import_order, insert_customer
from ._store import SELF, Project, Store, copy_json

__all__ = ["FakeCommercetools"]

#: The base URL of the in-process transport (API and auth share it).
IN_PROCESS_URL = "http://fake-commercetools.invalid"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class FakeCommercetools:
    """A stateful, in-memory commercetools project for tests, speaking the HTTP API.

    Mount it in-process with :meth:`transport`, or serve it on 127.0.0.1 with :meth:`serve`;
    the API and the auth endpoint share one base URL. Seed data with ``add_*``, read it back
    with the inspection methods, script faults through :attr:`faults`, and assert on
    :attr:`requests`. Carts take their prices from :meth:`add_product`; registered API
    Extensions are called on cart and order creates and updates through ``extension_client``
    (an ``httpx.Client``, e.g. Starlette's ``TestClient`` around an ASGI app; by default a plain
    one). ``clock`` and ``sleep`` are injectable so no test waits for real time;
    by default latency faults only record their delay in :attr:`slept`. ``seed`` makes
    resource ids repeatable.
    """

    def __init__(
        self,
        *,
        project_key: str = "test-project",
        other_projects: Sequence[str] = (),
        client_id: str = "fake-client-id",
        client_secret: str = "fake-client-secret",  # noqa: S107 (a fake's test credential)
        token_lifetime: timedelta = timedelta(hours=48),
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] | None = None,
        seed: int | None = None,
        query_lag: float = 0.0,
        reservation_lag: float = 0.0,
        extension_client: httpx.Client | None = None,
    ) -> None:
        if query_lag < 0 or reservation_lag < 0:
            raise ValueError("lags cannot be negative")
        self.project_key = project_key
        self.client_id = client_id
        self.client_secret = client_secret
        self.slept: list[float] = []
        self.faults = CommercetoolsFaultScript()
        self._store = Store(
            clock=clock,
            seed=seed,
            query_lag=timedelta(seconds=query_lag),
            reservation_lag=timedelta(seconds=reservation_lag),
        )
        self._store.extension_client = extension_client
        for key in (project_key, *other_projects):
            self._store.projects[key] = Project(key)
        self.app = CommercetoolsApp(
            store=self._store,
            faults=self.faults,
            sleep=sleep if sleep is not None else self.slept.append,
            client_id=client_id,
            client_secret=client_secret,
            token_lifetime=token_lifetime,
        )

    def __repr__(self) -> str:
        return f"FakeCommercetools(project_key={self.project_key!r})"

    # -- wiring -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API and auth base URL to use with :meth:`transport` (any host reaches the fake)."""
        return IN_PROCESS_URL

    @property
    def extension_client(self) -> httpx.Client | None:
        """How the fake calls registered API Extensions (``None``: a plain ``httpx.Client``)."""
        return self._store.extension_client

    @extension_client.setter
    def extension_client(self, client: httpx.Client | None) -> None:
        self._store.extension_client = client

    def transport(self) -> httpx.BaseTransport:
        """An httpx transport into the fake (with connection faults) for ``httpx.Client``."""
        inner = httpx.WSGITransport(app=self.app)
        return FaultingTransport(inner, self.faults)

    @contextmanager
    def serve(self, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve the fake over HTTP on ``host`` and ``port`` (0: a free one); yields the base
        URL.

        Connection faults need :meth:`transport`; every other fault works over HTTP.
        """
        with serve_wsgi(self.app, host, port, name="fake-commercetools") as url:
            yield url

    @property
    def requests(self) -> list[CommercetoolsRequestRecord]:
        """Every request received so far, oldest first (Authorization removed)."""
        with self.app.lock:
            return list(self.app.requests)

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self.app.lock:
            self.app.requests.clear()

    def expire_tokens(self) -> None:
        """Expire every issued access token: the next API call answers 401 ``invalid_token``."""
        self.app.expire_tokens()

    # -- seeding ----------------------------------------------------------------------------

    def _project(self, project: str | None) -> Project:
        self._store.settle()
        return self._store.project(project or self.project_key)

    def settle(self) -> None:
        """Land the background work that is due by the clock (requests and inspection methods do
        this themselves)."""
        with self.app.lock:
            self._store.settle()

    @property
    def unsettled_reservations(self) -> int:
        """Order reservations placed but not landed on their entries yet (``reservation_lag``)."""
        with self.app.lock:
            self._store.settle()
            return self._store.unsettled

    def add_channel(
        self,
        key: str,
        roles: Sequence[str] = ("InventorySupply",),
        *,
        project: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Create a channel with ``key`` and ``roles``; returns it."""
        with self.app.lock:
            body = {"key": key, "roles": list(roles), **fields}
            return copy_json(
                self._store.insert(self._project(project), "channels", body, visible_now=True)
            )

    def add_customer(self, draft: dict[str, Any], *, project: str | None = None) -> dict[str, Any]:
        """Create a customer from a CustomerDraft (e-mails are unique); returns it."""
        with self.app.lock:
            return copy_json(
                insert_customer(self._store, self._project(project), draft, seeded=True)
            )

    def add_inventory(
        self,
        sku: str,
        quantity_on_stock: int,
        *,
        supply_channel: str | None = None,
        project: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Create an inventory entry; ``supply_channel`` is a channel key. Returns it."""
        with self.app.lock:
            target = self._project(project)
            draft: dict[str, Any] = {"sku": sku, "quantityOnStock": quantity_on_stock, **fields}
            if supply_channel is not None:
                draft["supplyChannel"] = {"typeId": "channel", "key": supply_channel}
            entry = entry_draft(target, draft)
            created = self._store.insert(
                target,
                "inventory",
                entry,
                [("InventoryEntryCreated", {"inventoryEntry": SELF})],
                visible_now=True,
            )
            return copy_json(created)

    def add_order(self, order: dict[str, Any], *, project: str | None = None) -> dict[str, Any]:
        """Store a raw Order JSON as if placed now (``OrderCreated``); returns it.

        Fields are kept as given (``id`` too, when present) and ``version`` restarts at 1;
        what every order has is filled in when missing (line item ids, ``lineItems: []``,
        ``orderState: Open``, a typed ``totalPrice``). Line items with inventory mode
        ``TrackOnly`` or ``ReserveOnOrder`` reserve stock, as placing the order would.

        Raises ``ValueError`` for an ``id`` or ``orderNumber`` the project already has (as
        commercetools refuses a duplicate order number): use :meth:`update_order` to change an
        order, and give each order its own id (the factories do).
        """
        with self.app.lock:
            target = self._project(project)
            existing = target.resources["orders"]
            if order.get("id") in existing:
                raise ValueError(
                    f"the fake already has an order with id {order['id']!r}: add_order never "
                    "replaces one (update_order changes it)"
                )
            number = order.get("orderNumber")
            if number is not None and (
                target.order_numbered(number)
                if isinstance(number, str)
                else any(o.get("orderNumber") == number for o in existing.values())
            ):
                raise ValueError(f"the fake already has an order numbered {number!r}")
            completed = complete_order(self._store, order)
            reserve_for_order(self._store, target, completed)
            created = self._store.insert(
                target, "orders", completed, [("OrderCreated", {"order": SELF})]
            )
            return copy_json(created)

    def add_payment(
        self,
        payment: dict[str, Any],
        *,
        order_id: str | None = None,
        project: str | None = None,
    ) -> dict[str, Any]:
        """Store a Payment JSON as a payment service provider's integration would have created
        it (``id`` kept when given; transactions without an id get one) and, with ``order_id``,
        add it to that order as the ``addPayment`` update action does; returns the payment."""
        with self.app.lock:
            target = self._project(project)
            body = dict(payment)
            body["transactions"] = [
                {"id": self._store.new_id(), **transaction}
                for transaction in body.get("transactions") or []
            ]
            body.setdefault("paymentMethodInfo", {})
            body.setdefault("paymentStatus", {})
            body.setdefault("interfaceInteractions", [])
            created = self._store.insert(target, "payments", body)
            if order_id is not None:
                order = target.get("orders", order_id)
                reference = {"typeId": "payment", "id": created["id"]}
                action = {"action": "addPayment", "payment": reference}
                self._store.update(
                    target,
                    "orders",
                    order,
                    order["version"],
                    lambda draft: apply_order_action(draft, action, self._store, target),
                )
            return copy_json(created)

    def payments(self, *, project: str | None = None) -> list[dict[str, Any]]:
        """Every payment, oldest first (copies)."""
        return self._all("payments", project)

    def import_order(self, draft: dict[str, Any], *, project: str | None = None) -> dict[str, Any]:
        """Import an OrderImportDraft exactly as ``POST /orders/import`` does; returns the order."""
        with self.app.lock:
            return copy_json(import_order(self._store, self._project(project), draft))

    def update_order(
        self, order_id: str, actions: Sequence[dict[str, Any]], *, project: str | None = None
    ) -> dict[str, Any]:
        """Apply update actions (API JSON) to the current version of an order, as a merchant
        would in the Merchant Center; returns the updated order."""
        with self.app.lock:
            target = self._project(project)
            order = target.get("orders", order_id)

            def change(draft: dict[str, Any]) -> list[Any]:
                messages: list[Any] = []
                for action in actions:
                    messages += apply_order_action(draft, dict(action), self._store, target)
                return messages

            return copy_json(self._store.update(target, "orders", order, order["version"], change))

    def edit_order(
        self,
        order_id: str,
        edit: Callable[[dict[str, Any]], None],
        *,
        project: str | None = None,
    ) -> dict[str, Any]:
        """Change an order in place, as an applied order edit does (lines removed, quantities
        changed): ``edit`` gets the order JSON to change; the version moves on and an
        ``OrderEditApplied`` message is recorded. Returns the edited order."""
        with self.app.lock:
            target = self._project(project)
            order = target.get("orders", order_id)

            def change(draft: dict[str, Any]) -> list[Any]:
                edit(draft)
                return [("OrderEditApplied", {"orderId": order_id})]

            return copy_json(self._store.update(target, "orders", order, order["version"], change))

    def delete_order(self, order_id: str, *, project: str | None = None) -> None:
        """Delete an order (``OrderDeleted``); reads of it answer 404 from now on."""
        with self.app.lock:
            target = self._project(project)
            order = target.get("orders", order_id)
            del target.resources["orders"][order_id]
            target.changed("orders", order, None)
            self._store.forget_text(target, "orders", order_id)
            self._store.record(target, "orders", order, [("OrderDeleted", {"order": SELF})])

    # -- inventory background processes -------------------------------------------------------

    def _entry(
        self, sku: str, supply_channel: str | None, project: str | None
    ) -> tuple[Project, dict[str, Any]]:
        target = self._project(project)
        channel_id = None
        if supply_channel is not None:
            channel_id = resolve_channel(target, {"key": supply_channel})["id"]
        entry = find_entry(target, sku, channel_id)
        if entry is None:
            raise NotFoundError(
                f"No inventory entry for SKU {sku!r} in supply channel {supply_channel!r}.",
                status_code=404,
                codes=["ResourceNotFound"],
            )
        return target, entry

    def commit_reservation(
        self,
        sku: str,
        quantity: int,
        *,
        supply_channel: str | None = None,
        project: str | None = None,
    ) -> dict[str, Any]:
        """Commit ``quantity`` reserved units (shipped): ``quantityOnStock`` drops by it."""
        with self.app.lock:
            target, entry = self._entry(sku, supply_channel, project)
            return copy_json(adjust_entry(self._store, target, entry, on_stock=-quantity))

    def delete_inventory_entry(
        self, sku: str, *, supply_channel: str | None = None, project: str | None = None
    ) -> dict[str, Any]:
        """Delete an entry, as someone in the Merchant Center might; returns what was deleted."""
        with self.app.lock:
            target, entry = self._entry(sku, supply_channel, project)
            return copy_json(self._store.delete(target, "inventory", entry["id"]))

    def release_reservation(
        self,
        sku: str,
        quantity: int,
        *,
        supply_channel: str | None = None,
        project: str | None = None,
    ) -> dict[str, Any]:
        """Release ``quantity`` reserved units (cancelled): ``availableQuantity`` rises by it."""
        with self.app.lock:
            target, entry = self._entry(sku, supply_channel, project)
            return copy_json(adjust_entry(self._store, target, entry, available=quantity))

    # -- inspection ---------------------------------------------------------------------------

    def _all(self, kind: str, project: str | None) -> list[dict[str, Any]]:
        with self.app.lock:
            return copy_json(self._project(project).all(kind))

    def add_product(
        self,
        sku: str,
        *,
        price: int,
        currency: str = "EUR",
        tax_rate: str = "0.19",
        project: str | None = None,
    ) -> None:
        """Let carts hold ``sku`` at a gross unit ``price`` (minor units), taxed at
        ``tax_rate`` (a fraction as text, ``"0.19"``)."""
        with self.app.lock:
            self._project(project).catalogue[sku] = (price, currency, tax_rate)

    def carts(self, *, project: str | None = None) -> list[dict[str, Any]]:
        """Every cart, in creation order (copies)."""
        return self._all("carts", project)

    def extensions(self, *, project: str | None = None) -> list[dict[str, Any]]:
        """Every registered API Extension, in creation order (copies)."""
        return self._all("extensions", project)

    def orders(self, *, project: str | None = None) -> list[dict[str, Any]]:
        """Every order, oldest first (copies)."""
        return self._all("orders", project)

    def order(self, order_id: str, *, project: str | None = None) -> dict[str, Any]:
        """One order by id (a copy); raises the API's NotFoundError when absent."""
        with self.app.lock:
            return copy_json(self._project(project).get("orders", order_id))

    def customers(self, *, project: str | None = None) -> list[dict[str, Any]]:
        """Every customer, oldest first (copies)."""
        return self._all("customers", project)

    def channels(self, *, project: str | None = None) -> list[dict[str, Any]]:
        """Every channel, oldest first (copies)."""
        return self._all("channels", project)

    def inventory_entries(self, *, project: str | None = None) -> list[dict[str, Any]]:
        """Every inventory entry, oldest first (copies)."""
        return self._all("inventory", project)

    def inventory_entry(
        self, sku: str, *, supply_channel: str | None = None, project: str | None = None
    ) -> dict[str, Any]:
        """The entry for ``sku`` in the supply channel with key ``supply_channel`` (a copy)."""
        with self.app.lock:
            return copy_json(self._entry(sku, supply_channel, project)[1])

    def messages(self, *, project: str | None = None) -> list[dict[str, Any]]:
        """Every message recorded, oldest first (copies)."""
        return self._all("messages", project)
