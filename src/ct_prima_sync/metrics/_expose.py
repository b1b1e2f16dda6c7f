"""The two ways out: a textfile for cron jobs, an HTTP endpoint for long-running hosts."""

from __future__ import annotations

import threading
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from ._collector import StoreCollector, prometheus, registry_for

__all__ = ["serve_metrics", "write_textfile"]


def write_textfile(path: Path, collector: StoreCollector) -> None:
    """Write the metrics to ``path`` in the Prometheus text format, atomically (a temporary file
    beside it, then a rename), for node exporter's textfile collector."""
    prometheus().write_to_textfile(str(path), registry_for(collector))


def serve_metrics(
    collector: StoreCollector, *, port: int, bind: str = "127.0.0.1"
) -> tuple[WSGIServer, threading.Thread]:
    """Serve ``/metrics`` over HTTP on ``bind``:``port`` (0: a free port; the server's
    ``server_port`` says which) in a daemon thread; ``server.shutdown()`` stops it."""
    server, thread = prometheus().start_http_server(port, bind, registry_for(collector))
    return server, thread
