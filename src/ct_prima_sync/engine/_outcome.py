"""How one attempt at one order ended."""

from __future__ import annotations

import enum

__all__ = ["Outcome"]


class Outcome(enum.StrEnum):
    """How one attempt at one order ended."""

    POSTED = "posted"
    ALREADY_IN_PRIMA = "already_in_prima"
    EXCEPTED = "excepted"
    RETRYING = "retrying"
    LOST_LEASE = "lost_lease"
    RELEASED = "released"
    """Claimed but not started: the run stopped (outage, signal) and gave the lease back."""
