"""What the paged-poll tests share: 23 orders (pages of 5, 5, 5, 5, 3) and a crash to raise."""

from __future__ import annotations

__all__ = ["ORDERS", "PAGE", "CrashError"]

ORDERS = 23
PAGE = 5


class CrashError(Exception):
    """The process dying at this point."""
