"""Exact money: the claims of ct_prima_sync.money, stated as properties and pinned examples."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ct_prima_sync.errors import CurrencyMismatchError, InvalidMoneyError
from ct_prima_sync.money import (
    HighPrecisionMoney,
    Money,
    RoundingMode,
    allocate,
    default_fraction_digits,
    parse_money,
    parse_typed_money,
    round_fraction,
    sum_money,
)

CURRENCIES = st.sampled_from([("EUR", 2), ("JPY", 0), ("KWD", 3), ("GBP", 2)])
UNITS = st.integers(min_value=-(10**15), max_value=10**15)
WEIGHTS = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=40)
MODES = st.sampled_from(list(RoundingMode))


@st.composite
def money(draw: st.DrawFn) -> Money:
    currency, digits = draw(CURRENCIES)
    return Money(draw(UNITS), currency, digits)


@given(total=UNITS, weights=WEIGHTS)
@example(total=100, weights=[1, 1, 1])
@example(total=-100, weights=[1, 1, 1])
@example(total=1, weights=[0, 0, 5])
def test_allocation_parts_sum_back_to_the_total(total: int, weights: list[int]) -> None:
    if sum(weights) == 0:
        weights = [*weights[:-1], 1]
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)


@given(total=UNITS, weights=WEIGHTS)
def test_each_allocated_part_is_within_one_unit_of_its_exact_share(
    total: int, weights: list[int]
) -> None:
    if sum(weights) == 0:
        weights = [*weights[:-1], 1]
    for part, weight in zip(allocate(total, weights), weights, strict=True):
        exact = Fraction(total * weight, sum(weights))
        assert abs(part - exact) < 1
        if weight == 0:
            assert part == 0


def test_allocation_gives_leftover_units_to_largest_remainders_then_earlier_positions() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]
    assert allocate(10, [3, 7]) == [3, 7]
    assert allocate(5, [1, 2]) == [2, 3]  # exact shares 1.67 and 3.33


def test_allocation_refuses_what_cannot_be_split() -> None:
    with pytest.raises(InvalidMoneyError, match="all 0"):
        allocate(5, [0, 0])
    with pytest.raises(InvalidMoneyError, match="negative"):
        allocate(5, [1, -1])
    with pytest.raises(InvalidMoneyError, match="float"):
        allocate(5, [0.5, 0.5])  # type: ignore[list-item]
    assert allocate(0, [0, 0]) == [0, 0]
    assert allocate(0, []) == []


@given(value=st.fractions(max_denominator=10**6), mode=MODES)
def test_rounding_lands_on_a_neighbour_of_the_exact_value(
    value: Fraction, mode: RoundingMode
) -> None:
    rounded = round_fraction(value, mode)
    assert abs(rounded - value) <= Fraction(1, 2)


@given(value=st.fractions(max_denominator=10**6), mode=MODES)
def test_rounding_is_symmetric_around_zero(value: Fraction, mode: RoundingMode) -> None:
    assert round_fraction(-value, mode) == -round_fraction(value, mode)


@pytest.mark.parametrize(
    ("value", "mode", "expected"),
    [
        (Fraction(5, 2), RoundingMode.HALF_EVEN, 2),
        (Fraction(7, 2), RoundingMode.HALF_EVEN, 4),
        (Fraction(5, 2), RoundingMode.HALF_UP, 3),
        (Fraction(5, 2), RoundingMode.HALF_DOWN, 2),
        (Fraction(-5, 2), RoundingMode.HALF_UP, -3),
        (Fraction(-5, 2), RoundingMode.HALF_DOWN, -2),
        (Fraction(251, 100), RoundingMode.HALF_DOWN, 3),
    ],
)
def test_halves_round_as_commercetools_names_them(
    value: Fraction, mode: RoundingMode, expected: int
) -> None:
    assert round_fraction(value, mode) == expected


@given(a=money(), b=UNITS)
def test_addition_and_subtraction_are_exact_inverses(a: Money, b: int) -> None:
    other = a.with_units(b)
    assert (a + other) - other == a
    assert (-a).minor_units == -a.minor_units
    assert abs(a) >= a
    assert a + other == other + a


def test_amounts_in_different_currencies_never_combine() -> None:
    eur = Money(100, "EUR", 2)
    with pytest.raises(CurrencyMismatchError, match="EUR"):
        _ = eur + Money(100, "USD", 2)
    with pytest.raises(CurrencyMismatchError):
        _ = eur < Money(100, "EUR", 4)
    with pytest.raises(CurrencyMismatchError):
        sum_money([Money(1, "JPY", 0)], start=Money.zero("EUR"))


@given(a=money(), weights=WEIGHTS)
def test_money_allocation_keeps_currency_and_total(a: Money, weights: list[int]) -> None:
    if sum(weights) == 0:
        weights = [*weights[:-1], 1]
    parts = a.allocate(weights)
    assert sum_money(parts, start=a.with_units(0)) == a
    assert all(p.same_currency(a) for p in parts)


@given(a=money())
def test_decimal_round_trip_is_exact(a: Money) -> None:
    assert Money.from_decimal(a.to_decimal(), a.currency, a.fraction_digits) == a


def test_decimal_edges() -> None:
    assert Money.from_decimal("19.99", "EUR") == Money(1999, "EUR", 2)
    assert Money.from_decimal(Decimal("1999"), "JPY") == Money(1999, "JPY", 0)
    assert Money.from_decimal("1.234", "KWD") == Money(1234, "KWD", 3)
    assert str(Money(1234, "KWD", 3)) == "KWD 1.234"
    assert str(Money(-5, "EUR", 2)) == "EUR -0.05"
    with pytest.raises(InvalidMoneyError, match="rounding mode"):
        Money.from_decimal("0.005", "EUR")
    assert Money.from_decimal("0.005", "EUR", rounding=RoundingMode.HALF_UP) == Money(1, "EUR", 2)
    with pytest.raises(InvalidMoneyError, match="never floats"):
        Money.from_decimal(0.1, "EUR")  # type: ignore[arg-type]


def test_floats_and_bools_are_never_amounts() -> None:
    with pytest.raises(InvalidMoneyError):
        Money(1.5, "EUR", 2)  # type: ignore[arg-type]
    with pytest.raises(InvalidMoneyError):
        Money(True, "EUR", 2)
    with pytest.raises(InvalidMoneyError):
        Money(1, "EUR", 2) * 1.5  # type: ignore[operator]
    with pytest.raises(InvalidMoneyError):
        Money(1, "EUR", 2).scale(0.5, RoundingMode.HALF_UP)  # type: ignore[arg-type]
    with pytest.raises(InvalidMoneyError, match="ISO 4217"):
        Money(1, "eur", 2)


@given(a=money(), numerator=st.integers(0, 10**6), denominator=st.integers(1, 10**6), mode=MODES)
def test_scaling_rounds_once_to_the_nearest_unit(
    a: Money, numerator: int, denominator: int, mode: RoundingMode
) -> None:
    ratio = Fraction(numerator, denominator)
    scaled = a.scale(ratio, mode)
    assert abs(scaled.minor_units - a.minor_units * ratio) <= Fraction(1, 2)


def test_iso_fraction_digits() -> None:
    assert default_fraction_digits("EUR") == 2
    assert default_fraction_digits("JPY") == 0
    assert default_fraction_digits("KWD") == 3
    assert Money.of(5, "JPY") == Money(5, "JPY", 0)


def test_commercetools_cent_precision_money_parses_and_round_trips() -> None:
    data = {"type": "centPrecision", "currencyCode": "EUR", "centAmount": 4200, "fractionDigits": 2}
    parsed = parse_typed_money(data)
    assert parsed == Money(4200, "EUR", 2)
    assert isinstance(parsed, Money)
    assert parsed.to_ct() == data
    assert parse_money({"currencyCode": "JPY", "centAmount": 300}) == Money(300, "JPY", 0)


def test_commercetools_high_precision_money_keeps_every_digit() -> None:
    data = {
        "type": "highPrecision",
        "currencyCode": "EUR",
        "centAmount": 1,
        "preciseAmount": 123456,
        "fractionDigits": 7,
    }
    parsed = parse_typed_money(data)
    assert isinstance(parsed, HighPrecisionMoney)
    assert parsed.exact == Fraction(123456, 10**7)
    assert parsed.to_money() == Money(1, "EUR", 2)
    assert parsed.rounded(RoundingMode.HALF_EVEN, 4) == Money(123, "EUR", 4)
    assert parsed.to_ct() == data
    assert parse_money(data) == Money(1, "EUR", 2)


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"currencyCode": "EUR", "centAmount": 1.5}, "price.centAmount"),
        ({"currencyCode": "EUR", "centAmount": "100"}, "price.centAmount"),
        ({"currencyCode": "EURO", "centAmount": 100}, "price.currencyCode"),
        ({"type": "weird", "currencyCode": "EUR", "centAmount": 100}, "price.type"),
        ({"type": "highPrecision", "currencyCode": "EUR", "centAmount": 1}, "price.preciseAmount"),
        ("12.00", "price"),
    ],
)
def test_malformed_money_names_the_field(data: object, path: str) -> None:
    with pytest.raises(InvalidMoneyError, match=path.replace(".", r"\.")):
        parse_typed_money(data, "price")
