"""``validate_checkout``: refuse at checkout what the order run would refuse, as commercetools
API Extension errors.

Pure: no I/O, no clock. The checks are the order mapping's own (:func:`assess_order`, the one
code path both use), so a cart or order accepted here is one the mapping accepts under the same
configuration, and ``config_hash`` in every verdict says which configuration that was. A cart in
checkout may not have shipping or taxes yet: what it has is checked, and ``checks`` / ``skipped``
say what ran. docs/checkout.md writes down what a shopper and the shop see.

The optional stock check compares each line's quantity with the last stock snapshot (Prima's
last available-to-sell minus what is pending). It is an early warning only: two checkouts at the
same moment both pass it. The guard against overselling is commercetools' own reservation
(``ReserveOnOrder`` / ``ReserveOnCart``) on the inventory entries the stock flow writes.
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any, Final, Literal

from attrs import field, frozen

from ..commercetools._models.order import Order
from ..commercetools._models.parse import parse_order, parse_payment
from ..errors import ConfigurationError, CtPrimaSyncError, PayloadError
from ._assess import Check, assess_order
from ._cfgread import reject_unknown, sub_path, table
from ._config import MappingConfig
from ._fingerprint import config_hash
from ._issues import IssueCode, MappingIssue
from ._items import store_key
from ._json import expanded_payments, read_order_text
from ._result import MappingResult

__all__ = [
    "CheckoutConfig",
    "CheckoutVerdict",
    "ExtensionError",
    "StockCheck",
    "validate_checkout",
]

#: The code commercetools expects of an extension's validation errors.
INVALID_INPUT: Final = "InvalidInput"

#: What a shopper reads for each issue unless the configuration says otherwise: nothing about the
#: shop's setup, only what it means for the basket.
DEFAULT_MESSAGES: Final[Mapping[str, str]] = {
    IssueCode.UNMAPPED_SKU: "This item cannot be ordered at the moment.",
    IssueCode.UNKNOWN_DEPOT: "This item cannot be delivered from the chosen location.",
    IssueCode.UNMAPPED_SHIPPING_METHOD: "The chosen shipping method is not available.",
    IssueCode.UNMAPPED_CARRIER: "The chosen shipping method is not available.",
    IssueCode.UNMAPPED_CUSTOM_LINE: "An item in the basket cannot be ordered at the moment.",
    IssueCode.CURRENCY_NOT_ALLOWED: "Orders in this currency are not accepted.",
    IssueCode.UNMAPPED_PAYMENT_METHOD: "The chosen payment method is not available.",
    "OUT_OF_STOCK": "Not enough of this item is in stock.",
}
_FALLBACK: Final = "The order cannot be placed as it is; please contact us."

_LINE_PATH: Final = re.compile(r"^(lineItems|customLineItems)\[(\d+)\]")

#: The stock check's issue code (not a mapping issue: the order run does not refuse it).
OUT_OF_STOCK: Final = "OUT_OF_STOCK"


class StockCheck(enum.StrEnum):
    """What the snapshot stock check does: ``off`` (default), ``warn`` (the verdict carries a
    warning, the cart passes) or ``refuse`` (an OUT_OF_STOCK error)."""

    OFF = "off"
    WARN = "warn"
    REFUSE = "refuse"


@frozen(kw_only=True)
class CheckoutConfig:
    """The checkout validator's settings: the order mapping's configuration plus what shoppers
    read (``messages``: issue code to ``{locale: text}``; the ``default_locale`` text, when set,
    becomes ``message`` and all of them ``localizedMessage``) and the stock check."""

    mapping: MappingConfig = field(factory=MappingConfig)
    messages: Mapping[str, Mapping[str, str]] = field(factory=dict)
    default_locale: str = "en"
    stock: StockCheck = StockCheck.OFF
    _mapping_hash: str = field(init=False, repr=False, eq=False, default="")

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_mapping_hash", config_hash(self.mapping))

    @property
    def mapping_hash(self) -> str:
        """:func:`~ct_prima_sync.mapping.config_hash` of ``mapping``, computed once."""
        return self._mapping_hash

    @classmethod
    def from_dict(
        cls, data: object, mapping: MappingConfig, path: str = "checkout"
    ) -> CheckoutConfig:
        """Read a ``[checkout]`` table: ``stock_check``, ``default_locale`` and
        ``[checkout.messages.CODE]`` tables of locale to text."""
        raw = table(data, path)
        reject_unknown(raw, ("default_locale", "messages", "stock_check"), path)
        messages: dict[str, dict[str, str]] = {}
        known = {*IssueCode, OUT_OF_STOCK}
        for code, texts in table(raw.get("messages"), sub_path(path, "messages")).items():
            here = sub_path(sub_path(path, "messages"), code)
            if code not in known:
                raise ConfigurationError(
                    f"{here}: not an issue code (expected one of: {', '.join(sorted(known))})"
                )
            entry = table(texts, here)
            if not all(isinstance(v, str) and v for v in entry.values()):
                raise ConfigurationError(f'{here}: expected locale = "text" pairs')
            messages[code] = dict(entry)
        locale = raw.get("default_locale", "en")
        if not isinstance(locale, str) or not locale:
            raise ConfigurationError(f"{sub_path(path, 'default_locale')}: expected a locale")
        stock = raw.get("stock_check", "off")
        try:
            check = StockCheck(stock)
        except ValueError:
            raise ConfigurationError(
                f"{sub_path(path, 'stock_check')}: expected 'off', 'warn' or 'refuse'"
            ) from None
        return cls(mapping=mapping, messages=messages, default_locale=locale, stock=check)


@frozen(kw_only=True)
class ExtensionError:
    """One commercetools ``ExtensionError`` the extension answers with (HTTP 400).

    ``extra_info`` becomes ``extensionExtraInfo``: the issue code, its owner, the field path and,
    for a line's problem, its ``lineItemId`` (or ``customLineItemId``) and ``sku``.
    """

    message: str
    code: str = INVALID_INPUT
    localized_message: Mapping[str, str] | None = None
    extra_info: Mapping[str, Any] = field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The error as commercetools reads it."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.localized_message:
            body["localizedMessage"] = dict(self.localized_message)
        if self.extra_info:
            body["extensionExtraInfo"] = dict(self.extra_info)
        return body


@frozen(kw_only=True)
class CheckoutVerdict:
    """The answer for one cart or order: ``ok`` when nothing stops it.

    ``issues`` are the mapping's own (the same an order run would raise), ``errors`` what the
    extension answers, ``warnings`` the stock check's warnings when it only warns. ``checks`` ran;
    ``skipped`` did not, because the cart lacks what they need yet. ``config_hash`` is the
    mapping configuration's (:func:`~ct_prima_sync.mapping.config_hash`).
    """

    resource: Literal["cart", "order"]
    config_hash: str
    issues: tuple[MappingIssue, ...] = ()
    errors: tuple[ExtensionError, ...] = ()
    warnings: tuple[ExtensionError, ...] = ()
    checks: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the cart or order may go on."""
        return not self.errors

    def to_response(self) -> tuple[int, dict[str, Any]]:
        """The HTTP status and body commercetools expects: 200 with no actions, or 400."""
        if self.ok:
            return 200, {"actions": []}
        return 400, {"errors": [e.to_json() for e in self.errors]}


