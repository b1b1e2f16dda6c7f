"""The ``[postings]`` settings: what the finance batches post, in which timezone, and where to.

docs/finance.md explains each setting for the finance team.
"""

from __future__ import annotations

import enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import field, frozen

from ..errors import ConfigurationError
from ..mapping import PostingAccounts, PostingMode
from ..prima import JournalCsvFormat

__all__ = ["PostingBasis", "PostingSink", "PostingsConfig"]


class PostingBasis(enum.StrEnum):
    """Which day decides an order's period."""

    PAYMENT = "payment"
    """The day each payment transaction happened (the settlement mode's default)."""
    DESPATCH = "despatch"
    """The day Prima first despatched goods of the order, from the dispatch flow (the revenue
    mode's default: when the sale is recognised)."""
    CREATED = "created"
    """The day the order was placed in commercetools."""


class PostingSink(enum.StrEnum):
    """Where a closed batch goes."""

    CSV = "csv"
    """An import file per batch in ``directory`` (the default; Prima's finance import reads it)."""
    JOURNAL = "journal"
    """The Prima gateway's journal request (only where the installation has one)."""


def _zone(_instance: object, _attribute: object, value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            f"postings.timezone {value!r} is not a timezone name such as Europe/London"
        ) from None


def _positive(_instance: object, _attribute: object, value: int) -> None:
    if isinstance(value, bool) or value < 1:
        raise ConfigurationError(f"postings.lookback_days must be at least 1, got {value!r}")


@frozen(kw_only=True)
class PostingsConfig:
    """``[postings]``: the finance batches of :meth:`SyncEngine.post_batches`.

    ``mode``: ``settlement`` (money taken per provider, the default) or ``revenue`` (a summary
    journal, where Prima does not invoice web orders itself). ``timezone``: the business's
    timezone, which decides "which day" (and so month-end). ``basis``: which day puts an order in
    a period (default: payment for settlement, despatch for revenue). ``sink`` and ``directory``:
    where batches go (CSV import files by default). ``lookback_days``: how far back (by the
    ledger's date) a close looks for refunds and cancellations of earlier orders.
    ``accounts``: ``[postings.accounts]``, the account codes. ``csv``: ``[postings.csv]``, the
    import file's layout.
    """

    mode: PostingMode = PostingMode.SETTLEMENT
    timezone: str = field(default="UTC", validator=_zone)
    basis: PostingBasis | None = None
    sink: PostingSink = PostingSink.CSV
    directory: str = "postings"
    lookback_days: int = field(default=62, validator=_positive)
    accounts: PostingAccounts = field(factory=PostingAccounts)
    csv: JournalCsvFormat = field(factory=JournalCsvFormat)

    def __attrs_post_init__(self) -> None:
        if self.mode is PostingMode.SETTLEMENT and self.basis is PostingBasis.DESPATCH:
            raise ConfigurationError(
                "postings.basis despatch is for the revenue mode: settlement posts money when "
                "it is taken (payment) or when the order is placed (created)"
            )

    @property
    def zone(self) -> ZoneInfo:
        """The business's timezone."""
        return ZoneInfo(self.timezone)

    @property
    def effective_basis(self) -> PostingBasis:
        """``basis``, or the mode's default."""
        if self.basis is not None:
            return self.basis
        if self.mode is PostingMode.SETTLEMENT:
            return PostingBasis.PAYMENT
        return PostingBasis.DESPATCH
