"""Journal batches as CSV import files for Prima's finance side: the alternative to post_journal.

The layout is configuration (:class:`JournalCsvFormat`): which columns in which order, their
header names, the delimiter, the date format and the decimal separator. Amounts are written exactly
from integer minor units with the currency's fraction digits; a batch whose lines do not balance
(sum to zero) is refused. :class:`JournalCsvSink` writes one file per batch id, atomically, and is
idempotent: a batch whose file already exists is reported as a duplicate and not written again.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Final, TextIO

from attrs import field, frozen

from ..errors import ConfigurationError, PayloadError
from ..money import Money
from ._models import JournalBatch, JournalLine, JournalPostingResult

__all__ = ["JOURNAL_COLUMNS", "JournalCsvFormat", "JournalCsvSink", "write_journal_csv"]

JOURNAL_COLUMNS: Final = (
    "batch_id",
    "posting_date",
    "currency",
    "line_number",
    "account",
    "amount",
    "debit",
    "credit",
    "description",
    "reference",
    "tax_code",
    "batch_description",
)
"""Every column a format can use: ``amount`` is signed (debit positive); ``debit`` and ``credit``
are the unsigned halves (one of them empty)."""

_SAFE_NAME: Final = re.compile(r"[^A-Za-z0-9._-]")


def _check_columns(_: object, __: object, value: tuple[str, ...]) -> None:
    unknown = [c for c in value if c not in JOURNAL_COLUMNS]
    if unknown or not value:
        raise ConfigurationError(
            f"journal CSV columns must be a non-empty choice of {', '.join(JOURNAL_COLUMNS)}"
        )


@frozen(kw_only=True)
class JournalCsvFormat:
    """The layout of a journal import file (check it against the installation's import spec)."""

    columns: tuple[str, ...] = field(
        default=(
            "batch_id",
            "posting_date",
            "account",
            "debit",
            "credit",
            "currency",
            "description",
            "reference",
            "tax_code",
        ),
        validator=_check_columns,
    )
    headers: Mapping[str, str] = field(factory=dict)
    """Header text per column (default: the column name); ``include_header`` False for none."""
    include_header: bool = True
    delimiter: str = ","
    date_format: str = "%d/%m/%Y"
    decimal_separator: str = "."
    line_terminator: str = "\r\n"
    encoding: str = "utf-8"

    def __attrs_post_init__(self) -> None:
        if len(self.delimiter) != 1 or self.delimiter in '"\r\n':
            raise ConfigurationError("delimiter must be one character other than a quote/newline")
        if self.decimal_separator not in (".", ","):
            raise ConfigurationError("decimal_separator must be '.' or ','")
        if self.decimal_separator == self.delimiter:
            raise ConfigurationError("decimal_separator and delimiter must differ")
        unknown = set(self.headers) - set(JOURNAL_COLUMNS)
        if unknown:
            raise ConfigurationError(f"headers name unknown columns: {sorted(unknown)}")


def _amount(amount: Money, separator: str) -> str:
    text = f"{amount.to_decimal():.{amount.fraction_digits}f}"
    return text.replace(".", separator) if separator != "." else text


def _check_balanced(batch: JournalBatch) -> None:
    if not batch.lines:
        raise PayloadError("a journal batch needs at least one line", path="lines")
    for index, line in enumerate(batch.lines):
        if line.amount.currency != batch.currency:
            raise PayloadError("line currency differs from the batch", path=f"lines[{index}]")
    if sum(line.amount.minor_units for line in batch.lines) != 0:
        raise PayloadError("journal lines must balance (sum to zero)", path="lines")


def _row(batch: JournalBatch, number: int, line: JournalLine, fmt: JournalCsvFormat) -> list[str]:
    amount = line.amount
    values = {
        "batch_id": batch.batch_id,
        "posting_date": batch.posting_date.strftime(fmt.date_format),
        "currency": batch.currency,
        "line_number": str(number),
        "account": line.account,
        "amount": _amount(amount, fmt.decimal_separator),
        "debit": _amount(amount, fmt.decimal_separator) if amount.minor_units > 0 else "",
        "credit": _amount(-amount, fmt.decimal_separator) if amount.minor_units < 0 else "",
        "description": line.description,
        "reference": line.reference,
        "tax_code": line.tax_code,
        "batch_description": batch.description,
    }
    return [values[column] for column in fmt.columns]


def write_journal_csv(batch: JournalBatch, stream: TextIO, fmt: JournalCsvFormat) -> None:
    """Write ``batch`` to ``stream`` (open it with ``newline=""``) in ``fmt``'s layout."""
    _check_balanced(batch)
    writer = csv.writer(stream, delimiter=fmt.delimiter, lineterminator=fmt.line_terminator)
    if fmt.include_header:
        writer.writerow([fmt.headers.get(column, column) for column in fmt.columns])
    for number, line in enumerate(batch.lines, start=1):
        writer.writerow(_row(batch, number, line, fmt))


class JournalCsvSink:
    """Writes each batch to ``<directory>/<prefix><batch_id>.csv`` for Prima's finance import.

    Has the shape of ``PrimaGateway.post_journal``: a host can route postings here instead.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        fmt: JournalCsvFormat | None = None,
        *,
        prefix: str = "journal-",
    ) -> None:
        self.directory = Path(directory)
        self.format = fmt or JournalCsvFormat()
        self.prefix = prefix

    def path_for(self, batch_id: str) -> Path:
        """Where a batch's file goes (the batch id made safe for a file name)."""
        safe = _SAFE_NAME.sub("_", batch_id)
        return self.directory / f"{self.prefix}{safe}.csv"

    def post_journal(self, batch: JournalBatch) -> JournalPostingResult:
        """Write the batch's file unless it exists; ``duplicate`` when it did."""
        target = self.path_for(batch.batch_id)
        if target.exists():
            return JournalPostingResult(
                batch_id=batch.batch_id, prima_reference=target.name, duplicate=True
            )
        buffer = io.StringIO(newline="")
        write_journal_csv(batch, buffer, self.format)
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".csv")
        try:
            with os.fdopen(handle, "w", encoding=self.format.encoding, newline="") as out:
                out.write(buffer.getvalue())
            try:
                os.link(temp, target)  # fails if another writer got there first
            except FileExistsError:
                return JournalPostingResult(
                    batch_id=batch.batch_id, prima_reference=target.name, duplicate=True
                )
        finally:
            os.unlink(temp)
        return JournalPostingResult(batch_id=batch.batch_id, prima_reference=target.name)
