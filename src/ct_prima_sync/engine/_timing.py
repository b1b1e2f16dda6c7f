"""How long Prima may take, and the lease and lock lifetimes that follow from it (pure).

Every rule here starts from one figure, the *Prima request timeout*: the longest one request to
Prima can take from the moment the engine decides to send it (queueing for a rate-limit slot,
connecting, waiting for the answer). Until that long after a submission started, nobody can know
whether Prima will apply it:

1. A submission begins only with at least two request timeouts left on the order's lease (the
   submit, then a status check if its answer is lost), so no other worker can take the order
   over while the submit may still be in flight.
2. "Unknown to Prima" proves nothing until one request timeout after the submission started;
   before that, an ambiguous order is asked about again later, never sent again.
3. A customer's lock lives one request timeout (plus a margin) and is renewed before each Prima
   call made under it: a holder that dies blocks the customer no longer than one call could take.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from attrs import frozen

from ..prima import OmlinkClient, PrimaGateway
from ..prima._config import DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_WAIT, DEFAULT_READ_TIMEOUT

__all__ = ["DEFAULT_PRIMA_REQUEST_TIMEOUT", "Timing", "prima_request_timeout"]

#: The request timeout of an ``OmlinkClient`` with default settings (max_wait 30 s, connect 5 s,
#: read 60 s), assumed for gateways that do not say.
DEFAULT_PRIMA_REQUEST_TIMEOUT: Final = (
    DEFAULT_MAX_WAIT + DEFAULT_CONNECT_TIMEOUT + DEFAULT_READ_TIMEOUT
)

#: Added to a customer lock's lifetime for the store writes around the Prima call.
CUSTOMER_LOCK_MARGIN_SECONDS: Final = 5.0


def prima_request_timeout(prima: PrimaGateway, configured: float | None) -> float:
    """``configured`` if set; else, for an :class:`~ct_prima_sync.prima.OmlinkClient`, its
    ``max_wait + connect_timeout + read_timeout``; else :data:`DEFAULT_PRIMA_REQUEST_TIMEOUT`.
    A gateway that wraps another (its ``wrapped`` attribute, as the go-live gateways have) is
    looked through."""
    if configured is not None:
        return configured
    while isinstance(getattr(prima, "wrapped", None), PrimaGateway):
        prima = prima.wrapped  # type: ignore[attr-defined]
    if isinstance(prima, OmlinkClient):
        config = prima.config
        return config.max_wait + config.connect_timeout + config.read_timeout
    return DEFAULT_PRIMA_REQUEST_TIMEOUT


@frozen(kw_only=True)
class Timing:
    """The engine's time limits, derived from the lease and the Prima request timeout."""

    lease_seconds: float
    request_timeout: float

    @property
    def submission_lease_seconds(self) -> float:
        """The lease an order gets as its submission begins (rule 1)."""
        return max(self.lease_seconds, 2 * self.request_timeout)

    @property
    def customer_lock_seconds(self) -> float:
        """A customer lock's lifetime from each renewal (rule 3)."""
        return self.request_timeout + CUSTOMER_LOCK_MARGIN_SECONDS

    def unknown_is_final_at(self, submission_started_at: datetime) -> datetime:
        """From when "unknown to Prima" means the submission will never arrive (rule 2)."""
        return submission_started_at + timedelta(seconds=self.request_timeout)

    def needs_renewal(self, lease_expires_at: datetime | None, now: datetime) -> bool:
        """Whether a claimed order's lease is worth renewing before its work starts: less than
        half of it is left (a claim batch shares one expiry, and the last orders of a long
        batch start late)."""
        if lease_expires_at is None:
            return False
        return (lease_expires_at - now).total_seconds() < self.lease_seconds / 2
