"""Logging for the command: quiet by default, ``-v`` for more, ``--log-format json`` for shippers.

Default: warnings and errors only (alerts, orders that need attention). ``-v``: the library's
progress and every request to Prima and commercetools; ``-vv``: debug, httpx's own lines too.
Each line carries the record's structured fields (``order_number=WEB-1001``): in the text
format as ``key=value`` after the message, in the JSON format as keys of one object per line.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Final, TextIO

__all__ = ["configure_logging"]

#: Attributes every LogRecord has; anything else was passed as ``extra``.
_STANDARD: Final = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime", "taskName"}
)
_HANDLER_MARK: Final = "_ct_prima_sync_cli"


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    """``<time> <LEVEL> <message> key=value ...``, one line per record."""

    def format(self, record: logging.LogRecord) -> str:
        """One line."""
        fields = " ".join(
            f"{k}={json.dumps(v, default=str) if not isinstance(v, str) else v}"
            for k, v in _extras(record).items()
            if v is not None
        )
        line = f"{_time(record)} {record.levelname} {record.getMessage()}"
        if fields:
            line += " " + fields
        if record.exc_info:
            line += " error=" + (type(record.exc_info[1]).__name__)
        return line.replace("\n", " ")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        """One JSON line."""
        entry = {
            "time": _time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_extras(record),
        }
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(stream: TextIO, *, verbosity: int, log_format: str) -> None:
    """Send log records to ``stream`` at the level ``verbosity`` asks for (0, 1, 2+)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    root.setLevel(level)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
