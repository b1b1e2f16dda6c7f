"""Prima down three ways (connection refused, black-holed, accepting then never answering): a run
of 300 orders stops within N x (connect + read timeout) + 10 s with one exception and exit 1, and
after Prima is back the next run posts all 300, none twice (counted by the emulator)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from ct_prima_sync.engine._order_ingest import INGEST_PAGE
from ct_prima_sync.testing import PrimaEmulator
from ct_prima_sync.testing.scenario import SCENARIO_MAPPING_TOML, build_scenario

from .conftest import assert_no_traceback, run_cli

THRESHOLD = 3
CONNECT, READ = 0.5, 1.0
#: How long a submission may take to reach Prima: until then the sync never sends it again.
REQUEST_TIMEOUT = 2.0


@contextmanager
def refused() -> Iterator[str]:
    """A port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    yield f"http://127.0.0.1:{port}/live/live"


@contextmanager
def black_holed() -> Iterator[str]:
    """A listener whose accept queue is full: new connections are never completed."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        for _ in range(8):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        try:
            yield f"http://127.0.0.1:{port}/live/live"
        finally:
            for filler in fillers:
                filler.close()


@contextmanager
def silent() -> Iterator[str]:
    """Accepts every connection and reads the request, then never answers."""
    stop = threading.Event()
    held: list[socket.socket] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/live/live"
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


def _settings(folder: Path, *, ct_url: str, prima_url: str, scenario: object) -> Path:
    ct = scenario.commercetools  # type: ignore[attr-defined]
    since = (scenario.first_order_at - timedelta(days=1)).isoformat()  # type: ignore[attr-defined]
    (folder / "mapping.toml").write_text(SCENARIO_MAPPING_TOML, encoding="utf-8")
    (folder / "ct.secret").write_text(ct.client_secret, encoding="utf-8")
    path = folder / "ct-prima-sync.toml"
    path.write_text(
        f"""
[state]
url = "sqlite:///sync.db"
[commercetools]
project_key = "{ct.project_key}"
api_url = "{ct_url}"
auth_url = "{ct_url}"
client_id = "{ct.client_id}"
client_secret_file = "ct.secret"
[prima]
endpoint = "{prima_url}"
connect_timeout = {CONNECT}
read_timeout = {READ}
rate_limit = 1000.0
burst = 50
[prima.retry]
attempts = 1
[mapping]
file = "mapping.toml"
[engine]
initial_cursor = "{since}"
breaker_threshold = {THRESHOLD}
prima_request_timeout = {REQUEST_TIMEOUT}
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.slow
@pytest.mark.parametrize("dead", [refused, black_holed, silent], ids=lambda f: f.__name__)
def test_a_dead_prima_stops_the_run_fast_with_one_exception_and_nothing_is_sent_twice(
    tmp_path: Path, dead: object
) -> None:
    scenario = build_scenario(orders=300, bad_every=0, seed=7)
    emulator = PrimaEmulator(scenario.world)
    with scenario.commercetools.serve() as ct_url, emulator.serve() as prima_url:
        with dead() as dead_url:  # type: ignore[operator]
            _settings(tmp_path, ct_url=ct_url, prima_url=dead_url, scenario=scenario)
            started = time.monotonic()
            down = run_cli("run", "--format", "json", cwd=tmp_path)
            took = time.monotonic() - started
        assert_no_traceback(down.stderr)
        assert down.returncode == 1, down.stderr
        assert took < THRESHOLD * (CONNECT + READ) + 10, took
        summary = json.loads(down.stdout)
        assert summary["orders"]["stopped"] == "PRIMA_UNAVAILABLE"
        listed = run_cli("exceptions", "--format", "json", cwd=tmp_path)
        (outage,) = json.loads(listed.stdout)
        assert (outage["kind"], outage["order_id"]) == ("PRIMA_UNAVAILABLE", None)
        # The run stops with its poll: the page being worked is in the ledger, waiting; the
        # later pages are still commercetools', read again from the cursor by the next run.
        assert outage["detail"]["orders_waiting"] == INGEST_PAGE

        _settings(tmp_path, ct_url=ct_url, prima_url=prima_url, scenario=scenario)
        # Submissions the dead Prima swallowed may still arrive until a request timeout after
        # they began; only then does "unknown to Prima" prove they never will.
        time.sleep(REQUEST_TIMEOUT)
        back = run_cli("run", "orders", "--format", "json", cwd=tmp_path)
        assert back.returncode == 0, back.stderr
        assert json.loads(back.stdout)["posted"] == 300
        submissions = scenario.world.submission_counts()
        assert all(submissions[n] == 1 for n in scenario.good)
        listed = run_cli("exceptions", "--format", "json", cwd=tmp_path)
        assert json.loads(listed.stdout) == []
