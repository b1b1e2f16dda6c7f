"""Find (or create) the Prima account an order belongs to, before the order is submitted."""

from __future__ import annotations

from typing import Final

from attrs import evolve

from ..commercetools import Order
from ..errors import StateError
from ..prima import CustomerDetails, PrimaGateway
from ..state import StateStore, customer_key_for_email, customer_key_for_id
from ._clock import Clock
from ._config import CustomerPolicy

__all__ = ["CustomerLockBusyError", "resolve_account"]


def _store_key(order: Order, details: CustomerDetails) -> str | None:
    if order.customer_id:
        return customer_key_for_id(order.customer_id)
    if details.email:
        return customer_key_for_email(details.email)
    return None


class CustomerLockBusyError(StateError):
    """Another worker has been creating this customer for longer than the wait allows."""


#: How long a worker waits for another to finish creating the same customer, and the lock's
#: lifetime (a worker that dies holding it blocks the customer this long at most).
LOCK_WAIT_SECONDS: Final = 10.0
LOCK_TTL_SECONDS: Final = 60.0
_POLL_SECONDS: Final = 0.05


def resolve_account(
    order: Order,
    details: CustomerDetails,
    *,
    prima: PrimaGateway,
    store: StateStore,
    policy: CustomerPolicy,
    clock: Clock,
    worker_id: str,
) -> str | None:
    """The Prima account code for the order's customer, or None when policy forbids finding one.

    In order: an account code the mapping already set (a configured custom field or customer
    number), the customer map, Prima by e-mail, the guest account for guest orders, a new Prima
    account. Whatever is found is remembered in the customer map, so the next order of the same
    customer costs no Prima call.

    Workers never create the same customer twice: going to Prima happens under a lock named after
    the customer's e-mail (or key), and whoever gets it second finds the first one's account in
    the customer map or in Prima. A customer created just before a crash is found again by e-mail
    on the retry (keep ``lookup_by_email`` on when ``create_missing`` is on).
    """
    key = _store_key(order, details)
    known = store.get_customer(key) if key else None
    if details.account_code:
        account = details.account_code
    elif known is not None:
        account = known.account_code
    else:
        return _under_lock(
            order,
            details,
            key=key,
            prima=prima,
            store=store,
            policy=policy,
            clock=clock,
            worker_id=worker_id,
        )
    if account and key and (known is None or known.account_code != account):
        # A mapping already on record is not written again: a write per order was a sixth of
        # the ledger's commits on a busy run.
        store.put_customer(key, account, now=clock.now())
    return account or None


def _under_lock(
    order: Order,
    details: CustomerDetails,
    *,
    key: str | None,
    prima: PrimaGateway,
    store: StateStore,
    policy: CustomerPolicy,
    clock: Clock,
    worker_id: str,
) -> str | None:
    lock = "customer:" + (customer_key_for_email(details.email) if details.email else key or "")
    waited = 0.0
    while not store.try_lock(lock, owner=worker_id, ttl_seconds=LOCK_TTL_SECONDS, now=clock.now()):
        if waited >= LOCK_WAIT_SECONDS:
            raise CustomerLockBusyError(
                "another worker is still creating this order's customer in Prima; retrying later"
            )
        clock.sleep(_POLL_SECONDS)
        waited += _POLL_SECONDS
    try:
        known = store.get_customer(key) if key else None
        account = known.account_code if known else _from_prima(order, details, prima, policy)
        if account and key and known is None:
            store.put_customer(key, account, now=clock.now())
        return account or None
    finally:
        store.unlock(lock, owner=worker_id)


def _from_prima(
    order: Order, details: CustomerDetails, prima: PrimaGateway, policy: CustomerPolicy
) -> str:
    if policy.lookup_by_email and details.email:
        found = prima.find_customer(email=details.email)
        if found is not None:
            return found.account_code
    if not order.customer_id and policy.guest_account:
        return policy.guest_account
    if policy.create_missing:
        created = prima.create_customer(evolve(details, account_code=""))
        return created.account_code
    return ""
