"""Journal batches as CSV import files: exact amounts, configurable layout, idempotent sink."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ct_prima_sync.errors import ConfigurationError, PayloadError
from ct_prima_sync.money import Money
from ct_prima_sync.prima import (
    JournalBatch,
    JournalCsvFormat,
    JournalCsvSink,
    JournalLine,
    write_journal_csv,
)


def batch(currency: str = "EUR", units: tuple[int, ...] = (1999, -1999)) -> JournalBatch:
    return JournalBatch(
        batch_id="2026-01/orders",
        posting_date=date(2026, 1, 31),
        currency=currency,
        description="January sales",
        lines=tuple(
            JournalLine(
                account=f"{4000 + i}",
                amount=Money.of(u, currency),
                description='Sales, "web" & app',
                reference="CT-1",
                tax_code="S",
            )
            for i, u in enumerate(units)
        ),
    )


def render(b: JournalBatch, fmt: JournalCsvFormat) -> str:
    out = io.StringIO(newline="")
    write_journal_csv(b, out, fmt)
    return out.getvalue()


def test_the_default_layout_splits_debits_and_credits() -> None:
    rows = list(csv.reader(io.StringIO(render(batch(), JournalCsvFormat()))))
    assert rows[0][:5] == ["batch_id", "posting_date", "account", "debit", "credit"]
    assert rows[1][:5] == ["2026-01/orders", "31/01/2026", "4000", "19.99", ""]
    assert rows[2][:5] == ["2026-01/orders", "31/01/2026", "4001", "", "19.99"]
    assert rows[1][6] == 'Sales, "web" & app'


def test_the_layout_is_configuration() -> None:
    fmt = JournalCsvFormat(
        columns=("account", "amount", "posting_date"),
        headers={"account": "Konto", "amount": "Betrag"},
        delimiter=";",
        decimal_separator=",",
        date_format="%Y-%m-%d",
    )
    text = render(batch("KWD", (1500, -1500)), fmt)
    assert text.splitlines() == [
        "Konto;Betrag;posting_date",
        "4000;1,500;2026-01-31",
        "4001;-1,500;2026-01-31",
    ]


@given(
    parts=st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=8),
    currency=st.sampled_from(["EUR", "JPY", "KWD"]),
)
def test_amounts_are_exact_and_the_file_balances(parts: list[int], currency: str) -> None:
    units = (*parts, -sum(parts))
    fmt = JournalCsvFormat(columns=("amount",), include_header=False)
    rows = list(csv.reader(io.StringIO(render(batch(currency, units), fmt))))
    read = [Money.from_decimal(r[0], currency).minor_units for r in rows]
    assert read == list(units)


def test_an_unbalanced_batch_is_refused() -> None:
    with pytest.raises(PayloadError):
        render(batch(units=(100, -99)), JournalCsvFormat())


@pytest.mark.parametrize(
    "settings",
    [
        {"columns": ("account", "nope")},
        {"columns": ()},
        {"delimiter": ";;"},
        {"decimal_separator": ","},
        {"headers": {"nope": "x"}},
    ],
)
def test_invalid_layouts_are_configuration_errors(settings: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        JournalCsvFormat(**settings)  # type: ignore[arg-type]


def test_the_sink_writes_one_file_per_batch_and_only_once(tmp_path: Path) -> None:
    sink = JournalCsvSink(tmp_path)
    first = sink.post_journal(batch())
    again = sink.post_journal(batch())
    assert not first.duplicate
    assert again.duplicate
    files = [p.name for p in tmp_path.iterdir()]
    assert files == ["journal-2026-01_orders.csv"]
    assert first.prima_reference == files[0]
    assert "19.99" in (tmp_path / files[0]).read_text(encoding="utf-8")
