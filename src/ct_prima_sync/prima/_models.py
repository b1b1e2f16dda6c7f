"""Prima's side of the boundary, as plain frozen data (no network behaviour).

These are what the engine and the mapping speak; the omlink client, the emulator and the fakes turn
them into and out of Prima's XML. Amounts are :class:`~ct_prima_sync.money.Money`; personal data
fields are excluded from ``repr``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

from attrs import field, frozen

from ..errors import PayloadError
from ..money import Money

__all__ = [
    "CustomerDetails",
    "Depot",
    "Despatch",
    "DespatchDetails",
    "DespatchLine",
    "JournalBatch",
    "JournalLine",
    "JournalPostingResult",
    "OrderStatus",
    "OrderStatusReport",
    "PostalAddress",
    "PrimaCustomer",
    "PrimaErrorCode",
    "SalesOrder",
    "SalesOrderCharge",
    "SalesOrderLine",
    "SalesOrderPayment",
    "SalesOrderTotals",
    "SkuCode",
    "StockLevel",
    "SubmitResult",
    "TaxTotal",
]


@frozen(kw_only=True)
class SkuCode:
    """A Prima SKU: a product code plus up to four style-matrix codes (colour, size, ...)."""

    product: str
    matrix: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if not self.product:
            raise PayloadError("a Prima SKU needs a product code")
        if len(self.matrix) > 4:
            raise PayloadError("Prima has at most four matrix codes (MtrxCode1..4)")

    def __str__(self) -> str:
        return "/".join((self.product, *self.matrix))


@frozen(kw_only=True)
class PostalAddress:
    """An address in Prima's shape: up to six lines, a post code and an ISO 3166 alpha-2 country."""

    lines: tuple[str, ...] = field(default=(), repr=False)
    post_code: str = field(default="", repr=False)
    country: str = ""

    def __attrs_post_init__(self) -> None:
        if len(self.lines) > 6:
            raise PayloadError("Prima addresses have at most six lines (AddrLine1..6)")


@frozen(kw_only=True)
class CustomerDetails:
    """Who the order belongs to, as sent with the order or to create a Prima customer.

    ``account_code`` is the Prima account when it is known (matched or created beforehand); empty
    lets Prima choose or create one from the details.
    """

    account_code: str = ""
    title: str = field(default="", repr=False)
    forename: str = field(default="", repr=False)
    surname: str = field(default="", repr=False)
    company: str = field(default="", repr=False)
    email: str = field(default="", repr=False)
    phone: str = field(default="", repr=False)
    mobile: str = field(default="", repr=False)
    address: PostalAddress = PostalAddress()
    receive_mail: bool = False
    receive_email: bool = False
    receive_text: bool = False
    receive_phone: bool = False
    external_id: str = ""
    """The commercetools customer id (or empty for guest orders)."""


@frozen(kw_only=True)
class PrimaCustomer:
    """A customer account as Prima holds it."""

    account_code: str
    email: str = field(default="", repr=False)
    name: str = field(default="", repr=False)
    external_id: str = ""


@frozen(kw_only=True)
class SalesOrderLine:
    """One order line (``OrderLineData``).

    ``price`` is the figure Prima's ``Price`` field receives: unit or line, gross or net, as the
    mapping configuration's price basis says. ``net``, ``tax`` and ``gross`` are the line's totals
    after every discount, so that the order's lines and charges add up to commercetools' totals.
    """

    line_number: int
    sku: SkuCode
    quantity: int
    price: Money
    net: Money
    tax: Money
    gross: Money
    warehouse: str
    tax_code: str
    tax_rate: Decimal
    discount: Money
    """Total discount on this line (line-level plus its share of order-level discounts), gross or
    net as the price basis says; zero when discounts are folded into the price."""
    promotion: str = ""
    line_reference: str = ""
    """The commercetools line item (or custom line item) id."""
    narrative: str = ""
    reserve: bool = True
    due_date: date | None = None


@frozen(kw_only=True)
class SalesOrderCharge:
    """A charge on the order (``OrderChargeData``): shipping, or a custom line as a charge."""

    charge_code: str
    value: Money
    net: Money
    tax: Money
    gross: Money
    tax_code: str
    tax_rate: Decimal
    reference: str = ""
    """Where it came from: a shipping key, ``shipping`` for single shipping, or a custom line id."""


@frozen(kw_only=True)
class SalesOrderPayment:
    """A payment taken for the order (``OrderPaymentData``)."""

    pay_method: str
    amount: Money
    sub_pay_method: str = ""
    provider: str = ""
    transaction_id: str = field(default="", repr=False)
    auth_reference: str = field(default="", repr=False)
    authorised_at: datetime | None = None


@frozen(kw_only=True)
class TaxTotal:
    """The tax of one rate across the order."""

    tax_code: str
    rate: Decimal
    net: Money
    tax: Money


@frozen(kw_only=True)
class SalesOrderTotals:
    """Totals of the sales order as mapped; they equal commercetools' taxedPrice exactly."""

    net: Money
    tax: Money
    gross: Money
    by_rate: tuple[TaxTotal, ...] = ()


