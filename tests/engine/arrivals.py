"""What a shared budget looks like from Prima's side when the workers are real processes on a
busy machine.

The budget bounds the moments requests leave their workers (``burst + rate * t`` in any ``t``
seconds: the unit tests hold it to that exactly, on a fake clock). The emulator times them as it
reads them, after the operating system has run the worker to its socket and the server to its
handler: on a loaded two-core machine either can be held for a few hundred milliseconds, and the
requests held arrive together with those that were not. A second seen from Prima's side can
therefore carry what ``STALL_SECONDS`` more of the budget lets through, never the several times
the budget that workers with their own limiters send (the control tests show that)."""

from __future__ import annotations

#: The longest a busy machine may hold a request between its worker and the emulator's clock.
STALL_SECONDS = 0.5


def most_in_one_second(rate: float, burst: int) -> float:
    """The most requests a shared budget of ``rate`` and ``burst`` may show in one second of
    the emulator's arrivals."""
    return burst + rate * (1.0 + STALL_SECONDS)


def gateway_burst(rate: float, burst: int) -> int:
    """The burst of an emulator's gateway limit (at ``rate``) that refuses nothing a budget of
    ``rate`` and ``burst`` lets through, held up to ``STALL_SECONDS`` on the way."""
    return burst + round(rate * STALL_SECONDS)
