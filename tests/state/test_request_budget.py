"""The request budget every worker shares through the store: never more than the bucket allows,
priority by headroom, nothing reserved past ``max_wait``, pauses honoured; the same in every
store, and across processes on one SQLite file."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.state import StateStore, open_store
from ct_prima_sync.state._budget import reserve

from .conftest import T0, at


def _sent_at(store: StateStore, n: int, *, now_s: float = 0.0, **budget: float) -> list[float]:
    """The moments (seconds after T0) ``n`` requests asked at ``now_s`` may go."""
    return [
        now_s + (store.reserve_request("prima", now=at(now_s), **budget) or 0.0)  # type: ignore[arg-type]
        for _ in range(n)
    ]


def test_a_burst_goes_at_once_and_the_rest_at_the_rate(store: StateStore) -> None:
    times = _sent_at(store, 7, rate=2, burst=3)
    assert times == pytest.approx([0, 0, 0, 0.5, 1.0, 1.5, 2.0])


def test_an_idle_budget_refills_up_to_its_burst_only(store: StateStore) -> None:
    _sent_at(store, 3, rate=2, burst=3)
    assert _sent_at(store, 4, now_s=100, rate=2, burst=3) == pytest.approx([100, 100, 100, 100.5])


def test_a_request_with_headroom_waits_until_the_bucket_has_tokens_to_spare(
    store: StateStore,
) -> None:
    # Two tokens used of three: a submission (no headroom) still goes now, a poll keeping one
    # token back must wait for one token to come back.
    _sent_at(store, 2, rate=1, burst=3)
    poll = store.reserve_request("prima", rate=1, burst=3, now=at(0), headroom=1)
    assert poll == pytest.approx(1.0)
    submission = store.reserve_request("prima", rate=1, burst=3, now=at(0))
    assert submission == pytest.approx(1.0)


def test_a_request_that_would_wait_past_max_wait_reserves_nothing(store: StateStore) -> None:
    _sent_at(store, 1, rate=1, burst=1)
    assert store.reserve_request("prima", rate=1, burst=1, now=at(0), max_wait=0.5) is None
    assert store.reserve_request("prima", rate=1, burst=1, now=at(0), max_wait=1.0) == 1.0


def test_a_pause_holds_every_later_request_back(store: StateStore) -> None:
    store.pause_requests("prima", seconds=30, rate=5, burst=5, now=at(0))
    assert store.reserve_request("prima", rate=5, burst=5, now=at(10)) == pytest.approx(20)
    store.pause_requests("prima", seconds=1, rate=5, burst=5, now=at(10))  # never shortens
    assert store.reserve_request("prima", rate=5, burst=5, now=at(10)) == pytest.approx(20.2)


# Two stores on one database: the memory store lives in one process's memory, nothing comes in
# between there.
@pytest.mark.parametrize("store_url", ["sqlite", "postgres"], indirect=True)
def test_a_reservation_another_worker_makes_between_the_read_and_the_write_is_kept(
    store_url: str,
) -> None:
    """The row is read, then written only if it still holds what was read: a worker that
    reserved in between makes the write go the locked way, against the row as it is now, so
    the two requests get two moments."""
    with open_store(store_url) as mine, open_store(store_url) as theirs:
        assert _sent_at(mine, 1, rate=1, burst=1) == [0.0]
        write_one = mine._write_one  # type: ignore[attr-defined]
        came_between: list[float | None] = []

        def meanwhile() -> object:
            if not came_between:
                came_between.append(theirs.reserve_request("prima", rate=1, burst=1, now=at(0)))
            return write_one()

        mine._write_one = meanwhile  # type: ignore[attr-defined]
        mine_wait = mine.reserve_request("prima", rate=1, burst=1, now=at(0))

    assert came_between == [1.0]
    assert mine_wait == 2.0


def test_budgets_are_independent_by_name(store: StateStore) -> None:
    assert store.reserve_request("a", rate=1, burst=1, now=at(0)) == 0
    assert store.reserve_request("b", rate=1, burst=1, now=at(0)) == 0


@pytest.mark.parametrize(
    ("rate", "burst", "headroom"), [(0, 1, 0), (-1, 1, 0), (1, 0, 0), (1, 1, -1)]
)
def test_a_budget_that_lets_nothing_through_is_refused(
    store: StateStore, rate: float, burst: int, headroom: float
) -> None:
    with pytest.raises(ConfigurationError):
        store.reserve_request("prima", rate=rate, burst=burst, now=at(0), headroom=headroom)


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(0.5, 50),
    burst=st.integers(1, 10),
    gaps=st.lists(st.floats(0, 2), min_size=1, max_size=60),
)
def test_no_window_lets_more_through_than_burst_plus_rate_times_its_length(
    rate: float, burst: int, gaps: list[float]
) -> None:
    tat, now, sent = None, T0, []
    for gap in gaps:
        now += timedelta(seconds=gap)
        wait, tat = reserve(tat, now, rate=rate, burst=burst)
        assert wait is not None
        sent.append((now - T0).total_seconds() + wait)
    sent.sort()
    for i, start in enumerate(sent):
        for j in range(i, len(sent)):
            # times are kept to the microsecond: allow that rounding per request
            slack = (j - i + 1) * 1e-6
            assert j - i + 1 <= burst + rate * (sent[j] - start + slack) + 1e-9


_WORKER = """
import sys
from datetime import UTC, datetime
from ct_prima_sync.state import open_store
T0 = datetime(2026, 3, 1, tzinfo=UTC)
with open_store(sys.argv[1]) as store:
    waits = [store.reserve_request("prima", rate=10, burst=2, now=T0) for _ in range(25)]
print(" ".join(repr(w) for w in waits))
"""


def test_worker_processes_on_one_sqlite_file_share_one_budget(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    open_store(url).close()
    workers = [
        subprocess.Popen(  # noqa: S603  (this interpreter, a constant script)
            [sys.executable, "-c", _WORKER, url], stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    waits = sorted(float(w) for p in workers for w in p.communicate(timeout=60)[0].split())
    assert all(p.returncode == 0 for p in workers)
    # 100 requests at one moment: two at once, then one every 0.1 s, each slot given once.
    assert waits == pytest.approx([0.0, 0.0] + [0.1 * k for k in range(1, 99)])


def test_a_bucket_of_one_token_keeps_nothing_back_and_rounding_never_refuses(
    store: StateStore,
) -> None:
    # 1/15 s is not a whole number of microseconds: a request asked to wait at most one
    # interval gets the slot one interval ahead.
    first = store.reserve_request("prima", rate=15, burst=1, now=at(0), headroom=1)
    assert first == 0
    second = store.reserve_request(
        "prima", rate=15, burst=1, now=at(0), headroom=1, max_wait=1 / 15
    )
    assert second == pytest.approx(1 / 15, abs=1e-6)
