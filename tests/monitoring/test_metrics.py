"""Prometheus metrics, scraped over HTTP and read from the textfile after a scenario run, each
value asserted; the command serves and writes them too, and says how to install the extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ct_prima_sync.engine import FakeClock, HealthPolicy
from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.metrics import StoreCollector, serve_metrics, write_textfile
from ct_prima_sync.state import StateStore

from ..cli.conftest import COMMAND, assert_no_traceback, run_cli, run_in_process
from .conftest import KINDS, EngineFactory

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _samples(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(f"ct_prima_sync_{name}", frozenset(labels.items()))]


def _check_scenario(samples: Samples) -> None:
    """The values a run of the scenario (and a second, empty run) leave."""
    assert _value(samples, "healthy") == 1
    assert _value(samples, "flow_status", flow="orders", status="ok") == 1
    assert _value(samples, "flow_status", flow="orders", status="failing") == 0
    assert _value(samples, "flow_status", flow="stock", status="off") == 1
    assert _value(samples, "flow_runs_total", flow="orders") == 2
    assert _value(samples, "flow_failures_total", flow="orders") == 0
    outcomes = {"posted": 48, "excepted": 12, "ingested": 60, "alerts_sent": 12}
    for outcome, count in outcomes.items():
        assert _value(samples, "flow_outcomes_total", flow="orders", outcome=outcome) == count
    assert ("ct_prima_sync_flow_outcomes_total",
            frozenset({("flow", "orders"), ("outcome", "retrying")})) not in samples  # fmt: skip
    assert _value(samples, "flow_last_success_age_seconds", flow="orders") == 600
    assert _value(samples, "flow_last_run_duration_seconds", flow="orders") == 0
    assert _value(samples, "orders", status="done") == 48
    assert _value(samples, "orders", status="excepted") == 12
    assert _value(samples, "orders", status="new") == 0
    assert _value(samples, "order_backlog") == 0
    assert _value(samples, "orders_stalled") == 0
    assert _value(samples, "order_poll_lag_seconds") == 600
    for owner, kinds in KINDS.items():
        for kind, count in kinds.items():
            assert _value(samples, "open_exceptions", owner=owner, kind=kind) == count
        assert _value(samples, "oldest_open_exception_age_seconds", owner=owner) == 601
        assert _value(samples, "overdue_exceptions", owner=owner) == 0
    assert len([k for k in samples if k[0] == "ct_prima_sync_open_exceptions"]) == 6


@pytest.fixture
def collector(
    sqlite_store: StateStore, make_engine: EngineFactory, clock: FakeClock
) -> StoreCollector:
    engine = make_engine(sqlite_store)
    engine.sync_orders()
    clock.advance(1)
    engine.sync_orders()
    clock.advance(600)
    return StoreCollector(sqlite_store, policy=HealthPolicy(), clock=clock)


def test_metrics_scraped_over_http_after_a_scenario_run_have_the_known_values(
    collector: StoreCollector,
) -> None:
    server, thread = serve_metrics(collector, port=0)
    try:
        response = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=10)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert response.status_code == 200
    _check_scenario(_samples(response.text))


def test_the_textfile_holds_the_same_values(collector: StoreCollector, tmp_path: Path) -> None:
    folder = tmp_path / "textfiles"
    folder.mkdir()
    path = folder / "ct_prima_sync.prom"
    write_textfile(path, collector)
    _check_scenario(_samples(path.read_text(encoding="utf-8")))
    assert [p.name for p in folder.iterdir()] == ["ct_prima_sync.prom"]  # written atomically


def test_the_command_writes_the_textfile_and_serves_the_endpoint(
    sqlite_store: StateStore, make_engine: EngineFactory, tmp_path: Path
) -> None:
    make_engine(sqlite_store).sync_orders()
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    path = tmp_path / "out.prom"
    written = run_cli("metrics", "--state", url, "--textfile", str(path))
    assert (written.returncode, written.stdout) == (0, f"metrics written to {path}\n")
    samples = _samples(path.read_text(encoding="utf-8"))
    assert _value(samples, "flow_outcomes_total", flow="orders", outcome="posted") == 48

    server = subprocess.Popen(  # noqa: S603 (the command under test)
        [COMMAND, "metrics", "--state", url, "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        assert line.startswith("serving metrics at http://127.0.0.1:"), line
        address = line.split()[3]
        scraped = _samples(httpx.get(address, timeout=10).text)
        assert _value(scraped, "orders", status="done") == 48
        server.send_signal(__import__("signal").SIGTERM)
        assert server.wait(timeout=10) == 0
        assert_no_traceback(server.stderr.read())
    finally:
        server.kill()
        server.wait()


def test_without_the_extra_the_library_and_the_command_say_how_to_install_it(
    sqlite_store: StateStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'ct-prima-sync\[metrics\]'"):
        StoreCollector(sqlite_store)
    code, _, err = run_in_process("metrics", "--state", f"sqlite:///{tmp_path / 'sync.db'}")
    assert code == 2
    assert err == (
        "ct-prima-sync: error: metrics need prometheus-client: "
        "pip install 'ct-prima-sync[metrics]'\n"
    )


def test_wrong_metrics_arguments_are_one_sentence_with_exit_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    missing = run_cli("metrics", "--state", url, "--textfile", str(tmp_path / "x.prom"))
    assert missing.returncode == 2
    assert "no state at" in missing.stderr
    assert_no_traceback(missing.stderr)
    code, _, err = run_in_process("metrics", "--state", url, "--textfile", "x", "--port", "1")
    assert code == 2
    assert "argument --port: not allowed with argument --textfile" in err
