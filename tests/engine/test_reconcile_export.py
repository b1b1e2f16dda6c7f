"""Prima's export file: the documented columns are read exactly, a wrong line is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from ct_prima_sync.engine import PRIMA_EXPORT_COLUMNS, read_prima_export
from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.mapping import PostingPeriod
from ct_prima_sync.money import Money


def test_the_export_is_read_to_the_cent_and_only_the_period_is_kept(tmp_path: Path) -> None:
    export = tmp_path / "prima.csv"
    export.write_text(
        "\ufeffwarehouse,order_number,order_date,currency,gross\n"
        "WH1,A1,2026-11-30,EUR,19.99\n"
        "WH1,A2,2026-12-01,EUR,5.00\n"
        "WH1,A3,2026-11-02,JPY,1500\n",
        encoding="utf-8",
    )
    listed = read_prima_export(export, PostingPeriod.month(2026, 11))
    assert [(o.order_number, o.gross) for o in listed] == [
        ("A1", Money.of(1999, "EUR", 2)),
        ("A3", Money.of(1500, "JPY", 0)),
    ]
    assert PRIMA_EXPORT_COLUMNS == ("order_number", "order_date", "currency", "gross")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("order_number,order_date,currency,gross\nA1,30/11/2026,EUR,1.00\n", "line 2"),
        ("order_number,order_date,currency,gross\nA1,2026-11-30,EUR,1.001\n", "line 2"),
        ("order_number,order_date,currency,gross\nA1,2026-11-30,EUR,ten\n", "line 2"),
        ("order_number,currency\nA1,EUR\n", "lacks the columns order_date, gross"),
    ],
)
def test_a_wrong_export_names_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    export = tmp_path / "prima.csv"
    export.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message):
        read_prima_export(export)
