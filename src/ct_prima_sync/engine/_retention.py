"""Personal data in the state store: a retention period, and erasure requests.

What the store holds is listed in docs/security.md. Shoppers' personal data reaches it in two
places only: the copies of what shadow runs would have sent (names, addresses, e-mail) and the
free text of exceptions (Prima's rejection text, people's resolution notes), which may quote it.
The ledger keeps order ids, numbers, amounts and references; the customer map keeps
commercetools customer ids and hashed e-mail addresses with the Prima account code.

- :func:`purge_personal_data` (``ct-prima-sync purge``, daily): payload copies recorded more
  than ``days`` ago lose their payload; exceptions resolved more than ``days`` ago keep only
  :data:`KEPT_DETAIL` (order number, codes, amounts) and lose their resolution note. Recorded as
  a run of the ``retention`` flow, so ``health`` says when purging stopped.
- :func:`forget_customer` (``ct-prima-sync forget-customer``): at once, for one customer, the
  customer map entries, the payload copies and the free text of their orders' exceptions.

Both are logged with what they removed (never whom). Amounts and references always stay.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from attrs import field, frozen

from ..errors import ConfigurationError
from ..state import PurgeCounts, StateStore, customer_key_for_email, customer_key_for_id
from ._clock import Clock
from ._flow_runs import track_flow_run

__all__ = [
    "KEPT_DETAIL",
    "RetentionPolicy",
    "forget_customer",
    "purge_personal_data",
    "scrub_detail",
]

_log = logging.getLogger("ct_prima_sync.retention")

#: Exception detail that survives the retention period: no free text, nothing personal.
KEPT_DETAIL: Final = frozenset(
    {
        "order_number", "stage", "status_code", "codes", "correlation_id", "kinds", "depots",
        "difference", "failed_orders", "orders_waiting", "error_type", "path",
    }
)  # fmt: skip
_KEPT_ISSUE: Final = frozenset({"path", "difference", "code"})


def _at_least_one_day(_instance: object, _attribute: object, value: int) -> None:
    if value < 1:
        raise ConfigurationError(f"days must be at least 1, got {value}")


@frozen(kw_only=True)
class RetentionPolicy:
    """``[retention]``: after how many days personal data leaves the state store."""

    days: int = field(validator=_at_least_one_day)


def scrub_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    """An exception's detail without free text: :data:`KEPT_DETAIL` keys, issues reduced to their
    path and difference, and ``"purged": true``. Pure."""
    kept: dict[str, Any] = {k: v for k, v in detail.items() if k in KEPT_DETAIL}
    issues = detail.get("issues")
    if isinstance(issues, list):
        kept["issues"] = [
            {k: v for k, v in issue.items() if k in _KEPT_ISSUE}
            for issue in issues
            if isinstance(issue, Mapping)
        ]
    kept["purged"] = True
    return kept


def purge_personal_data(store: StateStore, *, policy: RetentionPolicy, clock: Clock) -> PurgeCounts:
    """Remove personal data older than ``policy.days`` (see the module docstring)."""
    with track_flow_run(store, "retention", clock=clock) as run:
        now = clock.now()
        before = now - timedelta(days=policy.days)
        counts = PurgeCounts(
            payloads=store.purge_shadow_payloads(now=now, recorded_before=before),
            exceptions=store.scrub_exceptions(
                now=now,
                scrub=scrub_detail,
                note=f"(removed after {policy.days} days)",
                resolved_before=before,
            ),
        )
        if counts.total:
            store.compact()
        run.add(counts.as_dict())
    _log.log(
        logging.WARNING if counts.total else logging.INFO,
        "personal data older than %d days purged",
        policy.days,
        extra={"retention_days": policy.days, "before": before.isoformat(), **counts.as_dict()},
    )
    return counts


def forget_customer(
    store: StateStore,
    *,
    now: datetime,
    email: str | None = None,
    customer_id: str | None = None,
    order_ids: Collection[str] = (),
    reference: str | None = None,
) -> PurgeCounts:
    """Carry out an erasure request for one customer, named by ``email`` and/or commercetools
    ``customer_id`` (and, to be thorough, the ids of their orders): their customer map entries,
    the payload copies of their orders and the free text of those orders' exceptions (and of any
    exception quoting the e-mail address or id) go. ``reference`` (a ticket number) is logged with
    the counts; the customer is not."""
    if not (email or customer_id or order_ids):
        raise ConfigurationError("name the customer: an e-mail address, a customer id or orders")
    keys = [customer_key_for_email(email)] if email else []
    keys += [customer_key_for_id(customer_id)] if customer_id else []
    texts = [t for t in (email, customer_id) if t]
    counts = PurgeCounts(
        customers=store.forget_customer_keys(keys),
        payloads=store.purge_shadow_payloads(now=now, order_ids=order_ids, customer_keys=keys),
        exceptions=store.scrub_exceptions(
            now=now,
            scrub=scrub_detail,
            note="(removed for an erasure request)",
            order_ids=order_ids,
            containing=texts,
        ),
    )
    store.compact()
    _log.warning(
        "erasure request carried out",
        extra={"reference": reference, "orders_named": len(order_ids), **counts.as_dict()},
    )
    return counts
