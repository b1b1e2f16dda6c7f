"""How the sync engine behaves: eligibility, leases, retries, customer resolution, write-back."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from attrs import field, frozen

from ..errors import ConfigurationError
from ..mapping import DispatchConfig
from ._adaptive import SubmissionFlow
from ._stock_config import StockRunConfig

__all__ = [
    "CustomerPolicy",
    "EligibilityRules",
    "EngineConfig",
    "RetryBackoff",
    "WriteBack",
]

DEFAULT_ORDER_STATES: Final = frozenset({"Open", "Confirmed"})
#: Orders per ``MultiNewOrder`` (``benchmarks/bench_drain.py`` measures the choice).
DEFAULT_SUBMIT_BATCH_SIZE: Final = 25


def _default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _positive(name: str) -> Any:
    def check(_instance: object, _attribute: object, value: float) -> None:
        if not value > 0:
            raise ConfigurationError(f"{name} must be positive, got {value!r}")

    return check


def _optional_positive(name: str) -> Any:
    check = _positive(name)

    def optional(instance: object, attribute: object, value: float | None) -> None:
        if value is not None:
            check(instance, attribute, value)

    return optional


def _not_negative(name: str) -> Any:
    def check(_instance: object, _attribute: object, value: float) -> None:
        if value < 0:
            raise ConfigurationError(f"{name} must not be negative, got {value!r}")

    return check


@frozen(kw_only=True)
class EligibilityRules:
    """Which commercetools orders go to Prima.

    An order is eligible when its ``orderState`` is in ``order_states``, its ``paymentState`` in
    ``payment_states`` (if set), its store in ``store_keys`` (if set) and it is at least
    ``min_age_seconds`` old (to let payment settle). Ineligible orders are left alone, not queued.
    """

    order_states: frozenset[str] = DEFAULT_ORDER_STATES
    payment_states: frozenset[str] | None = None
    store_keys: frozenset[str] | None = None
    min_age_seconds: float = 0.0


@frozen(kw_only=True)
class RetryBackoff:
    """When a transient failure is tried again: ``base * 2**(attempt-1)``, at most ``cap`` seconds.

    An exception still open ``escalate_after_seconds`` after it was first seen is escalated to its
    owner's notifier.
    """

    base_seconds: float = field(default=30.0, validator=_positive("retry.base_seconds"))
    cap_seconds: float = field(default=3600.0, validator=_positive("retry.cap_seconds"))
    escalate_after_seconds: float = field(
        default=4 * 3600.0, validator=_positive("retry.escalate_after_seconds")
    )

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.cap_seconds, self.base_seconds * 2 ** max(attempt - 1, 0)))


@frozen(kw_only=True)
class CustomerPolicy:
    """How an order's customer is found in Prima before the order is submitted.

    By default the customer map (state store), then Prima itself: the order goes with an empty
    ``Customer`` and Prima matches or creates the account from the order's details, answering
    its code (``prima_matches``), which the customer map keeps for the customer's next order.
    ``lookup_by_email`` (a ``CustomerFind`` request) and ``create_missing`` (``CustomerCreate``)
    are opt-in: no public source confirms those request types, so turn them on only where the
    installation answers them. With all three off, an unknown customer is an exception for
    ecommerce. ``guest_account`` sends guest orders (no commercetools customer) to one account.
    ``company``: the Prima company whose accounts the customer map records for this engine (set
    per source from ``[sources.<name>] company_id``); an entry recorded for another company is
    not used, so a customer of two companies never gets the wrong one's account.
    """

    lookup_by_email: bool = False
    create_missing: bool = False
    guest_account: str = ""
    company: str = ""
    prima_matches: bool = True
    """When no account is known or found: send the order with ``Customer=""`` and let Prima
    match or create the account, then store the ``CustomerCode`` it answers in the customer map
    (the next order of that customer goes with that account). Orders of such a customer are
    sent one at a time under the customer's lock until the code is stored."""


@frozen(kw_only=True)
class WriteBack:
    """What the engine writes to commercetools once Prima has the order.

    ``sync_channel_key``: an OrderExport channel; the order gets ``updateSyncInfo`` with Prima's
    reference as ``externalId`` (the standard place). ``custom_field``: also (or instead) set this
    custom field to the reference. ``order_state``: change the order state (e.g. ``Confirmed``).
    ``transition_state_key``: transition to this custom state. ``concurrency``: how many
    write-backs run at once beside the submissions (the write-back pass's own threads).
    ``batch_size``: orders written back together in one commercetools GraphQL request (an
    ``updateOrder`` per order, each against its own version); an order whose update did not
    apply goes the one-order way (``POST /orders/{id}``, re-read after a conflict). 1 writes
    each order back in a request of its own.
    """

    sync_channel_key: str | None = "prima-export"
    custom_field: str | None = None
    order_state: str | None = None
    transition_state_key: str | None = None
    concurrency: int = field(default=2, validator=_positive("write_back.concurrency"))
    batch_size: int = field(default=25, validator=_positive("write_back.batch_size"))


