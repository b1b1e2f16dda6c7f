"""The exit codes of ``ct-prima-sync`` and the one place that turns an exception into one.

- 0: success.
- 1: the command ran and found problems: an order with issues, an overdue exception, a run
  stopped because Prima or commercetools did not answer, a retry that matched nothing, the state
  store failing.
- 2: usage or configuration error: bad arguments, an unreadable or invalid file, no state store
  where one was named.
- 3: a fault in ct-prima-sync itself: one line says so; ``-v`` shows the traceback to report.
- 130: interrupted (SIGINT, Ctrl-C); 143: terminated (SIGTERM).

Every known error prints one line, ``ct-prima-sync: error: <what to fix>``, on standard error.
"""

from __future__ import annotations

import traceback
from typing import Final, TextIO

from ..errors import (
    CommercetoolsError,
    ConfigurationError,
    CtPrimaSyncError,
    PrimaError,
    StateError,
    StateNotFoundError,
)

__all__ = [
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_ISSUES",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "Terminated",
    "UsageError",
    "exit_code_for",
]

EXIT_OK: Final = 0
EXIT_ISSUES: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERNAL: Final = 3
EXIT_INTERRUPTED: Final = 130
EXIT_TERMINATED: Final = 143


class UsageError(Exception):
    """A problem the user fixes on the command line or in a file: exit code 2."""


class Terminated(BaseException):
    """SIGTERM arrived outside a run that stops cleanly on its own."""


def _one_line(text: str) -> str:
    return text.strip() or "(no message)"


def exit_code_for(error: BaseException, stderr: TextIO, *, verbose: bool) -> int:
    """Print what went wrong (one sentence) and return the documented exit code."""
    prefix = "ct-prima-sync: error: "
    if isinstance(error, KeyboardInterrupt):
        stderr.write("ct-prima-sync: interrupted\n")
        return EXIT_INTERRUPTED
    if isinstance(error, Terminated):
        stderr.write("ct-prima-sync: terminated\n")
        return EXIT_TERMINATED
    if isinstance(error, UsageError | ConfigurationError | StateNotFoundError):
        stderr.write(prefix + _one_line(str(error)) + "\n")
        return EXIT_USAGE
    if isinstance(error, RecursionError):
        stderr.write(prefix + "the input is nested too deeply to read\n")
        return EXIT_USAGE
    if isinstance(error, StateError):
        stderr.write(prefix + f"the state store failed: {_one_line(str(error))}\n")
        return EXIT_ISSUES
    if isinstance(error, CommercetoolsError):
        stderr.write(prefix + f"commercetools: {_one_line(str(error))}\n")
        return EXIT_ISSUES
    if isinstance(error, PrimaError):
        stderr.write(prefix + f"Prima: {_one_line(str(error))}\n")
        return EXIT_ISSUES
    if isinstance(error, CtPrimaSyncError):
        stderr.write(prefix + f"{type(error).__name__}: {_one_line(str(error))}\n")
        return EXIT_ISSUES
    if verbose:
        traceback.print_exception(error, file=stderr)
    stderr.write(
        prefix + f"unexpected {type(error).__name__} (a fault in ct-prima-sync; run again with "
        "-v for the traceback and report it)\n"
    )
    return EXIT_INTERNAL
