"""Exact money: integer minor units plus fraction digits, and nothing else.

Rules this module keeps (the tests hold it to them):

1. An amount is an ``int`` of minor units (cents, yen, fils) with its currency and fraction digits.
   No ``float`` is ever accepted; ``Decimal`` appears only at the edges (:meth:`Money.to_decimal`,
   :meth:`Money.from_decimal`) and :class:`fractions.Fraction` for exact intermediate ratios.
2. Combining amounts of different currencies or fraction digits raises
   :class:`~ct_prima_sync.errors.CurrencyMismatchError`; nothing is converted silently.
3. Rounding happens only where a caller names the mode (``HalfEven``, ``HalfUp``, ``HalfDown``, the
   modes commercetools uses for ``taxRoundingMode`` and ``priceRoundingMode``).
4. :func:`allocate` splits an amount over weights by largest remainder: the parts always sum back to
   the amount exactly, and each part is within one minor unit of its exact share.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from attrs import frozen

from .errors import CurrencyMismatchError, InvalidMoneyError

__all__ = [
    "HighPrecisionMoney",
    "Money",
    "RoundingMode",
    "allocate",
    "default_fraction_digits",
    "parse_money",
    "parse_typed_money",
    "round_fraction",
    "sum_money",
]

_CURRENCY_CODE: Final = re.compile(r"^[A-Z]{3}$")
# Codes that passed _check_currency; at most 26**3 entries, shared by threads (set.add is atomic).
_SEEN_CURRENCIES: set[str] = set()

# ISO 4217 minor units that differ from the common 2. commercetools sends fractionDigits with every
# amount, so this table only serves amounts the library builds itself.
_ISO_4217_EXCEPTIONS: Final[Mapping[str, int]] = {
    "BHD": 3, "BIF": 0, "CLF": 4, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3,
    "JPY": 0, "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3,
    "UGX": 0, "UYI": 0, "UYW": 4, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}  # fmt: skip


class RoundingMode(enum.StrEnum):
    """How a value exactly half-way between two minor units is rounded (commercetools' names)."""

    HALF_EVEN = "HalfEven"
    HALF_UP = "HalfUp"
    HALF_DOWN = "HalfDown"


def default_fraction_digits(currency: str) -> int:
    """The ISO 4217 minor-unit exponent of ``currency`` (2 unless the standard says otherwise)."""
    _check_currency(currency)
    return _ISO_4217_EXCEPTIONS.get(currency, 2)


def round_fraction(value: Fraction, mode: RoundingMode) -> int:
    """Round an exact rational to an integer; halves go away from zero for HalfUp, toward zero
    for HalfDown and to the even neighbour for HalfEven (all symmetric around zero)."""
    if value.denominator == 1:
        return value.numerator
    magnitude = abs(value)
    floor = magnitude.numerator // magnitude.denominator
    remainder = magnitude - floor
    half = Fraction(1, 2)
    if remainder > half:
        rounded = floor + 1
    elif remainder < half:
        rounded = floor
    elif mode is RoundingMode.HALF_UP:
        rounded = floor + 1
    elif mode is RoundingMode.HALF_DOWN:
        rounded = floor
    else:
        rounded = floor + (floor % 2)
    return rounded if value > 0 else -rounded


def allocate(total: int, weights: Sequence[int | Fraction]) -> list[int]:
    """Split ``total`` minor units over ``weights`` by largest remainder.

    The parts sum to ``total`` exactly and each is the floor or ceiling of its exact share
    ``total * weight / sum(weights)``. Leftover units go to the largest remainders, ties to the
    earlier position, so the result is deterministic. A negative total is split like its magnitude
    and negated. Weights must be non-negative; if they are all zero only a zero total can be split.
    """
    if not weights:
        if total == 0:
            return []
        raise InvalidMoneyError(f"cannot allocate {total} minor units over no weights")
    if any(isinstance(w, bool) or not isinstance(w, int | Fraction) for w in weights):
        raise InvalidMoneyError("allocation weights must be int or Fraction, never float")
    if any(w < 0 for w in weights):
        raise InvalidMoneyError("allocation weights must not be negative")
    weight_sum = sum(weights, Fraction(0))
    if weight_sum == 0:
        if total == 0:
            return [0] * len(weights)
        raise InvalidMoneyError(f"cannot allocate {total} minor units over weights that are all 0")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    shares = [magnitude * Fraction(w) / weight_sum for w in weights]
    parts = [share.numerator // share.denominator for share in shares]
    leftover = magnitude - sum(parts)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - parts[i]), i))
    for index in by_remainder[:leftover]:
        parts[index] += 1
    return [sign * part for part in parts]


def _check_currency(currency: object, path: str = "currencyCode") -> str:
    if not isinstance(currency, str) or not _CURRENCY_CODE.match(currency):
        raise InvalidMoneyError(
            f"{path}: expected an ISO 4217 code such as 'EUR', got {currency!r}"
        )
    return currency


