"""Find (or create) the Prima account an order belongs to, before the order is submitted."""

from __future__ import annotations

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

__all__ = ["resolve_account"]


def _store_key(order: Order, details: CustomerDetails, secret: str) -> str | None:
    if order.customer_id:
        return customer_key_for_id(order.customer_id)
    if details.email:
        return customer_key_for_email(details.email, secret=secret)
    return None


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
    """The Prima account code for the order's customer, or None when policy forbids finding one.

    In order: an account code the mapping already set (a configured custom field or customer
    number), the customer map, Prima by e-mail, the guest account for guest orders, a new Prima
    account. Whatever is found is remembered in the customer map, so the next order of the same
    customer costs no Prima call.

    Workers never create the same customer twice: going to Prima happens under a
    :class:`~._customer_lock.CustomerLock` named after the customer's e-mail (or key), held by
    this attempt at ``record``'s order, and whoever gets it second finds the first one's account
    in the customer map or in Prima. A customer created just before a crash is
    found again by e-mail on the retry (keep ``lookup_by_email`` on when ``create_missing`` is
    on).
    """
    key = _store_key(order, details, key_secret)
    company = policy.company
    known = _for_company(store.get_customer(key) if key else None, company)
    if details.account_code:
        account = details.account_code
    elif known is not None:
        account = known
    else:
        email_key = (
            customer_key_for_email(details.email, secret=key_secret) if details.email else None
        )
        with locks.hold("customer:" + (email_key or key or ""), record) as lock:
            known = _for_company(store.get_customer(key) if key else None, company)
            account = known or _from_prima(order, details, prima, policy, lock)
            if account and key and known is None:
                store.put_customer(key, _recorded(account, company), now=clock.now())
        return account or None
    if account and key and known != account:
        # A mapping already on record is not written again: a write per order was a sixth of
        # the ledger's commits on a busy run.
        store.put_customer(key, _recorded(account, company), now=clock.now())
    return account or None


#: Between the Prima company and the account code in a customer map entry of a company.
_COMPANY_MARK = "::"


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
