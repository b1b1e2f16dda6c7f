"""JSON in, JSON out: the pure core for iPaaS code steps and the command line.

``map_order_json(order, config)`` takes a commercetools Order as parsed JSON and the mapping
configuration as a dict, and returns a dict that ``json.dumps`` accepts as is::

    {"ok": true, "order_id": "...", "order_number": "...",
     "sales_order": {...} | null,          # the Prima sales order, when the order maps
     "totals": {"net": {"amount": "80.00", "currency": "EUR"}, "tax": ..., "gross": ...,
                "by_rate": [{"tax_code": "S", "rate": "0.19", "net": ..., "tax": ...}]} | null,
     "issues": [{"code": "UNMAPPED_SKU", "owner": "ecommerce", "message": "...",
                 "path": "lineItems[0].variant.sku", "difference": null}]}

Amounts are decimal strings with the currency's fraction digits plus the currency, never floats;
rates are decimal strings; dates ISO 8601. The output carries the customer's details because Prima
needs them: treat it as personal data.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

import attrs

from ..commercetools._models.parse import parse_order
from ..errors import ConfigurationError, CtPrimaSyncError, PayloadError
from ..money import HighPrecisionMoney, Money
from ..prima import SalesOrder, SkuCode, StockLevel
from ._config import MappingConfig
from ._depots import DepotMap
from ._issues import IssueCode, MappingIssue
from ._order import MappedOrder, map_order
from ._sku import SkuCodec
from ._stock import CurrentStock, StockConfig, StockPlan, plan_stock_updates

__all__ = [
    "invalid_order_json",
    "map_order_document",
    "map_order_json",
    "mapped_order_json",
    "plan_stock_json",
    "to_jsonable",
]


def money_json(amount: Money) -> dict[str, str]:
    """``{"amount": "12.30", "currency": "EUR"}``: exact, with the currency's digits."""
    return {"amount": str(amount.to_decimal()), "currency": amount.currency}


