"""Typed omlink requests (what a client sends, what an emulator receives) and the site schema.

The request types Prima's public documentation shows (``MultiNewOrder``, ``OrderStatus``,
``ProductAvailableToSell``, ``MultiAvailableToSell``) keep their documented names. The ones it does
not show (customers, despatch details, depots, journals, cancellations and returns from the
shop) are site-specific: their names and the
attribute names of every shape are configuration (:class:`OmlinkSchema`), with the defaults
documented in ``docs/prima.md``.
"""

from __future__ import annotations

from collections.abc import Mapping

from attrs import field, frozen

from ...errors import ConfigurationError
from .._error_codes import ErrorCodeTable
from .._models import CustomerDetails, JournalBatch, SalesOrder, SkuCode
from .._order_changes import ReturnLine

__all__ = [
    "UNCONFIRMED_ORDER_FIELDS",
    "AtsRangeRequest",
    "AtsSkusRequest",
    "CancelOrderRequest",
    "CustomerCreateRequest",
    "CustomerFindRequest",
    "DepotListRequest",
    "DespatchDetailsRequest",
    "OmlinkRequest",
    "OmlinkSchema",
    "OrderReturnRequest",
    "OrderStatusRequest",
    "PostJournalRequest",
    "RequestTypeNames",
    "SubmitOrdersRequest",
]


#: Order attributes and elements the library can send that no public source confirms: sent only
#: with ``OmlinkSchema.extended_orders``.
UNCONFIRMED_ORDER_FIELDS = frozenset(
    {
        "NetValue", "GrossValue", "TaxCode", "TaxRate", "ChargeReference", "OrderNetValue",
        "OrderTaxValue", "OrderGrossValue", "OrderTaxData", "OrderDeliveryData", "ExternalId",
        "CustomerExternalId",
    }
)  # fmt: skip


@frozen(kw_only=True)
class RequestTypeNames:
    """The ``RequestType`` value of each request; the last seven are site-specific defaults."""

    submit_orders: str = "MultiNewOrder"
    order_status: str = "OrderStatus"
    ats_range: str = "ProductAvailableToSell"
    ats_skus: str = "MultiAvailableToSell"
    customer_find: str = "CustomerFind"
    customer_create: str = "CustomerCreate"
    despatch_details: str = "DespatchDetails"
    depot_list: str = "DepotList"
    post_journal: str = "PostJournal"
    cancel_order: str = "CancelOrder"
    order_return: str = "OrderReturn"

    def __attrs_post_init__(self) -> None:
        values = [getattr(self, a.name) for a in self.__attrs_attrs__]
        if any(not v or not v.strip() for v in values):
            raise ConfigurationError("request_types: every request type needs a non-empty name")
        if len({v.lower() for v in values}) != len(values):
            raise ConfigurationError("request_types: two request types have the same name")


def _check_renames(_: object, __: object, value: Mapping[str, str]) -> None:
    for key, wire in value.items():
        if not key or not wire or not wire.replace("_", "").replace("-", "").isalnum():
            raise ConfigurationError(
                f"attribute_names: {key!r} -> {wire!r} is not a valid XML name mapping"
            )


@frozen(kw_only=True)
class OmlinkSchema:
    """What varies between Prima installations in the XML itself.

    ``attribute_names`` renames attributes and elements of every shape from the library's default
    name to the installation's (``{"ExtTaxVal": "TaxValue"}``), for writing and reading alike;
    reading ignores case. Dates use ``date_format``; date-times ``datetime_format`` in UTC.
    ``ats_max_rows_attribute`` is the ``ProductAvailableToSell`` attribute that bounds a reply's
    rows, for paging the catalogue (site-specific, e.g. ``"MaxRows"``; see ``docs/prima.md``):
    empty by default, since no public source knows one, and the whole catalogue then comes in
    one reply (bounded by ``OmlinkConfig.max_reply_bytes``). ``error_codes`` says what Prima's
    ``(E:nnn)`` codes mean (defaults: the codes a real installation gave).

    ``extended_orders`` sends, with each order, the fields no public source confirms
    (:data:`UNCONFIRMED_ORDER_FIELDS`: each line's and charge's ``NetValue``/``GrossValue``/
    ``TaxCode``/``TaxRate``, the header's totals, ``OrderTaxData``, ``OrderDeliveryData``, the
    external ids): off by default, since an installation may refuse what it does not know.
    """

    request_types: RequestTypeNames = RequestTypeNames()
    attribute_names: Mapping[str, str] = field(factory=dict, validator=_check_renames)
    date_format: str = "%d/%m/%Y"
    datetime_format: str = "%d/%m/%Y %H:%M:%S"
    ats_max_rows_attribute: str = ""
    error_codes: ErrorCodeTable = field(factory=ErrorCodeTable)
    extended_orders: bool = False


@frozen(kw_only=True)
class SubmitOrdersRequest:
    """``MultiNewOrder``: one ``Data`` block per order; ``unique_ids`` are per send."""

    orders: tuple[SalesOrder, ...]
    unique_ids: tuple[str, ...]


@frozen(kw_only=True)
class OrderStatusRequest:
    """``OrderStatus`` for one order number."""

    order_number: str


@frozen(kw_only=True)
class AtsRangeRequest:
    """``ProductAvailableToSell`` for a product range (empty bounds: open); ``max_rows`` 0: none."""

    product_from: str = ""
    product_to: str = ""
    max_rows: int = 0


@frozen(kw_only=True)
class AtsSkusRequest:
    """``MultiAvailableToSell`` for the given SKUs."""

    skus: tuple[SkuCode, ...]


@frozen(kw_only=True)
class CustomerFindRequest:
    """Find a customer by account code, else by e-mail (site-specific)."""

    account_code: str = ""
    email: str = field(default="", repr=False)


@frozen(kw_only=True)
class CustomerCreateRequest:
    """Create a customer account (site-specific)."""

    details: CustomerDetails


@frozen(kw_only=True)
class DespatchDetailsRequest:
    """Despatch details of one order (site-specific)."""

    order_number: str


@frozen(kw_only=True)
class DepotListRequest:
    """Every depot (site-specific)."""


@frozen(kw_only=True)
class PostJournalRequest:
    """Post a journal batch (site-specific)."""

    batch: JournalBatch


@frozen(kw_only=True)
class CancelOrderRequest:
    """Cancel an order the shop cancelled (site-specific)."""

    order_number: str
    reason: str = ""


@frozen(kw_only=True)
class OrderReturnRequest:
    """Returned quantities of an order, reported by the shop (site-specific)."""

    order_number: str
    lines: tuple[ReturnLine, ...]


OmlinkRequest = (
    SubmitOrdersRequest
    | OrderStatusRequest
    | AtsRangeRequest
    | AtsSkusRequest
    | CustomerFindRequest
    | CustomerCreateRequest
    | DespatchDetailsRequest
    | DepotListRequest
    | PostJournalRequest
    | CancelOrderRequest
    | OrderReturnRequest
)
