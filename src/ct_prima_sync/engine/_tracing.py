"""OpenTelemetry spans for each run and each order, when ``opentelemetry-api`` is installed (the
``otel`` extra); without it every call here does nothing and costs next to nothing.

Spans carry the flow, order number, order id, attempt and outcome; never personal data. The
host configures the exporter (``opentelemetry-sdk``, OTLP, ...) as it does for its own spans: the
library only uses the global tracer provider. Order spans run on the engine's worker threads;
each is made a child of its run's span explicitly, since context does not follow work into a
thread pool by itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

__all__ = ["Span", "span", "start_span", "tracing_available"]

_UNSET: Final = object()
_tracer: Any = _UNSET
_trace: Any = None  # the ``opentelemetry.trace`` module, once ``_get_tracer`` found it


def _get_tracer() -> Any:
    global _tracer, _trace  # noqa: PLW0603 (one lazily looked-up tracer per process)
    if _tracer is _UNSET:
        try:
            from opentelemetry import trace  # noqa: PLC0415 (an optional extra)
        except ImportError:
            _tracer = None
        else:
            from .. import __version__  # noqa: PLC0415

            _trace = trace
            _tracer = trace.get_tracer("ct_prima_sync", __version__)
    return _tracer


def _recording_tracer() -> Any:
    """The tracer, or None while its spans could record nothing: without the API, or while the
    host has configured no tracer provider (the API then hands out non-recording spans, which
    still cost CPU on every order). The check is made for every span, so a provider the host
    sets later is used from then on."""
    tracer = _get_tracer()
    if tracer is None or _trace is None:
        return tracer
    if isinstance(_trace.get_tracer_provider(), _trace.ProxyTracerProvider):
        return None
    return tracer


def tracing_available() -> bool:
    """True when ``opentelemetry-api`` is installed (spans are then made)."""
    return _get_tracer() is not None


class Span:
    """A span in progress (or a stand-in that ignores everything when tracing is off)."""

    def __init__(self, otel_span: Any = None) -> None:
        self._span = otel_span

    def set(self, **attributes: str | int | float | bool | None) -> None:
        """Set attributes (``ct_prima_sync.`` is prefixed to each name; None values skipped)."""
        if self._span is None:
            return
        for name, value in attributes.items():
            if value is not None:
                self._span.set_attribute(f"ct_prima_sync.{name}", value)

    def error(self, description: str) -> None:
        """Mark the span as failed."""
        if self._span is None:
            return
        from opentelemetry.trace import Status, StatusCode  # noqa: PLC0415

        self._span.set_status(Status(StatusCode.ERROR, description))

    def end(self) -> None:
        """End a span of :func:`start_span` (from any thread)."""
        if self._span is not None:
            self._span.end()

    @property
    def context(self) -> Any:
        """The context that makes a span started in another thread a child of this one."""
        if self._span is None:
            return None
        from opentelemetry import trace  # noqa: PLC0415

        return trace.set_span_in_context(self._span)


@contextmanager
def span(
    name: str, *, parent: Any = None, **attributes: str | int | float | bool | None
) -> Iterator[Span]:
    """A span named ``name`` around the block; ``parent`` is another span's :attr:`Span.context`
    (default: the current span of this thread)."""
    tracer = _recording_tracer()
    if tracer is None:
        yield Span()
        return
    with tracer.start_as_current_span(name, context=parent) as otel_span:
        handle = Span(otel_span)
        handle.set(**attributes)
        yield handle


def start_span(
    name: str, *, parent: Any = None, **attributes: str | int | float | bool | None
) -> Span:
    """A span named ``name`` started now and ended by :meth:`Span.end`, from any thread (an
    order's span opens as it is prepared and ends once its batched request is answered); it is
    not made the thread's current span; a stand-in while no span could record (see
    :func:`span`)."""
    tracer = _recording_tracer()
    if tracer is None:
        return Span()
    handle = Span(tracer.start_span(name, context=parent))
    handle.set(**attributes)
    return handle
