"""The Prima request timeout the engine works with, and what follows from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ct_prima_sync.engine import FakeClock, HoldingPrima
from ct_prima_sync.engine._timing import (
    DEFAULT_PRIMA_REQUEST_TIMEOUT,
    Timing,
    prima_request_timeout,
)
from ct_prima_sync.prima import OmlinkClient, OmlinkConfig
from ct_prima_sync.state import open_store
from ct_prima_sync.testing import FakePrima


def test_the_request_timeout_comes_from_the_omlink_client_even_behind_hold_mode() -> None:
    config = OmlinkConfig(
        endpoint="http://prima.test/live/live", connect_timeout=2, read_timeout=20, max_wait=3
    )
    with OmlinkClient(config) as client, open_store("memory://") as store:
        held = HoldingPrima(client, store=store, clock=FakeClock(), narrative="held")
        assert prima_request_timeout(client, None) == 25
        assert prima_request_timeout(held, None) == 25
        assert prima_request_timeout(client, 7.5) == 7.5
    assert prima_request_timeout(FakePrima(), None) == DEFAULT_PRIMA_REQUEST_TIMEOUT == 95


def test_a_submission_gets_two_request_timeouts_and_unknown_counts_after_one() -> None:
    timing = Timing(lease_seconds=30, request_timeout=100)
    started = datetime(2026, 1, 1, tzinfo=UTC)
    assert timing.submission_lease_seconds == 200
    assert Timing(lease_seconds=300, request_timeout=100).submission_lease_seconds == 300
    assert timing.unknown_is_final_at(started) == started + timedelta(seconds=100)
    assert timing.customer_lock_seconds == 105
    assert not timing.needs_renewal(started + timedelta(seconds=16), started)
    assert timing.needs_renewal(started + timedelta(seconds=14), started)
