"""Find (or create) the Prima account an order belongs to, before the order is submitted."""

from __future__ import annotations

from datetime import datetime

from attrs import evolve

from ..commercetools import Order
from ..prima import CustomerDetails, PrimaGateway
from ..state import (
    CustomerMapping,
    OrderRecord,
    StateStore,
    customer_key_for_email,
    customer_key_for_id,
)
from ._clock import Clock
from ._config import CustomerPolicy
from ._customer_lock import CustomerLock, CustomerLocks

__all__ = [
    "account_entry",
    "customer_identity",
    "known_account",
    "remember_account",
    "resolve_account",
]


def _store_key(order: Order, details: CustomerDetails, secret: str) -> str | None:
    if order.customer_id:
        return customer_key_for_id(order.customer_id)
    if details.email:
        return customer_key_for_email(details.email, secret=secret)
    return None


def customer_identity(
    order: Order, details: CustomerDetails, secret: str
) -> tuple[str | None, str | None]:
    """The customer-map key of the order's customer (customer id, else the guest key) and the
    name of the lock that serialises going to Prima for them (by e-mail, else the key); None
    for each that the order gives nothing to build from."""
    key = _store_key(order, details, secret)
    email_key = customer_key_for_email(details.email, secret=secret) if details.email else None
    name = email_key or key
    return key, ("customer:" + name) if name else None


def resolve_account(
    order: Order,
    details: CustomerDetails,
    *,
    prima: PrimaGateway,
    store: StateStore,
    policy: CustomerPolicy,
    clock: Clock,
    record: OrderRecord,
    locks: CustomerLocks,
    key_secret: str,
) -> str | None:
    """The Prima account code for the order's customer; ``""`` to let Prima match or create the
    account as it takes the order (``policy.prima_matches``); None when policy forbids both.

    In order: an account code the mapping already set (a configured custom field or customer
    number), the customer map, Prima by e-mail, the guest account for guest orders, a new Prima
    account, and last Prima's own matching (the order goes with ``Customer=""``; the engine
    stores the ``CustomerCode`` Prima answers). Whatever is found is remembered in the customer
    map, so the next order of the same customer costs no Prima call.

    Workers never create the same customer twice: going to Prima happens under a
    :class:`~._customer_lock.CustomerLock` named after the customer's e-mail (or key), held by
    this attempt at ``record``'s order, and whoever gets it second finds the first one's account
    in the customer map or in Prima. A customer created just before a crash is
    found again by e-mail on the retry (keep ``lookup_by_email`` on when ``create_missing`` is
    on).
    """
    key, lock_name = customer_identity(order, details, key_secret)
    company = policy.company
    known = known_account(store, key, company)
    if details.account_code:
        account = details.account_code
    elif known is not None:
        account = known
    elif not (policy.lookup_by_email or policy.create_missing or policy.guest_account):
        return "" if policy.prima_matches else None  # no customer request is configured
    else:
        with locks.hold(lock_name or "customer:", record) as lock:
            known = known_account(store, key, company)
            account = known or _from_prima(order, details, prima, policy, lock)
            if account and key and known is None:
                remember_account(store, key, account, company=company, now=clock.now())
        if account:
            return account
        return "" if policy.prima_matches else None
    if account and key and known != account:
        # A mapping already on record is not written again: a write per order was a sixth of
        # the ledger's commits on a busy run.
        remember_account(store, key, account, company=company, now=clock.now())
    return account or None


#: Between the Prima company and the account code in a customer map entry of a company.
_COMPANY_MARK = "::"


def known_account(store: StateStore, key: str | None, company: str) -> str | None:
    """The account the customer map holds for ``key`` in Prima company ``company`` ("": the
    only company), or None."""
    return _for_company(store.get_customer(key) if key else None, company)


def remember_account(
    store: StateStore, key: str, account: str, *, company: str, now: datetime
) -> None:
    """Record ``account`` as the customer's in Prima company ``company`` ("": the only one)."""
    store.put_customer(key, _recorded(account, company), now=now)


def account_entry(key: str, account: str, *, company: str) -> tuple[str, str]:
    """The customer map entry (key, value) :func:`remember_account` puts, for a store call that
    puts it with other writes (``StateStore.record_prima_reference(customer=...)``)."""
    return key, _recorded(account, company)


def _recorded(account: str, company: str) -> str:
    """The customer map's value for ``account`` in ``company`` ("" : the only company)."""
    return f"{company}{_COMPANY_MARK}{account}" if company else account


def _for_company(known: CustomerMapping | None, company: str) -> str | None:
    """The account code of a customer map entry if it was recorded for ``company``: an entry
    of another Prima company is no account here (the customer is looked up again, and the
    entry then records this company's account)."""
    if known is None:
        return None
    recorded, mark, account = known.account_code.partition(_COMPANY_MARK)
    if not mark:
        return known.account_code if not company else None
    return account if recorded == company else None


def _from_prima(
    order: Order,
    details: CustomerDetails,
    prima: PrimaGateway,
    policy: CustomerPolicy,
    lock: CustomerLock,
) -> str:
    if policy.lookup_by_email and details.email:
        found = prima.find_customer(email=details.email)
        if found is not None:
            return found.account_code
    if not order.customer_id and policy.guest_account:
        return policy.guest_account
    if policy.create_missing:
        lock.renew()  # the lookup may have taken most of the lock's life
        created = prima.create_customer(evolve(details, account_code=""))
        return created.account_code
    return ""
