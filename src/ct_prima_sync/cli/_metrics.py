"""``metrics``: Prometheus metrics from the state store, as an HTTP endpoint or a textfile; and
the textfile ``run`` rewrites after each pass when ``[metrics] textfile`` is set.

Needs the ``metrics`` extra (``pip install 'ct-prima-sync[metrics]'``); without it the command
says so (exit 2). The names are in docs/monitoring.md.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any, TextIO

from ..engine import EngineConfig, HealthPolicy
from ..metrics import StoreCollector, serve_metrics, write_textfile
from ..metrics._collector import prometheus
from ..settings import Settings
from ..state import StateStore, open_store
from ._common import add_state, load, non_negative_int, open_state, subparser
from ._exits import EXIT_OK, UsageError
from ._signals import wait_for_signal

__all__ = ["add_metrics", "check_textfile", "write_run_metrics"]

_log = logging.getLogger("ct_prima_sync.cli")


def check_textfile(path: Path) -> None:
    """Refuse, before any work, a textfile that cannot be written or a missing extra."""
    prometheus()
    if not path.parent.is_dir():
        raise UsageError(f"[metrics] textfile {path}: the folder {path.parent} does not exist")


def _collector(store: StateStore, settings: Settings | None) -> StoreCollector:
    engine = settings.engine if settings is not None else EngineConfig()
    return StoreCollector(
        store,
        policy=settings.health_policy if settings is not None else HealthPolicy(),
        escalate_after_seconds=engine.retry.escalate_after_seconds,
        cursor_name=engine.cursor_name,
    )


def write_run_metrics(settings: Settings, path: Path, err: TextIO) -> None:
    """After a run: rewrite the textfile. A failure is logged, never fails the run."""
    try:
        with open_store(settings.state_url, busy_timeout=settings.state.busy_timeout) as store:
            write_textfile(path, _collector(store, settings))
    except Exception as error:
        _log.error("metrics textfile %s not written: %s", path, type(error).__name__)
        err.write(f"ct-prima-sync: warning: metrics textfile {path} not written\n")


def add_metrics(subparsers: Any) -> None:
    """``metrics``: serve the metrics over HTTP, or write them to a textfile once."""
    parser = subparser(
        subparsers,
        "metrics",
        help="Prometheus metrics from the state store: serve /metrics, or write a textfile",
        description="Serve Prometheus metrics read from the state store at every scrape (until "
        "Ctrl-C or SIGTERM), or with --textfile write them once for node exporter's textfile "
        "collector and exit. Needs the metrics extra: pip install 'ct-prima-sync[metrics]'.",
    )
    add_state(parser)
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--textfile", metavar="FILE", help="write the metrics to FILE and exit")
    out.add_argument(
        "--port",
        type=non_negative_int,
        metavar="N",
        help="serve on this port (default [metrics] port, 9464; 0: any free port)",
    )
    parser.add_argument(
        "--bind", metavar="ADDRESS", help="serve on this address (default [metrics] bind, "
        "127.0.0.1; 0.0.0.0 for every interface)"
    )  # fmt: skip
    parser.set_defaults(handler=_run_metrics)


def _run_metrics(args: argparse.Namespace, _in: TextIO, out: TextIO, err: TextIO) -> int:
    prometheus()
    settings = None if args.state else load(args)
    if args.port is not None and args.port > 65535:
        raise UsageError(f"--port must be at most 65535, got {args.port}")
    with open_state(args, create=False) as store:
        collector = _collector(store, settings)
        if args.textfile:
            path = Path(args.textfile)
            check_textfile(path)
            write_textfile(path, collector)
            out.write(f"metrics written to {path}\n")
            return EXIT_OK
        port = args.port if args.port is not None else settings.metrics.port if settings else 9464
        bind = args.bind or (settings.metrics.bind if settings else "127.0.0.1")
        try:
            server, thread = serve_metrics(collector, port=port, bind=bind)
        except OSError as error:
            raise UsageError(f"cannot serve on {bind}:{port}: {error.strerror or error}") from None

        def announce() -> None:
            err.write(
                f"serving metrics at http://{bind}:{server.server_port}/metrics "
                "(read from the state store at every scrape). Ctrl-C stops.\n"
            )
            err.flush()

        try:
            wait_for_signal(announce)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        err.write("stopped serving metrics\n")
    return EXIT_OK
