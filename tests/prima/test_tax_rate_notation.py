"""Tax rates go to Prima in plain positional notation, whatever exponent the Decimal carries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ct_prima_sync.prima._xml._tree import format_rate


@pytest.mark.parametrize(
    ("rate", "text"),
    [
        (Decimal("0.19"), "0.19"),
        (Decimal("2E-1"), "0.2"),
        (Decimal("0E-7"), "0.0000000"),
        (Decimal("-0"), "0"),
        (Decimal("2E+1"), "20"),
        (Decimal("1E-8"), "0.00000001"),
    ],
)
def test_rates_are_written_without_an_exponent(rate: Decimal, text: str) -> None:
    assert format_rate(rate) == text


@given(st.decimals(min_value=0, max_value=100, allow_nan=False, allow_infinity=False, places=6))
def test_a_written_rate_reads_back_as_the_same_number(rate: Decimal) -> None:
    text = format_rate(rate)
    assert "E" not in text.upper()
    assert Decimal(text) == rate
