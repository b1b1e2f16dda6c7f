"""``serve-fakes``: both fakes on loopback ports and a settings file for them, to try ``run``
(and everything after it) offline.

The commercetools fake holds a seeded set of orders (every n-th one bad, as in the demo); the
Prima emulator speaks omlink over HTTP with the matching catalogue. The settings printed (or
written with ``--write``) point at both, keep state in ``ct-prima-sync-fakes.db`` beside the
settings file and name the fake's client secret through a file, as a real secret would be.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from ._common import add_scenario, subparser
from ._demo import MAX_ORDERS
from ._exits import EXIT_OK, UsageError
from ._signals import wait_for_signal

__all__ = ["add_serve_fakes", "inline_mapping"]

_HEADER = re.compile(r"^(\[\[?)\s*([^\]]+?)\s*(\]\]?)\s*$")


def inline_mapping(mapping_toml: str) -> str:
    """A mapping.toml's text as the ``[mapping]`` section of a settings file."""
    top: list[str] = []
    rest: list[str] = []
    in_table = False
    for line in mapping_toml.splitlines():
        match = _HEADER.match(line)
        if match:
            in_table = True
            rest.append(f"{match.group(1)}mapping.{match.group(2)}{match.group(3)}")
        elif in_table:
            rest.append(line)
        else:
            top.append(line)
    return "\n".join(["[mapping]", *top, *rest]) + "\n"


def add_serve_fakes(subparsers: Any) -> None:
    """``serve-fakes``: commercetools and Prima fakes on loopback, until stopped."""
    parser = subparser(
        subparsers,
        "serve-fakes",
        help="serve a commercetools fake and a Prima emulator on loopback and print settings "
        "for them (try `run` offline)",
        description="Serve a commercetools fake full of orders and a Prima emulator on "
        "127.0.0.1 until Ctrl-C (or SIGTERM), and print a settings file that points at them. "
        "With --write the settings go to a new file instead.",
    )
    add_scenario(parser)
    parser.add_argument(
        "--write", metavar="FILE", help="write the settings to this new file (never overwritten)"
    )
    parser.set_defaults(handler=_run_serve_fakes)


def _settings_text(
    *, ct_url: str, prima_url: str, project_key: str, client_id: str, secret_file: Path,
    since: str, mapping_toml: str,
) -> str:  # fmt: skip
    return f"""\
# Settings for the fakes served by `ct-prima-sync serve-fakes` (they stop when it stops).
[state]
url = "sqlite:///ct-prima-sync-fakes.db"     # beside this file

[commercetools]
project_key = "{project_key}"
api_url = "{ct_url}"
auth_url = "{ct_url}"
client_id = "{client_id}"
client_secret_file = "{secret_file}"

[prima]
endpoint = "{prima_url}"
rate_limit = 1000.0
burst = 50

[engine]
initial_cursor = "{since}"

{inline_mapping(mapping_toml)}"""


def _run_serve_fakes(args: argparse.Namespace, _in: TextIO, out: TextIO, err: TextIO) -> int:
    if args.orders > MAX_ORDERS:
        raise UsageError(f"--orders must be at most {MAX_ORDERS}, got {args.orders}")
    target = Path(args.write) if args.write else None
    if target is not None and (target.exists() or target.is_symlink()):
        raise UsageError(f"--write {target} exists; name a new file (nothing is overwritten)")
    from ..testing import PrimaEmulator  # noqa: PLC0415 (the fakes load only when asked for)
    from ..testing.scenario import SCENARIO_MAPPING_TOML, build_scenario  # noqa: PLC0415

    scenario = build_scenario(orders=args.orders, bad_every=args.bad_every, seed=args.seed)
    emulator = PrimaEmulator(scenario.world)
    with ExitStack() as stack:
        secrets = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ct-prima-fakes-")))
        secret_file = secrets / "commercetools-client-secret"
        secret_file.write_text(scenario.commercetools.client_secret, encoding="utf-8")
        secret_file.chmod(0o600)
        ct_url = stack.enter_context(scenario.commercetools.serve())
        prima_url = stack.enter_context(emulator.serve())
        text = _settings_text(
            ct_url=ct_url,
            prima_url=prima_url,
            project_key=scenario.commercetools.project_key,
            client_id=scenario.commercetools.client_id,
            secret_file=secret_file,
            since=(scenario.first_order_at - timedelta(days=1)).isoformat(),
            mapping_toml=SCENARIO_MAPPING_TOML,
        )
        if target is not None:
            target.write_text(text, encoding="utf-8")
        else:
            out.write(text)
            out.flush()

        def announce() -> None:
            err.write(
                f"serving a commercetools fake at {ct_url} ({args.orders} orders, "
                f"{len(scenario.bad)} of them bad) and a Prima emulator at {prima_url}"
                + (f"; settings in {target}" if target else "")
                + ". Ctrl-C stops both.\n"
            )
            err.flush()

        wait_for_signal(announce)
        err.write("stopped serving the fakes\n")
    return EXIT_OK
