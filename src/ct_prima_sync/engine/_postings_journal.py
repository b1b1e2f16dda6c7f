"""A batch's journal as the JSON the store keeps, so a retry sends exactly what was closed."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from ..errors import StateError
from ..money import Money
from ..prima import JournalBatch, JournalLine

__all__ = ["journal_from_json", "journal_to_json"]


def journal_to_json(journal: JournalBatch) -> str:
    """The journal as compact JSON (amounts in minor units)."""
    digits = journal.lines[0].amount.fraction_digits if journal.lines else 0
    return json.dumps(
        {
            "batch_id": journal.batch_id,
            "posting_date": journal.posting_date.isoformat(),
            "currency": journal.currency,
            "fraction_digits": digits,
            "description": journal.description,
            "lines": [
                [
                    line.account,
                    line.amount.minor_units,
                    line.description,
                    line.reference,
                    line.tax_code,
                ]
                for line in journal.lines
            ],
        },
        separators=(",", ":"),
    )


def journal_from_json(text: str) -> JournalBatch:
    """The journal a batch was closed with; :class:`StateError` if the stored text is damaged."""
    try:
        data: dict[str, Any] = json.loads(text)
        currency, digits = data["currency"], int(data["fraction_digits"])
        return JournalBatch(
            batch_id=data["batch_id"],
            posting_date=date.fromisoformat(data["posting_date"]),
            currency=currency,
            description=data["description"],
            lines=tuple(
                JournalLine(
                    account=account,
                    amount=Money.of(int(units), currency, digits),
                    description=description,
                    reference=reference,
                    tax_code=tax_code,
                )
                for account, units, description, reference, tax_code in data["lines"]
            ),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise StateError(f"the stored journal of a posting batch is damaged: {exc}") from None
