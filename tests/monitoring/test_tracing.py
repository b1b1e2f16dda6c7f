"""OpenTelemetry: one span per run and one per order (its child, though orders are worked on a
thread pool), with the order number and outcome and no personal data; nothing without the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ct_prima_sync.engine import _tracing
from ct_prima_sync.state import StateStore
from ct_prima_sync.testing.scenario import SyncScenario

from .conftest import EngineFactory

_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def test_each_run_and_each_order_is_a_span_with_its_outcome(
    spans: InMemorySpanExporter,
    sqlite_store: StateStore,
    make_engine: EngineFactory,
    scenario: SyncScenario,
) -> None:
    summary = make_engine(sqlite_store, concurrency=4).sync_orders()
    finished = spans.get_finished_spans()
    (run,) = [s for s in finished if s.name == "ct_prima_sync.run"]
    orders = [s for s in finished if s.name == "ct_prima_sync.order"]
    assert run.attributes is not None
    assert run.attributes["ct_prima_sync.flow"] == "orders"
    assert run.attributes["ct_prima_sync.posted"] == summary.posted == 48
    assert run.attributes["ct_prima_sync.excepted"] == 12
    assert len(orders) == 60
    assert {s.parent.span_id for s in orders if s.parent} == {run.context.span_id}
    assert {s.context.trace_id for s in orders} == {run.context.trace_id}
    outcomes = {
        str(s.attributes["ct_prima_sync.order_number"]): s.attributes["ct_prima_sync.outcome"]
        for s in orders
        if s.attributes
    }
    assert outcomes == {
        **dict.fromkeys(scenario.good, "posted"),
        **dict.fromkeys(scenario.bad, "excepted"),
    }
    text = repr([dict(s.attributes or {}) for s in finished])
    assert "@" not in text
    assert "Example" not in text


def test_without_opentelemetry_nothing_is_traced_and_runs_go_on(
    monkeypatch: pytest.MonkeyPatch,
    spans: InMemorySpanExporter,
    sqlite_store: StateStore,
    make_engine: EngineFactory,
) -> None:
    monkeypatch.setattr(_tracing, "_tracer", None)
    assert not _tracing.tracing_available()
    assert make_engine(sqlite_store).sync_orders(max_orders=5).processed == 5
    assert spans.get_finished_spans() == ()


def test_no_span_is_made_until_the_host_configures_a_tracer_provider(
    monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter
) -> None:
    configured = trace.get_tracer_provider()
    monkeypatch.setattr(trace, "get_tracer_provider", trace.ProxyTracerProvider)
    with _tracing.span("ct_prima_sync.order", order_number="100001") as unrecorded:
        assert unrecorded.context is None
    started = _tracing.start_span("ct_prima_sync.order", order_number="100003")
    assert started.context is None  # a stand-in, as span's: no non-recording span per order
    started.end()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: configured)
    with _tracing.span("ct_prima_sync.order", order_number="100002") as recorded:
        assert recorded.context is not None
    assert [
        s.attributes["ct_prima_sync.order_number"]
        for s in spans.get_finished_spans()
        if s.attributes
    ] == ["100002"]