def to_jsonable(value: object) -> Any:
    """Models as JSON-able data: attrs classes as dicts (snake_case keys), Money as
    :func:`money_json`, Decimal as a string, dates ISO 8601, enums by value, tuples as lists."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Money):
        return money_json(value)
    if isinstance(value, HighPrecisionMoney):
        return {"amount": str(value.exact), "currency": value.currency}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
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


def invalid_order_json(message: str, path: str = "", order: object = None) -> dict[str, Any]:
    """The result for an order that could not even be read: one INVALID_ORDER issue."""
    order_id, number = _ids(order)
    issue = MappingIssue(code=IssueCode.INVALID_ORDER, message=message, path=path)
    return {
        "ok": False,
        "order_id": order_id,
        "order_number": number,
        "sales_order": None,
        "totals": None,
        "issues": [_issue_json(issue)],
    }


def mapped_order_json(
    mapped: MappedOrder, order_id: str | None, number: str | None
) -> dict[str, Any]:
    """A :class:`MappedOrder` in the documented JSON shape."""
    totals = mapped.totals
    if totals is None and mapped.sales_order is not None:
        totals = mapped.sales_order.totals
    return {
        "ok": mapped.ok,
        "order_id": order_id,
        "order_number": number,
        "sales_order": to_jsonable(mapped.sales_order),
        "totals": to_jsonable(totals),
        "issues": [_issue_json(issue) for issue in mapped.issues],
    }


def map_order_json(
    order: Mapping[str, Any], config: Mapping[str, Any] | MappingConfig
) -> dict[str, Any]:
    """Map a commercetools Order (parsed JSON) with a mapping configuration (a dict as in
    mapping.toml, or a ready :class:`MappingConfig`).

    A malformed order never raises: the result has ``ok`` false and an INVALID_ORDER issue whose
    ``path`` names the field. A bad configuration raises
    :class:`~ct_prima_sync.errors.ConfigurationError`: fix it once, not per order.
    """
    return map_order_document(order, config)[0]


def map_order_document(
    order: Mapping[str, Any], config: Mapping[str, Any] | MappingConfig
) -> tuple[dict[str, Any], SalesOrder | None]:
    """:func:`map_order_json`, plus the :class:`SalesOrder` itself when the order maps (for
    callers that go on to encode it, such as ``ct-prima-sync map-order --format omlink``)."""
    settings = config if isinstance(config, MappingConfig) else MappingConfig.from_dict(config)
    try:
        parsed = parse_order(order)
    except PayloadError as exc:
        return invalid_order_json(str(exc).removeprefix(f"{exc.path}: "), exc.path, order), None
    try:
        mapped = map_order(parsed, settings)
    except ConfigurationError:
        raise
    except CtPrimaSyncError as exc:
        # The order parsed but holds figures that cannot be combined (e.g. mixed currencies).
        return invalid_order_json(str(exc), getattr(exc, "path", ""), order), None
    result = mapped_order_json(mapped, parsed.id, parsed.order_number)
    return result, mapped.sales_order if mapped.ok else None


def _row_int(row: Mapping[str, Any], key: str, path: str) -> int:
    value = row.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PayloadError("expected a whole number", path=f"{path}.{key}")
    return value


def _row_str(row: Mapping[str, Any], key: str, path: str, *, default: str | None = None) -> str:
    value = row.get(key, default)
    if not isinstance(value, str):
        raise PayloadError("expected a string", path=f"{path}.{key}")
    return value


def _row_date(row: Mapping[str, Any], key: str, path: str) -> dt.date | None:
    value = row.get(key)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10]) if isinstance(value, str) else None
    except ValueError:
        raise PayloadError("expected a date (YYYY-MM-DD)", path=f"{path}.{key}") from None


def _row_days(row: Mapping[str, Any], key: str, path: str) -> int | None:
    return None if row.get(key) is None else _row_int(row, key, path)


def _rows(data: object, path: str) -> list[Mapping[str, Any]]:
    if not isinstance(data, Sequence) or isinstance(data, str | bytes):
        raise PayloadError("expected a list", path=path)
    for index, row in enumerate(data):
        if not isinstance(row, Mapping):
            raise PayloadError("expected an object", path=f"{path}[{index}]")
    return list(data)


def _stock_plan_json(plan: StockPlan) -> dict[str, Any]:
    return {
        "changes": [
            {
                "sku": c.sku,
                "channel": c.channel,
                "depot": c.depot,
                "quantity_on_stock": c.quantity_on_stock,
                "expected_available": c.expected_available,
                "current_on_stock": c.current_on_stock,
                "target": c.target,
                "create": c.create,
                **(
                    {"expected_delivery": c.expected_delivery and c.expected_delivery.isoformat()}
                    if c.update_expected_delivery
                    else {}
                ),
                **({"restockable_in_days": c.restockable_in_days} if c.update_restockable else {}),
            }
            for c in plan.changes
        ],
        "unchanged": plan.unchanged,
        "missing_in_commercetools": [list(pair) for pair in plan.missing_in_commercetools],
        "missing_in_prima": [list(pair) for pair in plan.missing_in_prima],
        "unmapped_skus": [to_jsonable(code) for code in plan.unmapped_skus],
        "unpublished_depots": list(plan.unpublished_depots),
    }


def plan_stock_json(
    ats: object, pending: object, entries: object, config: Mapping[str, Any]
) -> dict[str, Any]:
    """:func:`plan_stock_updates` over JSON: ``ats`` rows ``{product, matrix?, depot?,
    available, available_date?}``, ``pending`` rows ``{sku, depot, quantity}``, ``entries`` rows
    ``{sku, channel?, quantityOnStock, availableQuantity, expectedDelivery?,
    restockableInDays?}`` (``channel`` as the depot map names it), and the ``sku``, ``depots``
    and ``stock`` tables of the configuration. Malformed rows raise PayloadError with their path;
    a bad configuration ConfigurationError. Entries Prima reported nothing for are set to zero
    unless ``stock.zero_missing = false``: pass the entries of the SKUs in ``ats`` only."""
    settings = StockConfig.from_dict(
        config.get("stock"),
        "stock",
        skus=SkuCodec.from_dict(config.get("sku"), "sku"),
        depots=DepotMap.from_dict(config.get("depots"), "depots"),
    )
    levels: list[StockLevel] = []
    for index, row in enumerate(_rows(ats, "ats")):
        here = f"ats[{index}]"
        matrix = row.get("matrix", [])
        if not isinstance(matrix, list) or not all(isinstance(m, str) for m in matrix):
            raise PayloadError("expected a list of strings", path=f"{here}.matrix")
        try:
            code = SkuCode(product=_row_str(row, "product", here), matrix=tuple(matrix))
        except PayloadError as exc:
            if exc.path:
                raise
            raise PayloadError(str(exc), path=here) from None
        levels.append(
            StockLevel(
                sku=code,
                available=_row_int(row, "available", here),
                depot=_row_str(row, "depot", here, default=""),
                available_date=_row_date(row, "available_date", here),
            )
        )
    sold: dict[tuple[str, str], int] = {}
    for index, row in enumerate(_rows(pending, "pending")):
        here = f"pending[{index}]"
        key = (_row_str(row, "sku", here), _row_str(row, "depot", here))
        sold[key] = sold.get(key, 0) + _row_int(row, "quantity", here)
    current = [
        CurrentStock(
            _row_str(row, "sku", f"entries[{i}]"),
            _row_str(row, "channel", f"entries[{i}]", default=""),
            _row_int(row, "quantityOnStock", f"entries[{i}]"),
            _row_int(row, "availableQuantity", f"entries[{i}]"),
            _row_date(row, "expectedDelivery", f"entries[{i}]"),
            _row_days(row, "restockableInDays", f"entries[{i}]"),
        )
        for i, row in enumerate(_rows(entries, "entries"))
    ]
    return _stock_plan_json(plan_stock_updates(levels, sold, current, settings))