@frozen(kw_only=True)
class SalesOrder:
    """A sales order for Prima (a ``Data`` block of ``MultiNewOrder``).

    ``order_number`` is the stable external reference Prima de-duplicates on (``OrderNumber`` and
    ``TPGUID``); it never changes between sends of the same commercetools order.
    """

    order_number: str
    external_id: str
    """The commercetools order id."""
    order_date: datetime
    currency: str
    vat_inclusive: bool
    order_channel: str
    customer: CustomerDetails
    lines: tuple[SalesOrderLine, ...]
    totals: SalesOrderTotals
    charges: tuple[SalesOrderCharge, ...] = ()
    payments: tuple[SalesOrderPayment, ...] = ()
    delivery_address: PostalAddress | None = None
    invoice_address: PostalAddress | None = None
    invoice_name: str = field(default="", repr=False)
    carrier: str = ""
    carrier_service: str = ""
    order_type: str = ""
    hold: bool = False
    hold_narrative: str = ""
    customer_reference: str = ""
    order_paid: bool = False
    extra_attributes: Mapping[str, str] = field(factory=dict, repr=False)
    """Site-specific ``Data`` attributes an installation needs (configuration, not code)."""


@frozen(kw_only=True)
class PrimaErrorCode:
    """One ``(E:nnn) message`` part of a Prima error text.

    ``code`` is the code as Prima writes it (``"E:21"``); ``message`` the text after it, with the
    "DEV MODE Stack Trace" tail Prima appends cut off (the full text stays in the raw error).
    """

    code: str
    message: str


@frozen(kw_only=True)
class SubmitResult:
    """Prima's answer for one submitted order.

    ``duplicate`` is True when Prima answered, in the older reply shape, that it already had the
    order number (the earlier order stands). A real installation answers a duplicate order number
    with a refusal carrying ``(E:21)`` instead: ``accepted`` False and the code in
    ``error_codes``; what it means is the engine's decision (``docs/prima.md``).

    ``error`` is Prima's rejection text as users should see it (stack-trace tails removed);
    ``raw_error`` the text exactly as Prima sent it; ``error_codes`` its ``(E:nnn)`` parts.
    ``customer_code`` is the account Prima matched or created for an order sent with an empty
    ``Customer`` (``Data@CustomerCode``), empty when Prima named none. ``prima_reference`` is the
    reference Prima gave the order, empty when its reply carries none (real installations answer
    with the order number only: the order number is then the reference on record).
    """

    order_number: str
    accepted: bool
    prima_reference: str = ""
    duplicate: bool = False
    error: str = ""
    raw_error: str = field(default="", repr=False)
    error_codes: tuple[PrimaErrorCode, ...] = ()
    customer_code: str = ""


class OrderStatus(enum.StrEnum):
    """Order status values as Prima reports them (``Data@OrderStatus``).

    ``UNKNOWN_TO_PRIMA`` is not a Prima value: it means Prima does not know the order number
    (``OrderStatus`` answered ERROR), which is how a caller tells "never arrived" from "arrived".
    ``OTHER`` stands for a value this library does not know; the report keeps the raw text.
    """

    UNKNOWN_TO_PRIMA = "UnknownToPrima"
    OUTSTANDING = "Outstanding"
    ON_HOLD = "On Hold"
    AUTHORISED = "Authorised"
    ALLOCATED = "Allocated"
    PART_DESPATCHED = "Part Despatched"
    DESPATCHED = "Despatched"
    INVOICED = "Invoiced"
    CANCELLED = "Cancelled"
    OTHER = "Other"

    @property
    def known_to_prima(self) -> bool:
        """True for every status but UNKNOWN_TO_PRIMA."""
        return self is not OrderStatus.UNKNOWN_TO_PRIMA


@frozen(kw_only=True)
class OrderStatusReport:
    """The status of one order; ``raw`` is Prima's text (useful when ``status`` is OTHER)."""

    order_number: str
    status: OrderStatus
    raw: str = ""
    prima_reference: str = ""


@frozen(kw_only=True)
class DespatchLine:
    """A quantity of one order line that left the warehouse."""

    line_number: int
    sku: SkuCode
    quantity: int


@frozen(kw_only=True)
class Despatch:
    """One despatch (consignment) of an order: lines, carrier, tracking numbers, date."""

    despatch_id: str
    despatched_on: date
    lines: tuple[DespatchLine, ...]
    carrier: str = ""
    carrier_service: str = ""
    tracking_numbers: tuple[str, ...] = ()


@frozen(kw_only=True)
class DespatchDetails:
    """Everything despatched for an order so far, with its current status."""

    order_number: str
    status: OrderStatus
    despatches: tuple[Despatch, ...] = ()


@frozen(kw_only=True)
class StockLevel:
    """Available-to-sell stock of one SKU; ``depot`` is empty where Prima reports one figure."""

    sku: SkuCode
    available: int
    depot: str = ""
    available_date: date | None = None


@frozen(kw_only=True)
class Depot:
    """A Prima warehouse (depot)."""

    code: str
    name: str = ""


@frozen(kw_only=True)
class JournalLine:
    """One line of a financial journal: a signed amount (debit positive, credit negative)."""

    account: str
    amount: Money
    description: str = ""
    reference: str = ""
    """What the line posts for, usually the order number."""
    tax_code: str = ""


@frozen(kw_only=True)
class JournalBatch:
    """A batch of journal lines posted together; ``batch_id`` makes posting idempotent.

    The lines of a batch balance: their amounts sum to zero.
    """

    batch_id: str
    posting_date: date
    currency: str
    lines: tuple[JournalLine, ...]
    description: str = ""


@frozen(kw_only=True)
class JournalPostingResult:
    """Prima's answer to a journal batch; ``duplicate`` when the batch id was already posted."""

    batch_id: str
    prima_reference: str = ""
    duplicate: bool = False