def _line_facts(order: Order | None, path: str) -> dict[str, Any]:
    found = _LINE_PATH.match(path)
    if found is None or order is None:
        return {}
    kind, index = found.group(1), int(found.group(2))
    if kind == "lineItems" and index < len(order.line_items):
        line = order.line_items[index]
        return {"lineItemId": line.id, **({"sku": line.sku} if line.sku else {})}
    if kind == "customLineItems" and index < len(order.custom_line_items):
        return {"customLineItemId": order.custom_line_items[index].id}
    return {}


def _error(
    config: CheckoutConfig, code: str, owner: str, path: str, *, order: Order | None, digest: str
) -> ExtensionError:
    texts = config.messages.get(code)
    message = (texts or {}).get(config.default_locale) or DEFAULT_MESSAGES.get(code, _FALLBACK)
    return ExtensionError(
        message=message,
        localized_message=texts or None,
        extra_info={
            "issueCode": code,
            "owner": owner,
            "path": path,
            **_line_facts(order, path),
            "configHash": digest,
        },
    )


def _stock_errors(
    config: CheckoutConfig,
    order: Order,
    stock: Mapping[tuple[str, str], int],
    digest: str,
) -> list[ExtensionError]:
    wanted: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, line in enumerate(order.line_items):
        depot = config.mapping.depots.depot_for(
            supply_channel=line.supply_channel,
            distribution_channel=line.distribution_channel,
            store_key=store_key(order),
        )
        if line.sku is None or depot is None:
            continue  # the mapping's own checks report these
        wanted[(line.sku, depot)].append(index)
    found: list[ExtensionError] = []
    for key, indexes in wanted.items():
        available = stock.get(key)
        quantity = sum(order.line_items[i].quantity for i in indexes)
        if available is None or quantity <= available:
            continue  # no snapshot: nothing to warn about
        found.extend(
            _error(
                config,
                OUT_OF_STOCK,
                "operations",
                f"lineItems[{index}].quantity",
                order=order,
                digest=digest,
            )
            for index in indexes
        )
    return found


