"""``test-alerts``: send one test alert down every owner's route, to check the routing before a
real problem needs it."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..engine import Alert, AlertLevel, RoutingNotifier
from ..state import Owner
from ._common import add_settings, load, owner, subparser
from ._exits import EXIT_ISSUES, EXIT_OK

__all__ = ["add_test_alerts"]


def add_test_alerts(subparsers: Any) -> None:
    """``test-alerts``: a test alert for each owner (or one) through its channels."""
    parser = subparser(
        subparsers,
        "test-alerts",
        help="send a test alert down each owner's route ([alerts]): webhook, e-mail, log",
        description="Send one test alert (kind TEST_ALERT, no order) to each owner's channels "
        "as [alerts] in the settings file routes them, and say which arrived. Exit code 1 when "
        "a channel failed.",
    )
    add_settings(parser)
    parser.add_argument("--owner", choices=[str(o) for o in Owner], help="only this owner")
    parser.set_defaults(handler=_run_test_alerts)


def _run_test_alerts(args: argparse.Namespace, _in: TextIO, out: TextIO, _err: TextIO) -> int:
    settings = load(args)
    routes = settings.alerts
    notifier = routes.notifier() if routes is not None else RoutingNotifier({})
    failed = 0
    chosen = [owner(args.owner)] if args.owner else list(Owner)
    for team in chosen:
        assert team is not None
        alert = Alert(
            owner=team,
            level=AlertLevel.NEW,
            kind="TEST_ALERT",
            exception_id=0,
            order_id=None,
            occurrences=1,
            message="a test alert from ct-prima-sync test-alerts: nothing is wrong",
        )
        for channel in notifier.channels(team):
            name = str(getattr(channel, "channel", type(channel).__name__))
            try:
                channel.notify(alert)
            except Exception as error:
                failed += 1
                reason = str(error) if hasattr(error, "failed") else type(error).__name__
                out.write(f"{team}: {name}: FAILED ({reason})\n")
            else:
                out.write(f"{team}: {name}: sent\n")
    return EXIT_ISSUES if failed else EXIT_OK
