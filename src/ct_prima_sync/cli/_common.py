"""What the commands share: finding the settings and the state store, common options."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ..settings import Settings, find_settings, load_settings
from ..state import Owner, StateStore, open_store
from ._exits import UsageError

__all__ = [
    "add_format",
    "add_settings",
    "add_state",
    "load",
    "now",
    "open_state",
    "owner",
    "positive_int",
]


def now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


def add_settings(parser: argparse.ArgumentParser) -> None:
    """``--config FILE`` (else ``$CT_PRIMA_SYNC_CONFIG``, else ``./ct-prima-sync.toml``)."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="settings file (default: $CT_PRIMA_SYNC_CONFIG, else ./ct-prima-sync.toml)",
    )


def add_state(parser: argparse.ArgumentParser) -> None:
    """``--config FILE`` or ``--state URL``: the queue commands need only the state store."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--config",
        metavar="FILE",
        help="settings file whose [state] is used (default: $CT_PRIMA_SYNC_CONFIG, else "
        "./ct-prima-sync.toml)",
    )
    where.add_argument("--state", metavar="URL", help="state store URL, e.g. sqlite:///sync.db")


def add_format(parser: argparse.ArgumentParser) -> None:
    """``--format table|json``."""
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (default): for people; json: for programs",
    )


def load(args: argparse.Namespace) -> Settings:
    """The settings file the arguments and environment name, validated."""
    return load_settings(find_settings(getattr(args, "config", None), os.environ, Path.cwd()))


def open_state(args: argparse.Namespace, *, create: bool) -> StateStore:
    """The state store of ``--state`` or the settings; ``create=False`` refuses a missing one."""
    url = getattr(args, "state", None) or load(args).state_url
    return open_store(url, create=create)


def owner(value: str | None) -> Owner | None:
    """An ``--owner`` argument."""
    return Owner(value) if value else None


def _whole_number(text: str, minimum: int, rule: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{rule}, got {value}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    return _whole_number(text, 1, "must be at least 1")


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number of at least 0."""
    return _whole_number(text, 0, "must not be negative")


def add_scenario(parser: argparse.ArgumentParser) -> None:
    """``--orders``, ``--bad-every``, ``--seed``: the generated world of the demo and the fakes."""
    parser.add_argument("--orders", type=positive_int, default=300, help="how many orders (300)")
    parser.add_argument(
        "--bad-every",
        type=non_negative_int,
        default=25,
        help="every n-th order is bad (25; 0: none)",
    )
    parser.add_argument("--seed", type=non_negative_int, default=0)


def require(condition: object, message: str) -> None:
    """Raise a usage error (exit 2) unless ``condition`` holds."""
    if not condition:
        raise UsageError(message)


def subparser(subparsers: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    """Add a subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(name, **kwargs)
    return parser


def moment(text: str) -> datetime:
    """An argparse type: an ISO 8601 time with its offset, or a date (midnight UTC)."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date (2026-01-31) or a time with its offset "
            f"(2026-01-31T08:00:00+00:00), got {text!r}"
        ) from None
    if value.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"give the time's offset, e.g. {text}+00:00 (a time without one means different "
            "moments on different machines)"
        )
    return value
