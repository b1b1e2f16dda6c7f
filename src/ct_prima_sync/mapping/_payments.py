"""Payments: ``paymentState`` and the order's commercetools Payments as Prima's ``OrderPaid`` and
``OrderPaymentData``, with a check that what is paid covers the order.

Rules (docs/mapping.md, "Payments"):

1. Only successful transactions count. A payment covers what it charged less what it refunded
   and charged back, plus what it still holds authorised (authorised less cancelled less
   charged, never below zero): an order authorised but not yet captured is covered.
2. With ``payments.read_payments`` the engine reads the order's Payments and passes them in;
   when ``payments.check_coverage`` (the default) and they cover less than the order's gross,
   the order is PAYMENT_MISMATCH (finance) with the difference (covered minus gross).
3. Each covering payment becomes one ``OrderPaymentData``: ``PayMethod`` (and ``SubPayMethod``)
   from ``payments.methods`` by ``paymentMethodInfo.method`` (UNMAPPED_PAYMENT_METHOD otherwise),
   ``PayProvider`` from ``payments.providers`` by ``paymentMethodInfo.paymentInterface`` (the
   interface itself when unlisted), ``TranAmount`` what it covers, ``TransactionID`` the last
   successful charge's provider reference, ``PayAuthRef`` and ``AuthDate`` the successful
   authorisation's.
4. ``OrderPaid`` is Yes when ``paymentState`` is one of ``payments.paid_states`` (``Paid``) or the
   payments' net charges cover the gross.
5. Without Payments, the older setting still works: the order custom field ``payments.field``
   names the method, and the payment amount is the order's gross.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from attrs import field, frozen

from ..commercetools._models.enums import TransactionState, TransactionType
from ..commercetools._models.order import Order
from ..errors import ConfigurationError
from ..prima import SalesOrderPayment, SalesOrderTotals
from ._cfgread import reject_unknown, str_list, str_map, str_or_none, sub_path, table
from ._context import OrderContext
from ._issues import IssueCode

if TYPE_CHECKING:  # the Payment models load with the first payment parsed, not with the mapping
    from ..commercetools._models.payment import Payment, Transaction

__all__ = ["PayMethod", "PaymentConfig", "map_payments"]

_DEFAULT_PAID: Final = frozenset({"Paid"})


@frozen(kw_only=True)
class PayMethod:
    """A Prima pay method (``PayMethod``) and optional sub method (``SubPayMethod``)."""

    method: str
    sub_method: str = ""


@frozen(kw_only=True)
class PaymentConfig:
    """The ``[payments]`` table (docs/configuration.md)."""

    methods: Mapping[str, PayMethod] = field(factory=dict)
    """commercetools payment method (``paymentMethodInfo.method``, or the custom field's value)
    to Prima pay method."""
    read_payments: bool = False
    """Read the order's commercetools Payments (scope ``view_payments``)."""
    check_coverage: bool = True
    """With ``read_payments``: PAYMENT_MISMATCH when the payments cover less than the gross."""
    providers: Mapping[str, str] = field(factory=dict)
    """``paymentMethodInfo.paymentInterface`` to Prima ``PayProvider`` (unlisted: as is)."""
    paid_states: frozenset[str] = _DEFAULT_PAID
    """``paymentState`` values that make ``OrderPaid`` Yes."""
    field: str | None = None
    """Without Payments: the order custom field holding the payment method."""

    @classmethod
    def from_dict(cls, data: object, path: str = "payments") -> PaymentConfig:
        """Read the ``[payments]`` table."""
        raw = table(data, path)
        reject_unknown(
            raw,
            ("check_coverage", "field", "methods", "paid_states", "providers", "read_payments"),
            path,
        )
        methods: dict[str, PayMethod] = {}
        here = sub_path(path, "methods")
        for name, value in table(raw.get("methods"), here).items():
            at = sub_path(here, name)
            if isinstance(value, str) and value:
                methods[name] = PayMethod(method=value)
                continue
            entry = table(value, at)
            reject_unknown(entry, ("method", "sub_method"), at)
            method = str_or_none(entry, "method", at)
            if method is None:
                raise ConfigurationError(f"{sub_path(at, 'method')}: required")
            methods[name] = PayMethod(
                method=method, sub_method=str_or_none(entry, "sub_method", at) or ""
            )
        flags = {}
        for key, default in (("read_payments", False), ("check_coverage", True)):
            value = raw.get(key, default)
            if not isinstance(value, bool):
                raise ConfigurationError(f"{sub_path(path, key)}: expected true or false")
            flags[key] = value
        paid = str_list(raw, "paid_states", path)
        return cls(
            methods=methods,
            read_payments=flags["read_payments"],
            check_coverage=flags["check_coverage"],
            providers=str_map(raw, "providers", path),
            paid_states=frozenset(paid) if "paid_states" in raw else _DEFAULT_PAID,
            field=str_or_none(raw, "field", path),
        )


def _succeeded(transactions: Sequence[Transaction], kind: TransactionType) -> list[Transaction]:
    return [t for t in transactions if t.type == kind and t.state == TransactionState.SUCCESS]


def _covered(ctx: OrderContext, payment: Payment, path: str) -> tuple[int, int] | None:
    """(what the payment covers, what it charged net of refunds) in minor units."""
    sums: dict[TransactionType, int] = {}
    for kind in TransactionType:
        total = 0
        for transaction in _succeeded(payment.transactions, kind):
            index = payment.transactions.index(transaction)
            units = ctx.units(transaction.amount, f"{path}.transactions[{index}].amount")
            if units is None:
                return None
            total += units
        sums[kind] = total
    charged = (
        sums[TransactionType.CHARGE]
        - sums[TransactionType.REFUND]
        - sums[TransactionType.CHARGEBACK]
    )
    held = max(
        0,
        sums[TransactionType.AUTHORIZATION]
        - sums[TransactionType.CANCEL_AUTHORIZATION]
        - sums[TransactionType.CHARGE],
    )
    return charged + held, charged


def _from_payment(
    ctx: OrderContext, config: PaymentConfig, payment: Payment, covered: int, path: str
) -> SalesOrderPayment | None:
    info = payment.payment_method_info
    method = config.methods.get(info.method or "")
    if method is None:
        ctx.report(
            IssueCode.UNMAPPED_PAYMENT_METHOD,
            f"payment method {info.method!r} has no Prima pay method: add it to [payments.methods]",
            f"{path}.paymentMethodInfo.method",
        )
        return None
    charges = _succeeded(payment.transactions, TransactionType.CHARGE)
    auths = _succeeded(payment.transactions, TransactionType.AUTHORIZATION)
    interface = info.payment_interface or ""
    return SalesOrderPayment(
        pay_method=method.method,
        sub_pay_method=method.sub_method,
        amount=ctx.money(covered),
        provider=config.providers.get(interface, interface),
        transaction_id=(charges[-1].interaction_id or charges[-1].id) if charges else "",
        auth_reference=(auths[0].interaction_id or auths[0].id) if auths else "",
        authorised_at=auths[0].timestamp if auths else None,
    )


def _from_custom_field(
    ctx: OrderContext, order: Order, config: PaymentConfig, totals: SalesOrderTotals
) -> tuple[SalesOrderPayment, ...]:
    if config.field is None:
        return ()
    fields: Mapping[str, Any] = order.custom.fields if order.custom is not None else {}
    name = fields.get(config.field)
    if not isinstance(name, str) or not name:
        return ()
    method = config.methods.get(name)
    if method is None:
        ctx.report(
            IssueCode.UNMAPPED_PAYMENT_METHOD,
            f"payment method {name!r} has no Prima pay method: add it to [payments.methods]",
            f"custom.fields.{config.field}",
        )
        return ()
    payment = SalesOrderPayment(
        pay_method=method.method, sub_pay_method=method.sub_method, amount=totals.gross
    )
    return (payment,)


def map_payments(
    ctx: OrderContext,
    order: Order,
    config: PaymentConfig,
    payments: Sequence[Payment] | None,
    totals: SalesOrderTotals | None,
) -> tuple[tuple[SalesOrderPayment, ...], bool]:
    """The order's ``OrderPaymentData`` and ``OrderPaid``, reporting what does not map."""
    paid_state = order.payment_state is not None and str(order.payment_state) in config.paid_states
    if totals is None:
        return (), paid_state
    if not config.read_payments or payments is None:
        return _from_custom_field(ctx, order, config, totals), paid_state
    found: list[SalesOrderPayment] = []
    covered_total = charged_total = 0
    for index, payment in enumerate(payments):
        path = f"payments[{index}]"
        figures = _covered(ctx, payment, path)
        if figures is None:
            continue
        covered, charged = figures
        covered_total += covered
        charged_total += charged
        if covered > 0:
            mapped = _from_payment(ctx, config, payment, covered, path)
            if mapped is not None:
                found.append(mapped)
    gross = totals.gross.minor_units
    if config.check_coverage and covered_total < gross:
        ctx.report(
            IssueCode.PAYMENT_MISMATCH,
            f"the order's payments cover {ctx.money(covered_total)} of its "
            f"{ctx.money(gross)} gross (successful authorisations and charges, less "
            "cancellations, refunds and chargebacks)",
            "paymentInfo.payments",
            difference=covered_total - gross,
        )
    return tuple(found), paid_state or charged_total >= gross