def _check_int(value: object, path: str) -> int:
    # bool is an int subclass and float is never an amount: refuse both by name.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidMoneyError(f"{path}: expected an integer, got {type(value).__name__}")
    return value


def _check_fraction_digits(value: object, path: str) -> int:
    digits = _check_int(value, path)
    if not 0 <= digits <= 20:
        raise InvalidMoneyError(f"{path}: fraction digits must be between 0 and 20, got {digits}")
    return digits


@frozen
class Money:
    """An exact amount: ``minor_units`` of ``currency`` with ``fraction_digits`` decimals.

    ``Money(1999, "EUR", 2)`` is EUR 19.99; ``Money(1999, "JPY", 0)`` is JPY 1999.
    """

    minor_units: int
    currency: str
    fraction_digits: int

    def __attrs_post_init__(self) -> None:
        # Amounts are built by the hundred thousand when orders are parsed: the common case (an
        # int, a currency seen before, sane digits) is checked first, the full checks name the
        # offending field.
        if type(self.minor_units) is not int:
            _check_int(self.minor_units, "minor_units")
        if self.currency not in _SEEN_CURRENCIES:
            _SEEN_CURRENCIES.add(_check_currency(self.currency, "currency"))
        digits = self.fraction_digits
        if type(digits) is not int or not 0 <= digits <= 20:
            _check_fraction_digits(digits, "fraction_digits")

    @classmethod
    def of(cls, minor_units: int, currency: str, fraction_digits: int | None = None) -> Money:
        """An amount, with the currency's ISO 4217 fraction digits unless given."""
        digits = default_fraction_digits(currency) if fraction_digits is None else fraction_digits
        return cls(minor_units, currency, digits)

    @classmethod
    def zero(cls, currency: str, fraction_digits: int | None = None) -> Money:
        """Zero in ``currency``."""
        return cls.of(0, currency, fraction_digits)

    @classmethod
    def from_decimal(
        cls,
        value: Decimal | str | int,
        currency: str,
        fraction_digits: int | None = None,
        *,
        rounding: RoundingMode | None = None,
    ) -> Money:
        """Read a decimal major-unit amount (``Decimal("19.99")``, ``"19.99"``).

        Without ``rounding``, an amount with more decimals than the currency has is an error,
        never a silent rounding.
        """
        if isinstance(value, float | bool):
            raise InvalidMoneyError("amounts are never floats: pass a Decimal or a string")
        try:
            exact = Fraction(Decimal(value))
        except (ArithmeticError, ValueError) as exc:
            raise InvalidMoneyError(f"not a decimal amount: {value!r}") from exc
        digits = default_fraction_digits(currency) if fraction_digits is None else fraction_digits
        scaled = exact * 10**digits
        if scaled.denominator != 1 and rounding is None:
            raise InvalidMoneyError(
                f"{value} {currency} has more than {digits} decimals; name a rounding mode"
            )
        return cls(round_fraction(scaled, rounding or RoundingMode.HALF_EVEN), currency, digits)

    def to_decimal(self) -> Decimal:
        """The amount in major units, exactly (``Decimal('19.99')``)."""
        return Decimal(self.minor_units).scaleb(-self.fraction_digits)

    def to_ct(self) -> dict[str, Any]:
        """The commercetools ``CentPrecisionMoney`` JSON form."""
        return {
            "type": "centPrecision",
            "currencyCode": self.currency,
            "centAmount": self.minor_units,
            "fractionDigits": self.fraction_digits,
        }

    def __str__(self) -> str:
        return f"{self.currency} {self.to_decimal():.{self.fraction_digits}f}"

    def same_currency(self, other: Money) -> bool:
        """True when ``other`` can be added to this amount."""
        return (self.currency, self.fraction_digits) == (other.currency, other.fraction_digits)

    def _require_same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"expected Money, got {type(other).__name__}")
        if not self.same_currency(other):
            raise CurrencyMismatchError(
                f"cannot combine {self.currency} ({self.fraction_digits} digits) "
                f"with {other.currency} ({other.fraction_digits} digits)"
            )
        return other

    def with_units(self, minor_units: int) -> Money:
        """Another amount in this currency."""
        return Money(minor_units, self.currency, self.fraction_digits)

    def __add__(self, other: Money) -> Money:
        return self.with_units(self.minor_units + self._require_same(other).minor_units)

    def __sub__(self, other: Money) -> Money:
        return self.with_units(self.minor_units - self._require_same(other).minor_units)

    def __neg__(self) -> Money:
        return self.with_units(-self.minor_units)

    def __abs__(self) -> Money:
        return self.with_units(abs(self.minor_units))

    def __mul__(self, factor: int) -> Money:
        """Multiply by a whole number (a quantity). Use :meth:`scale` for ratios."""
        return self.with_units(self.minor_units * _check_int(factor, "factor"))

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.minor_units < self._require_same(other).minor_units

    def __le__(self, other: Money) -> bool:
        return self.minor_units <= self._require_same(other).minor_units

    def __gt__(self, other: Money) -> bool:
        return self.minor_units > self._require_same(other).minor_units

    def __ge__(self, other: Money) -> bool:
        return self.minor_units >= self._require_same(other).minor_units

    @property
    def is_zero(self) -> bool:
        """True for an amount of zero."""
        return self.minor_units == 0

    def scale(self, ratio: Fraction | int, rounding: RoundingMode) -> Money:
        """This amount times an exact ratio, rounded once with ``rounding``."""
        if isinstance(ratio, bool) or not isinstance(ratio, int | Fraction):
            raise InvalidMoneyError("ratios are int or Fraction, never float")
        return self.with_units(round_fraction(self.minor_units * Fraction(ratio), rounding))

    def allocate(self, weights: Sequence[int | Fraction]) -> list[Money]:
        """Split this amount over ``weights`` by largest remainder (see :func:`allocate`)."""
        return [self.with_units(part) for part in allocate(self.minor_units, weights)]

    def rescale(self, fraction_digits: int, rounding: RoundingMode) -> Money:
        """The same amount with other fraction digits (rounded when digits are dropped)."""
        shift = fraction_digits - self.fraction_digits
        units = round_fraction(Fraction(self.minor_units) * Fraction(10) ** shift, rounding)
        return Money(units, self.currency, fraction_digits)


