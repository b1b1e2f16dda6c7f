"""The ``ct-prima-sync`` console script.

Importing the command line loads the whole engine, which takes a moment: a Ctrl-C in that
moment arrives before ``cli.main`` turns interrupts into exit code 130. This module imports
nothing heavy itself, so it can answer such an interrupt the same way (one line, 130) instead of
a Python traceback.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

#: ``cli.EXIT_INTERRUPTED``, repeated here because importing it is what may be interrupted.
_EXIT_INTERRUPTED = 130


def main() -> int:
    """Run ``ct-prima-sync``; its exit code."""
    try:
        from .cli import main as run_command_line  # noqa: PLC0415 (the import is what is guarded)
    except KeyboardInterrupt:
        sys.stderr.write("ct-prima-sync: interrupted\n")
        return _EXIT_INTERRUPTED
    return run_command_line()
