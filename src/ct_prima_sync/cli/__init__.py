"""The ``ct-prima-sync`` command: operators' and iPaaS entry points over the public API.

One module per command group: ``_runs`` (``run``: one pass of each sync flow), ``_queue``
(``exceptions``, ``retry``, ``resolve``), ``_orders`` (``order``, ``map-order``), ``_reports``
(``health``), ``_demo`` (``demo``), ``_fakes`` (``serve-fakes``), ``_prima`` (``prima probe``).
Each declares its subcommands with an ``add_<name>(subparsers)`` function listed in
:data:`COMMANDS`; ``_app.main`` builds the parser and is the one place where exceptions become
the exit codes of ``_exits`` (docs/cli.md).
"""

from ._app import COMMANDS, build_parser, main
from ._exits import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_ISSUES,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
)

__all__ = [
    "COMMANDS",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_ISSUES",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "build_parser",
    "main",
]
