"""What a claim takes, and in which order: four branches, each one indexed read.

A claim leases up to ``limit`` orders, taking them from four branches, most urgent first, until
the limit is reached:

1. ``released`` and 2. ``expired``: work in progress whose lease was given back or has run out
   (a stopped or crashed worker's orders, possibly an ambiguous submission to resolve): released
   ones by order id, then expired ones by lease expiry and order id;
3. ``retry``: ``failed`` orders whose retry is due, earliest due first;
4. ``new``: ``new`` orders, oldest first (``created_at``, then order id).

Each branch is a range read of its own index in index order, stopped by the ``LIMIT``: a claim
costs the same whether the backlog holds a thousand orders or a million. A single predicate
over all of them (``status = 'new' OR ...``) cannot be read in order from any one index and made
every claim sort the whole backlog. SQLite runs the branches as ``UPDATE ... RETURNING``
statements in one transaction; PostgreSQL as one statement whose branches, each locked with
``FOR UPDATE SKIP LOCKED`` (concurrent workers skip each other's rows instead of waiting), are
joined by ``UNION ALL`` under one ``LIMIT`` that stops at the first branches that fill it; the
memory store applies the same rules to its dicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

import attrs

from . import _ledger
from ._records import OrderRecord, OrderStatus

__all__ = ["BRANCHES", "ClaimBranch", "claim_order", "select"]

_IN_PROGRESS_SQL: Final = "('claimed', 'mapped', 'customer_resolved', 'submitting', 'submitted')"
_EPOCH: Final = datetime(1, 1, 1, tzinfo=UTC)


@attrs.frozen(kw_only=True)
class ClaimBranch:
    """One branch of the claim: the rows it reads, from which index, in which order.

    ``where`` takes the claim time as its ``?`` parameters (``params`` of them); ``order_by`` is
    the index's column order, with ``order_by_pg`` the PostgreSQL spelling where it differs.
    """

    name: str
    index: str
    where: str
    params: int
    order_by: str
    order_by_pg: str


#: The claim's branches, most urgent first (see the module docstring). The v9 migration creates
#: the indexes they name.
BRANCHES: Final = (
    ClaimBranch(
        name="released",
        index="orders_lease_idx",
        where=f"status IN {_IN_PROGRESS_SQL} AND lease_expires_at IS NULL",
        params=0,
        order_by="lease_expires_at, order_id",
        order_by_pg="lease_expires_at NULLS FIRST, order_id",
    ),
    ClaimBranch(
        name="expired",
        index="orders_lease_idx",
        where=f"status IN {_IN_PROGRESS_SQL} AND lease_expires_at <= ?",
        params=1,
        order_by="lease_expires_at, order_id",
        order_by_pg="lease_expires_at NULLS FIRST, order_id",
    ),
    ClaimBranch(
        name="retry",
        index="orders_retry_idx",
        where="status = 'failed' AND next_attempt_at <= ?",
        params=1,
        order_by="next_attempt_at, order_id",
        order_by_pg="next_attempt_at, order_id",
    ),
    ClaimBranch(
        name="new",
        index="orders_claim_idx",
        where="status = 'new'",
        params=0,
        order_by="created_at, order_id",
        order_by_pg="created_at, order_id",
    ),
)


def _lease_key(r: OrderRecord) -> tuple[bool, datetime, str]:
    return (r.lease_expires_at is not None, r.lease_expires_at or _EPOCH, r.order_id)


def select(records: Iterable[OrderRecord], now: datetime, limit: int) -> list[OrderRecord]:
    """The records a claim at ``now`` takes, branch by branch (the memory store's claim; the
    SQL stores' queries return the same rows)."""
    lease, retry, new = [], [], []
    for r in records:
        if not _ledger.is_claimable(r, now):
            continue
        if r.status is OrderStatus.NEW:
            new.append(r)
        elif r.status is OrderStatus.FAILED:
            retry.append(r)
        else:
            lease.append(r)
    lease.sort(key=_lease_key)
    retry.sort(key=lambda r: (r.next_attempt_at or _EPOCH, r.order_id))
    new.sort(key=lambda r: (r.created_at, r.order_id))
    return (lease + retry + new)[:limit]


def claim_order(r: OrderRecord) -> tuple[datetime, str]:
    """The order a claim returns its records in: oldest first."""
    return (r.created_at, r.order_id)