def sum_money(amounts: Iterable[Money], *, start: Money) -> Money:
    """Add amounts to ``start`` (pass ``Money.zero(...)``), refusing mixed currencies."""
    total = start
    for amount in amounts:
        total = total + amount
    return total


@frozen
class HighPrecisionMoney:
    """commercetools ``HighPrecisionMoney``: ``precise_amount`` with ``fraction_digits`` decimals,
    plus the ``cent_amount`` commercetools rounded it to (in the currency's default digits)."""

    precise_amount: int
    currency: str
    fraction_digits: int
    cent_amount: int
    cent_fraction_digits: int

    @property
    def exact(self) -> Fraction:
        """The exact value in major units."""
        return Fraction(self.precise_amount, 10**self.fraction_digits)

    def to_money(self) -> Money:
        """The rounded cent-precision amount, as commercetools reported it."""
        return Money(self.cent_amount, self.currency, self.cent_fraction_digits)

    def rounded(self, rounding: RoundingMode, fraction_digits: int | None = None) -> Money:
        """Round the precise amount to ``fraction_digits`` (default: the currency's)."""
        digits = self.cent_fraction_digits if fraction_digits is None else fraction_digits
        return Money(round_fraction(self.exact * 10**digits, rounding), self.currency, digits)

    def to_ct(self) -> dict[str, Any]:
        """The commercetools ``HighPrecisionMoney`` JSON form."""
        return {
            "type": "highPrecision",
            "currencyCode": self.currency,
            "centAmount": self.cent_amount,
            "preciseAmount": self.precise_amount,
            "fractionDigits": self.fraction_digits,
        }


def parse_typed_money(data: object, path: str = "money") -> Money | HighPrecisionMoney:
    """Read commercetools ``TypedMoney`` (or a plain ``Money`` draft) JSON.

    ``centPrecision`` (or no ``type``) gives :class:`Money`; ``highPrecision`` gives
    :class:`HighPrecisionMoney`. Errors name the field path.
    """
    if not isinstance(data, Mapping):
        raise InvalidMoneyError(f"{path}: expected a money object, got {type(data).__name__}")
    currency = _check_currency(data.get("currencyCode"), f"{path}.currencyCode")
    money_type = data.get("type", "centPrecision")
    cent_amount = _check_int(data.get("centAmount"), f"{path}.centAmount")
    if money_type == "centPrecision":
        raw_digits = data.get("fractionDigits")
        digits = (
            default_fraction_digits(currency)
            if raw_digits is None
            else _check_fraction_digits(raw_digits, f"{path}.fractionDigits")
        )
        return Money(cent_amount, currency, digits)
    if money_type == "highPrecision":
        return HighPrecisionMoney(
            precise_amount=_check_int(data.get("preciseAmount"), f"{path}.preciseAmount"),
            currency=currency,
            fraction_digits=_check_fraction_digits(
                data.get("fractionDigits"), f"{path}.fractionDigits"
            ),
            cent_amount=cent_amount,
            cent_fraction_digits=default_fraction_digits(currency),
        )
    raise InvalidMoneyError(
        f"{path}.type: expected 'centPrecision' or 'highPrecision', got {money_type!r}"
    )


def parse_money(data: object, path: str = "money") -> Money:
    """Read commercetools money JSON as cent-precision :class:`Money` (high-precision amounts give
    the ``centAmount`` commercetools rounded them to)."""
    parsed = parse_typed_money(data, path)
    return parsed.to_money() if isinstance(parsed, HighPrecisionMoney) else parsed
