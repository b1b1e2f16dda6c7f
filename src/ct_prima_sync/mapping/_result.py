"""The documented, versioned result of :func:`~ct_prima_sync.mapping.map_order_json`.

:class:`MappingResult` is a frozen value; :meth:`MappingResult.to_dict` gives the JSON-able form
(``json.dumps`` accepts it as is) and :meth:`MappingResult.to_json` the text. The shape is
described by the JSON Schema ``docs/schemas/mapping-result.schema.json``, version
:data:`SCHEMA_VERSION` (``schema_version`` in every result): a field is only ever added in a new
version, and a removed or changed one means a new major version. Amounts are decimal strings with
the currency's fraction digits plus the currency, never floats and never exponent notation; rates
are decimal strings; dates ISO 8601.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, cast

import attrs
from attrs import frozen

from ..money import HighPrecisionMoney, Money
from ..prima import SalesOrder, SalesOrderTotals
from ._issues import IssueCode, MappingIssue

__all__ = ["SCHEMA_VERSION", "MappingResult", "decimal_text", "money_json", "to_jsonable"]

#: The version of the result's shape (``docs/schemas/mapping-result.schema.json``).
SCHEMA_VERSION: Final = 1


def decimal_text(value: Decimal) -> str:
    """A decimal as plain digits (``"0.00000005"``, never ``"5E-8"``)."""
    return format(value, "f")


def money_json(amount: Money) -> dict[str, str]:
    """``{"amount": "12.30", "currency": "EUR"}``: exact, with the currency's digits."""
    return {
        "amount": f"{amount.to_decimal():.{amount.fraction_digits}f}",
        "currency": amount.currency,
    }


def to_jsonable(value: object) -> Any:
    """Models as JSON-able data: attrs classes as dicts (snake_case keys), Money as
    :func:`money_json`, Decimal as plain digits, dates ISO 8601, enums by value, tuples as
    lists."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Money):
        return money_json(value)
    if isinstance(value, HighPrecisionMoney):
        exact = Decimal(value.precise_amount).scaleb(-value.fraction_digits)
        return {"amount": decimal_text(exact), "currency": value.currency}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if attrs.has(type(value)):
        return {
            a.name.lstrip("_"): to_jsonable(getattr(value, a.name))
            for a in attrs.fields(cast("type[attrs.AttrsInstance]", type(value)))
            if a.init
        }
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [to_jsonable(item) for item in value]
    raise TypeError(f"no JSON form for {type(value).__name__}")


def _issue_json(issue: MappingIssue) -> dict[str, Any]:
    return {
        "code": issue.code.value,
        "owner": issue.owner.value,
        "message": issue.message,
        "path": issue.path,
        "difference": None if issue.difference is None else money_json(issue.difference),
    }


def _ids(order: object) -> tuple[str | None, str | None]:
    if not isinstance(order, Mapping):
        return None, None
    order_id, number = order.get("id"), order.get("orderNumber")
    return (
        order_id if isinstance(order_id, str) else None,
        number if isinstance(number, str) else None,
    )


@frozen(kw_only=True)
class MappingResult:
    """What mapping one order gave: the sales order, or every issue that stops it.

    ``ok`` is true exactly when ``sales_order`` is set and ``issues`` is empty. ``totals`` are the
    mapped totals whenever they could be computed (also with issues, to help whoever fixes the
    order). The result carries the customer's details because Prima needs them: treat it as
    personal data.
    """

    ok: bool
    order_id: str | None
    order_number: str | None
    sales_order: SalesOrder | None = None
    totals: SalesOrderTotals | None = None
    issues: tuple[MappingIssue, ...] = ()
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def invalid(cls, message: str, path: str = "", order: object = None) -> MappingResult:
        """The result for an order that could not even be read: one INVALID_ORDER issue."""
        order_id, number = _ids(order)
        issue = MappingIssue(code=IssueCode.INVALID_ORDER, message=message, path=path)
        return cls(ok=False, order_id=order_id, order_number=number, issues=(issue,))

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able form (the schema's shape): plain dicts, lists, strings, ints, bools."""
        return {
            "schema_version": self.schema_version,
            "ok": self.ok,
            "order_id": self.order_id,
            "order_number": self.order_number,
            "sales_order": to_jsonable(self.sales_order),
            "totals": to_jsonable(self.totals),
            "issues": [_issue_json(issue) for issue in self.issues],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """The result as JSON text (UTF-8 characters kept as they are)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
