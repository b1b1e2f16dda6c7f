"""JSON in, JSON out: the pure core for iPaaS code steps and the command line.

``map_order_json(order, config)`` takes a commercetools Order (parsed JSON, or its text) and the
mapping configuration (mapping.toml text, a dict as parsed from it, or a :class:`MappingConfig`),
and returns a :class:`~ct_prima_sync.mapping.MappingResult`: ``result.ok``, ``result.issues``,
``result.to_dict()`` / ``result.to_json()`` in the shape of
``docs/schemas/mapping-result.schema.json``::

    {"schema_version": 1, "ok": true, "order_id": "...", "order_number": "...",
     "sales_order": {...} | null,          # the Prima sales order, when the order maps
     "totals": {"net": {"amount": "80.00", "currency": "EUR"}, "tax": ..., "gross": ...,
                "by_rate": [{"tax_code": "S", "rate": "0.19", "net": ..., "tax": ...}]} | null,
     "issues": [{"code": "UNMAPPED_SKU", "owner": "ecommerce", "message": "...",
                 "path": "lineItems[0].variant.sku", "difference": null}]}
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from ..commercetools._models import Customer
from ..commercetools._models.parse import parse_order, parse_payment
from ..errors import ConfigurationError, CtPrimaSyncError, PayloadError
from ..prima import SkuCode, StockLevel
from ._config import MappingConfig
from ._depots import DepotMap
from ._order import map_order
from ._result import MappingResult, to_jsonable
from ._sku import SkuCodec
from ._stock import CurrentStock, StockConfig, StockPlan, plan_stock_updates

if TYPE_CHECKING:
    from ..commercetools._models.payment import Payment

__all__ = [
    "MAX_ORDER_BYTES",
    "expanded_payments",
    "map_order_json",
    "plan_stock_json",
    "read_order_text",
]

#: The largest order text read: commercetools refuses documents over 16 MB.
MAX_ORDER_BYTES: Final = 16 * 1024 * 1024


def read_order_text(text: str | bytes) -> Mapping[str, Any] | MappingResult:
    """The order JSON object in ``text``, or the INVALID_ORDER result saying why there is none
    (not JSON, not UTF-8, larger than commercetools' 16 MB, nested too deeply, not an object)."""
    size = len(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    if size > MAX_ORDER_BYTES:
        return MappingResult.invalid(
            f"the order is larger than the {MAX_ORDER_BYTES:,} bytes a commercetools document "
            "can have"
        )
    try:
        order = json.loads(text)
    except UnicodeDecodeError as exc:
        return MappingResult.invalid(f"the order is not UTF-8 text (byte {exc.start})")
    except json.JSONDecodeError as exc:
        return MappingResult.invalid(
            f"the order is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        )
    except RecursionError:
        return MappingResult.invalid("the order is nested too deeply to be a commercetools order")
    if not isinstance(order, dict):
        return MappingResult.invalid("the order must be a JSON object")
    return order


def expanded_payments(order: Mapping[str, Any]) -> list[Any] | None:
    """The Payment objects expanded in an order (``paymentInfo.payments[*].obj``), when every
    reference carries its ``obj``; else ``None``."""
    info = order.get("paymentInfo")
    references = info.get("payments") if isinstance(info, Mapping) else None
    if not isinstance(references, list) or not references:
        return None
    objects = [ref.get("obj") if isinstance(ref, Mapping) else None for ref in references]
    return objects if all(isinstance(o, Mapping) for o in objects) else None


def _settings(config: str | Mapping[str, Any] | MappingConfig) -> MappingConfig:
    if isinstance(config, MappingConfig):
        return config
    if isinstance(config, str):
        return MappingConfig.from_toml(config)
    return MappingConfig.from_dict(config)


def map_order_json(
    order: Mapping[str, Any] | str | bytes,
    config: str | Mapping[str, Any] | MappingConfig,
    *,
    customer: Customer | None = None,
    payments: Sequence[Mapping[str, Any]] | None = None,
) -> MappingResult:
    """Map a commercetools Order (parsed JSON, or JSON text) with a mapping configuration
    (mapping.toml text, a dict as in mapping.toml, or a ready :class:`MappingConfig`).

    ``payments`` are the order's Payment objects as JSON (``GET /payments/{id}``); without them,
    payments expanded in the order (``expand=paymentInfo.payments[*]``) are used when every
    reference carries its ``obj``.

    Nothing about the order raises: a malformed one gives a result with ``ok`` false and an
    INVALID_ORDER issue whose ``path`` names the field. A bad configuration raises
    :class:`~ct_prima_sync.errors.ConfigurationError`: fix it once, not per order.
    """
    settings = _settings(config)
    if isinstance(order, str | bytes):
        read = read_order_text(order)
        if isinstance(read, MappingResult):
            return read
        order = read
    try:
        return _map_parsed(order, settings, customer, payments)
    except RecursionError:
        return MappingResult.invalid("the order is nested too deeply to be a commercetools order")


def _map_parsed(
    order: Mapping[str, Any],
    settings: MappingConfig,
    customer: Customer | None,
    payments: Sequence[Mapping[str, Any]] | None,
) -> MappingResult:
    try:
        parsed = parse_order(order)
    except PayloadError as exc:
        return MappingResult.invalid(str(exc).removeprefix(f"{exc.path}: "), exc.path, order)
    raw_payments = payments if payments is not None else expanded_payments(order)
    parsed_payments: list[Payment] | None = None
    if raw_payments is not None:
        parsed_payments = []
        for index, data in enumerate(raw_payments):
            try:
                parsed_payments.append(parse_payment(data))
            except PayloadError as exc:
                where = f"payments[{index}]" + (f".{exc.path}" if exc.path else "")
                return MappingResult.invalid(str(exc).removeprefix(f"{exc.path}: "), where, order)
    try:
        mapped = map_order(parsed, settings, customer=customer, payments=parsed_payments)
    except ConfigurationError:
        raise
    except CtPrimaSyncError as exc:
        # The order parsed but holds figures that cannot be combined (e.g. mixed currencies).
        return MappingResult.invalid(str(exc), getattr(exc, "path", ""), order)
    totals = mapped.totals
    if totals is None and mapped.sales_order is not None:
        totals = mapped.sales_order.totals
    return MappingResult(
        ok=mapped.ok,
        order_id=parsed.id,
        order_number=parsed.order_number,
        sales_order=mapped.sales_order if mapped.ok else None,
        totals=totals,
        issues=mapped.issues,
    )


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
