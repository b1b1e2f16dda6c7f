"""``demo``: the whole order flow on SQLite and the bundled fakes, with nothing to set up.

It never touches an existing file: without ``--database`` it picks a fresh name in the working
directory (``ct-prima-sync-demo.db``, ``ct-prima-sync-demo-1.db``, ...), and a ``--database``
that exists is refused.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TextIO

from ._common import add_scenario, subparser
from ._exits import UsageError
from ._signals import stopping_cleanly

__all__ = ["add_demo", "fresh_database"]

MAX_ORDERS: Final = 100_000
_DEFAULT_NAME: Final = "ct-prima-sync-demo"


def fresh_database(directory: Path) -> Path:
    """The first of ``ct-prima-sync-demo.db``, ``ct-prima-sync-demo-1.db``, ... not taken."""
    candidate = directory / f"{_DEFAULT_NAME}.db"
    n = 0
    while _taken(candidate):
        n += 1
        candidate = directory / f"{_DEFAULT_NAME}-{n}.db"
    return candidate


def _taken(path: Path) -> bool:
    return any(
        p.exists() or p.is_symlink()
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
    )


def add_demo(subparsers: Any) -> None:
    """``demo``: seed the fakes, sync, report."""
    parser = subparser(
        subparsers,
        "demo",
        help="run the order sync end to end on SQLite and the bundled fakes (no setup)",
        description=(
            "Seed a commercetools fake with orders (some deliberately bad) and a Prima emulator "
            "with the matching catalogue, run one full order sync with SQLite state in a new "
            "file, and report what was posted and what waits in the exception queue, and why. "
            "Exit code 0 when every good order reached Prima exactly once."
        ),
    )
    parser.add_argument(
        "--database",
        metavar="FILE",
        help="a new SQLite file to keep the state in (default: a fresh "
        "ct-prima-sync-demo[-N].db here); an existing file is never touched",
    )
    add_scenario(parser)
    parser.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace, _in: TextIO, out: TextIO, err: TextIO) -> int:
    if args.orders > MAX_ORDERS:
        raise UsageError(f"--orders must be at most {MAX_ORDERS}, got {args.orders}")
    if args.database is None:
        database = fresh_database(Path.cwd())
    else:
        database = Path(args.database)
        if _taken(database):
            what = "a directory" if database.is_dir() else "a file that exists"
            raise UsageError(
                f"--database {database} is {what}; the demo never overwrites anything: name a "
                "new file, or leave --database out for a fresh one"
            )
        if not database.parent.is_dir():
            raise UsageError(f"--database {database}: the folder {database.parent} does not exist")
    if args.verbose == 0:  # the report below lists every problem: no log line for each
        logging.getLogger("ct_prima_sync").setLevel(logging.ERROR)
    # The demo pulls in the fakes and emulators: load them only when asked for.
    from ._demo_run import run_demo  # noqa: PLC0415

    hooks: list[Callable[[], None]] = []

    def stop_all() -> None:
        for hook in hooks:
            hook()

    with stopping_cleanly(stop_all, err) as stop:
        code = run_demo(
            database=database,
            orders=args.orders,
            bad_every=args.bad_every,
            seed=args.seed,
            out=out,
            on_engine=hooks.append,
        )
    return stop.exit_code if stop.exit_code is not None else code