@frozen(kw_only=True)
class EngineConfig:
    """Everything the engine needs besides the two systems, the store and the mapping."""

    worker_id: str = field(factory=_default_worker_id)
    lease_seconds: float = field(default=300.0, validator=_positive("lease_seconds"))
    claim_batch: int = field(default=50, validator=_positive("claim_batch"))
    concurrency: int = field(default=4, validator=_positive("concurrency"))
    submit_batch_size: int = field(
        default=DEFAULT_SUBMIT_BATCH_SIZE, validator=_positive("submit_batch_size")
    )
    """Orders sent together in one ``MultiNewOrder`` (one request, one rate-limit token; Prima
    answers per order). 1 sends each order in a request of its own. Orders for Prima to match a
    customer (``Customer=""``) always go alone. A request takes orders of one claim batch only:
    with ``claim_batch`` at least ``submit_batch_size x concurrency`` every thread fills its
    requests (docs/engine.md)."""
    poll_overlap_seconds: float = field(default=120.0, validator=_positive("poll_overlap_seconds"))
    initial_cursor: datetime | None = None
    """Where polling starts the first time (default: a day before the first run)."""
    cursor_name: str = "orders.lastModifiedAt"
    eligibility: EligibilityRules = EligibilityRules()
    retry: RetryBackoff = RetryBackoff()
    customers: CustomerPolicy = CustomerPolicy()
    write_back: WriteBack = WriteBack()
    dispatch: DispatchConfig = field(factory=DispatchConfig)
    """How the dispatch flow asks Prima and writes deliveries (``[engine.dispatch]``)."""
    depots_from_prima: bool = False
    """Check each order's depots against Prima's depot list (a ``DepotList`` request, which no
    public source confirms: opt in only where the installation answers it). Off, the mapping's
    ``[depots] valid`` list is the check."""
    depot_refresh_seconds: float = field(
        default=600.0, validator=_positive("depot_refresh_seconds")
    )
    escalate_after_occurrences: int = field(
        default=5, validator=_positive("escalate_after_occurrences")
    )
    prima_request_timeout: float | None = field(
        default=None, validator=_optional_positive("prima_request_timeout")
    )
    """The longest one Prima request may take, in seconds: waiting for a rate-limit slot,
    connecting and reading the answer. Leases, customer locks and the wait before an ambiguous
    order counts as unsent follow from it (``engine/_timing.py``). None: an ``OmlinkClient``'s
    ``max_wait + connect_timeout + read_timeout``; 95 s for other gateways."""
    verify_older_than_seconds: float = field(
        default=0.0, validator=_not_negative("verify_older_than_seconds")
    )
    """``verify_against_prima`` (``ct-prima-sync migrate --verify-against-prima``) asks Prima
    about unsent orders at least this old; 0 asks about every one."""
    customer_key_secret: str | None = field(default=None, repr=False)
    """The installation secret guest customers' keys are made with. None: read from the
    environment variable ``CT_PRIMA_SYNC_CUSTOMER_KEY_SECRET``; the engine refuses to start
    without one. Never shown in reprs or logs."""
    breaker_threshold: int = field(default=5, validator=_positive("breaker_threshold"))
    """Consecutive orders Prima (or commercetools) did not answer before a run stops: one
    exception for the outage instead of one per order (see ``engine/_breaker.py``)."""
    stock: StockRunConfig = field(factory=StockRunConfig)
    """How :meth:`SyncEngine.sync_stock` runs (the ``[engine.stock]`` table)."""
    submission_flow: SubmissionFlow | None = None
    """Adaptive flow control of order submissions (``[engine.submission_flow]``): slower when
    Prima answers 429/503 or slowly, faster again when it recovers (``engine/_adaptive.py``).
    None: submissions go as fast as the Prima client's rate limit lets them."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EngineConfig:
        """Read the ``[engine]`` table of a configuration file."""
        known = {
            "worker_id", "lease_seconds", "claim_batch", "concurrency", "submit_batch_size",
            "poll_overlap_seconds",
            "cursor_name", "depots_from_prima", "depot_refresh_seconds",
            "escalate_after_occurrences", "initial_cursor", "breaker_threshold",
            "prima_request_timeout", "verify_older_than_seconds",
        }  # fmt: skip
        nested = {
            "eligibility", "retry", "customers", "write_back", "dispatch", "stock",
            "submission_flow",
        }  # fmt: skip
        if "customer_key_secret" in data:
            raise ConfigurationError(
                "engine: customer_key_secret is a secret and is never read from a file: set the "
                "environment variable CT_PRIMA_SYNC_CUSTOMER_KEY_SECRET instead"
            )
        unknown = set(data) - known - nested
        if unknown:
            raise ConfigurationError(f"engine: unknown settings {sorted(unknown)}")
        kwargs: dict[str, Any] = {k: data[k] for k in known if k in data}
        if "dispatch" in data:
            kwargs["dispatch"] = DispatchConfig.from_dict(dict(data["dispatch"]))
        sections: dict[str, type[Any]] = {
            "eligibility": EligibilityRules,
            "retry": RetryBackoff,
            "customers": CustomerPolicy,
            "write_back": WriteBack,
            "stock": StockRunConfig,
            "submission_flow": SubmissionFlow,
        }
        for name, section_type in sections.items():
            if name in data:
                values = dict(data[name])
                for key, value in values.items():
                    if isinstance(value, list):
                        values[key] = frozenset(value)
                try:
                    kwargs[name] = section_type(**values)
                except TypeError as exc:
                    raise ConfigurationError(f"engine.{name}: {exc}") from exc
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ConfigurationError(f"engine: {exc}") from exc
