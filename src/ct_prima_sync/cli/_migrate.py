"""``migrate``: bring a state store up to date, and after a restore, ask Prima before re-sending.

Thin over :func:`ct_prima_sync.state.migrate_state` and
:meth:`ct_prima_sync.engine.SyncEngine.verify_against_prima`.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, TextIO

from ..commercetools import CommercetoolsClient
from ..engine import SyncEngine, VerifyReport, request_budget
from ..prima import OmlinkClient
from ..settings import Settings
from ..state import StateStore, installation_secret, migrate_state
from ._common import add_format, add_state, load, now, open_state, require, subparser
from ._exits import EXIT_OK, UsageError
from ._output import write_json

__all__ = ["add_migrate"]


def add_migrate(subparsers: Any) -> None:
    """``migrate``: schema and data migrations; ``--verify-against-prima`` after a restore."""
    parser = subparser(
        subparsers,
        "migrate",
        help="bring the state store up to date; after restoring a backup, ask Prima first",
        description="Apply the state store's missing schema migrations and rewrite what needs "
        "the installation secret (guest customers' keys of earlier versions). With "
        "--verify-against-prima (after restoring a backup, with the sync stopped): poll "
        "commercetools, then ask Prima about every order the state thinks is unsent and "
        "record those Prima already has, so the next run sends none of them again.",
    )
    add_state(parser)
    parser.add_argument(
        "--verify-against-prima",
        action="store_true",
        help="ask Prima about unsent orders and record those it has (needs the settings file)",
    )
    parser.add_argument(
        "--older-than",
        type=float,
        metavar="SECONDS",
        help="only orders placed at least this long ago (default: [engine] "
        "verify_older_than_seconds, 0: every unsent order)",
    )
    add_format(parser)
    parser.set_defaults(handler=_run_migrate)


def _run_migrate(args: argparse.Namespace, _in: TextIO, out: TextIO, _err: TextIO) -> int:
    require(
        not (args.verify_against_prima and args.state),
        "--verify-against-prima needs the settings file (--config), not --state",
    )
    require(args.older_than is None or args.older_than >= 0, "--older-than must not be negative")
    settings = None if args.state else load(args)
    secret = installation_secret(
        settings.engine.customer_key_secret if settings else None, os.environ
    )
    with open_state(args, create=False) as store:
        migration = migrate_state(store, customer_key_secret=secret, now=now())
        verified = (
            _verify(settings, store, args.older_than)
            if args.verify_against_prima and settings
            else None
        )
    result: dict[str, Any] = {
        **migration.as_dict(),
        "verify": None if verified is None else verified.as_dict(),
    }
    if args.format == "json":
        write_json(result, out)
        return EXIT_OK
    out.write(
        f"state schema: version {migration.schema_to} (was {migration.schema_from})\n"
        f"guest customer keys rewritten with the installation secret: "
        f"{migration.guest_keys_rewritten}\n"
    )
    if verified is not None:
        out.write(
            f"asked Prima about {verified.checked} unsent order(s): {verified.in_prima} already "
            f"in Prima (recorded; the next run only writes their reference back), "
            f"{verified.not_in_prima} not (the next run sends them); "
            f"{verified.waiting_for_a_person} wait in the exception queue; "
            f"{verified.too_recent} too recent to ask about\n"
        )
    return EXIT_OK


def _verify(settings: Settings, store: StateStore, older_than: float | None) -> VerifyReport:
    ct_config, prima_config, mapping = settings.commercetools, settings.prima, settings.mapping
    if ct_config is None or prima_config is None or mapping is None:
        raise UsageError(
            "--verify-against-prima needs [commercetools], [prima] and [mapping] in the settings"
        )
    budget = request_budget(store, prima_config)  # shared with any worker already running
    with (
        CommercetoolsClient(ct_config) as commercetools,
        OmlinkClient(prima_config, flow=budget) as prima,
    ):
        engine = SyncEngine(
            commercetools=commercetools,
            prima=prima,
            store=store,
            mapping=mapping,
            config=settings.engine,
        )
        return engine.verify_against_prima(older_than_seconds=older_than)