def _checks_of(checks: tuple[Check, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ran = tuple(str(c) for c in checks)
    skipped = tuple(str(c) for c in Check if c not in checks)
    return ran, skipped


def validate_checkout(
    cart_or_order_json: Mapping[str, Any] | str | bytes,
    config: CheckoutConfig | MappingConfig,
    *,
    stock: Mapping[tuple[str, str], int] | None = None,
    resource: Literal["cart", "order"] | None = None,
) -> CheckoutVerdict:
    """Check a commercetools Cart or Order (parsed JSON or its text) as the order run would.

    ``resource`` says which it is; by default a payload with ``cartState`` is a cart. An order is
    checked fully (the verdict refuses exactly what :func:`map_order_json` reports issues for);
    a cart only as far as it is complete. ``stock`` is units available per (commercetools SKU,
    Prima depot) from the last stock snapshot, used when ``config.stock`` is not ``off``.
    Nothing about the payload raises: a malformed one is refused with an INVALID_ORDER issue.
    """
    settings = config if isinstance(config, CheckoutConfig) else CheckoutConfig(mapping=config)
    digest = settings.mapping_hash
    data: object = cart_or_order_json
    if isinstance(data, str | bytes):
        read = read_order_text(data)
        data = read
    kind: Literal["cart", "order"] = resource or (
        "cart" if isinstance(data, Mapping) and "cartState" in data else "order"
    )
    if isinstance(data, MappingResult):
        issues = data.issues
        order = None
        ran: tuple[str, ...] = ()
        skipped = tuple(str(c) for c in Check)
    else:
        try:
            order = parse_order(data)
            payments = None
            if kind == "order" and isinstance(data, Mapping):
                # As map_order_json reads them: the payments expanded in the order, if any.
                raw = expanded_payments(data)
                payments = None if raw is None else [parse_payment(p) for p in raw]
            found = assess_order(order, settings.mapping, payments=payments, partial=kind == "cart")
            issues = found.issues
            ran, skipped = _checks_of(found.checks)
        except PayloadError as exc:
            order = None
            issue = MappingIssue(
                code=IssueCode.INVALID_ORDER,
                message=str(exc).removeprefix(f"{exc.path}: "),
                path=exc.path,
            )
            issues, ran, skipped = (issue,), (), tuple(str(c) for c in Check)
        except ConfigurationError:
            raise
        except (CtPrimaSyncError, RecursionError) as exc:
            order = None
            issue = MappingIssue(
                code=IssueCode.INVALID_ORDER, message=str(exc), path=getattr(exc, "path", "")
            )
            issues, ran, skipped = (issue,), (), tuple(str(c) for c in Check)
    errors = [
        _error(settings, str(i.code), str(i.owner), i.path, order=order, digest=digest)
        for i in issues
    ]
    warnings: list[ExtensionError] = []
    if settings.stock is not StockCheck.OFF and stock is not None and order is not None:
        short = _stock_errors(settings, order, stock, digest)
        (errors if settings.stock is StockCheck.REFUSE else warnings).extend(short)
        ran += ("stock",)
    return CheckoutVerdict(
        resource=kind,
        config_hash=digest,
        issues=tuple(issues),
        errors=tuple(errors),
        warnings=tuple(warnings),
        checks=ran,
        skipped=skipped,
    )
