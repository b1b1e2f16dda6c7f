"""Find (or create) the Prima account an order belongs to, before the order is submitted."""

from __future__ import annotations

import threading
from collections.abc import Iterable
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
    "KnownAccounts",
    "account_entry",
    "customer_identity",
    "known_account",
    "order_customer_key",
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
    email_key = customer_key_for_email(details.email, secret=secret) if details.email else None
    key = customer_key_for_id(order.customer_id) if order.customer_id else email_key
    name = email_key or key
    return key, ("customer:" + name) if name else None


def order_customer_key(order: Order, secret: str) -> str | None:
    """The customer-map key :func:`customer_identity` gives an order whose customer details
    the mapping took from the order alone (``map_customer`` without a commercetools customer,
    as the engine maps): the customer id, else the order's e-mail, else the billing
    address's. Used to read a claim batch's entries ahead (:class:`KnownAccounts`); a key that
    differs only costs the order a read of its own."""
    if order.customer_id:
        return customer_key_for_id(order.customer_id)
    billing = order.billing_address
    email = (order.customer_email or (billing.email if billing else None) or "").strip()
    return customer_key_for_email(email, secret=secret) if email else None


class KnownAccounts:
    """The customer map as a claim batch's orders see it when they are prepared: the batch's
    entries read in one query (:meth:`read`), then answered from memory; a key not read ahead
    is read from the store (:meth:`get_customer`, as ``StateStore.get_customer``). The run's
    own writes of the map update it (:meth:`put`); each :meth:`read` starts afresh, so nothing
    read lives longer than a claim batch. Shared by the engine's threads.

    It only saves reads, it guards nothing: an entry another worker puts after the batch's
    read is missed, and the order then goes the way of a customer without an account, under
    the customer's lock, where the map is read from the store again (``resolve_account``,
    ``OrderFlow``) and the entry found. A customer never gets two accounts for it.
    """

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._guard = threading.Lock()
        self._entries: dict[str, CustomerMapping | None] = {}

    def read(self, keys: Iterable[str | None]) -> None:
        """Forget what was read before and read the entries of ``keys`` (None: skipped) in one
        query. A store that fails leaves nothing read ahead (each order then reads its own)."""
        wanted = [k for k in dict.fromkeys(keys) if k]
        with self._guard:
            self._entries = {}
        if not wanted:
            return
        found = self._store.get_customers(wanted)
        with self._guard:
            self._entries = {k: found.get(k) for k in wanted}

    def get_customer(self, key: str) -> CustomerMapping | None:
        """The entry of ``key``: as read ahead or put since, else read from the store."""
        with self._guard:
            if key in self._entries:
                return self._entries[key]
        return self._store.get_customer(key)

    def put(self, key: str, account_code: str, *, now: datetime) -> None:
        """The run put this entry in the store (or recorded it with an order's reference)."""
        with self._guard:
            self._entries[key] = CustomerMapping(key=key, account_code=account_code, updated_at=now)


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
    accounts: KnownAccounts | None = None,
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

    ``accounts``: the claim batch's entries read ahead, for the first look only; under the
    lock the map is always read from ``store``.
    """
    key = _store_key(order, details, key_secret)  # the lock's name only when it is taken
    company = policy.company
    known = known_account(accounts or store, key, company)
    if details.account_code:
        account = details.account_code
    elif known is not None:
        account = known
    elif not (policy.lookup_by_email or policy.create_missing or policy.guest_account):
        return "" if policy.prima_matches else None  # no customer request is configured
    else:
        _, lock_name = customer_identity(order, details, key_secret)
        with locks.hold(lock_name or "customer:", record) as lock:
            known = known_account(store, key, company)
            account = known or _from_prima(order, details, prima, policy, lock)
            if account and key and known is None:
                remember_account(
                    store, key, account, company=company, now=clock.now(), accounts=accounts
                )
        if account:
            return account
        return "" if policy.prima_matches else None
    if account and key and known != account:
        # A mapping already on record is not written again: a write per order was a sixth of
        # the ledger's commits on a busy run.
        remember_account(store, key, account, company=company, now=clock.now(), accounts=accounts)
    return account or None


#: Between the Prima company and the account code in a customer map entry of a company.
_COMPANY_MARK = "::"


def known_account(store: StateStore | KnownAccounts, key: str | None, company: str) -> str | None:
    """The account the customer map (``store``, or a batch's entries read ahead) holds for
    ``key`` in Prima company ``company`` ("": the only company), or None."""
    return _for_company(store.get_customer(key) if key else None, company)


def remember_account(
    store: StateStore,
    key: str,
    account: str,
    *,
    company: str,
    now: datetime,
    accounts: KnownAccounts | None = None,
) -> None:
    """Record ``account`` as the customer's in Prima company ``company`` ("": the only one)
    (and in ``accounts``, the batch's entries read ahead)."""
    recorded = _recorded(account, company)
    store.put_customer(key, recorded, now=now)
    if accounts is not None:
        accounts.put(key, recorded, now=now)


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
