"""MappingConfig: everything the order mapping needs to know about one installation.

Build it in code, from a dict (:meth:`MappingConfig.from_dict`) or from TOML
(:meth:`MappingConfig.from_toml`). Every bad setting raises
:class:`~ct_prima_sync.errors.ConfigurationError` naming its path (``taxes.codes[1].rate: ...``).
docs/configuration.md shows a whole mapping.toml.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

from attrs import field, frozen

from ..errors import ConfigurationError
from ..money import default_fraction_digits
from ..prima import SkuCode
from ._cfgread import reject_unknown, str_list, str_or_none, sub_path, table
from ._customers import CustomerConfig
from ._depots import DepotMap
from ._payments import PaymentConfig
from ._sku import SkuCodec
from ._stock import StockConfig

__all__ = [
    "CarrierService",
    "CustomLineTarget",
    "DiscountPresentation",
    "ExternalTaxPolicy",
    "MappingConfig",
    "OrderDiscountLines",
    "OrderDiscountScope",
    "PriceBasis",
    "ShippingCharges",
    "TaxCodeRule",
]


class PriceBasis(enum.StrEnum):
    """What Prima's line ``Price`` holds: the price of one unit or of the whole line."""

    UNIT = "unit"
    LINE = "line"


class DiscountPresentation(enum.StrEnum):
    """How discounts reach Prima.

    ``folded``: prices after discount, no discount figures. ``line_discount``: the list price in
    ``Price`` and the discount in the line's discount field. ``discount_lines``: the list price on
    the line plus a separate negative line (``discount_sku``) carrying the discount.
    """

    FOLDED = "folded"
    LINE_DISCOUNT = "line_discount"
    DISCOUNT_LINES = "discount_lines"


class OrderDiscountLines(enum.StrEnum):
    """How order-level discounts (``discountOnTotalPrice``) and shipping discounts reach Prima.

    ``spread`` (default): taken off the items (by the scope), shown as the presentation shows
    line discounts. ``discount_lines``: the items keep their figures before them, and each
    (tax code, rate) gets one negative ``discount_sku`` line carrying them, so Prima's discount
    reports see order-level promotions as such.
    """

    SPREAD = "spread"
    DISCOUNT_LINES = "discount_lines"


class OrderDiscountScope(enum.StrEnum):
    """Which items absorb an order-level discount (``discountOnTotalPrice``)."""

    LINES = "lines"
    LINES_AND_CHARGES = "lines_and_charges"


class ExternalTaxPolicy(enum.StrEnum):
    """Orders whose taxes commercetools did not compute (``taxMode`` External, ExternalAmount):
    ``accept`` maps them with the figures the order carries, ``reject`` reports
    UNSUPPORTED_TAX_SETUP."""

    ACCEPT = "accept"
    REJECT = "reject"


@frozen(kw_only=True)
class TaxCodeRule:
    """A commercetools tax rate that maps to Prima tax ``code``. ``rate`` must match; ``name``,
    ``country`` and ``included`` match when set."""

    code: str
    rate: Decimal
    name: str | None = None
    country: str | None = None
    included: bool | None = None

    def matches(self, rate: Decimal, name: str, country: str, included: bool) -> bool:
        """True when a commercetools tax rate is this rule's."""
        return (
            rate == self.rate
            and (self.name is None or self.name == name)
            and (self.country is None or self.country == country)
            and (self.included is None or self.included == included)
        )


@frozen(kw_only=True)
class CustomLineTarget:
    """What a custom line item becomes: a product line (``product``) or a charge (``charge``)."""

    product: SkuCode | None = None
    charge: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.product is None) == (self.charge is None):
            raise ConfigurationError("a custom line maps to exactly one of product or charge")


@frozen(kw_only=True)
class CarrierService:
    """The Prima carrier (``OrderHeaderData@Carrier``) and service (``CarrServ``) of a shipping
    method."""

    carrier: str
    service: str = ""


@frozen(kw_only=True)
class ShippingCharges:
    """Prima charge codes and carriers for shipping: by shipping key (multiple shipping) first,
    then by shipping method key, id or name, then ``default`` / ``default_carrier``.

    Carriers are optional; once any is configured, every shipping method must have one
    (UNMAPPED_CARRIER, owned by operations), so no order reaches Prima with an empty carrier by
    accident.
    """

    keys: Mapping[str, str] = field(factory=dict)
    methods: Mapping[str, str] = field(factory=dict)
    default: str | None = None
    carriers: Mapping[str, CarrierService] = field(factory=dict)
    """Carriers by shipping key or shipping method key, id or name."""
    default_carrier: CarrierService | None = None

    def code_for(self, *, shipping_key: str | None, method_names: tuple[str, ...]) -> str | None:
        """The charge code, or ``None`` (UNMAPPED_SHIPPING_METHOD)."""
        if shipping_key is not None and shipping_key in self.keys:
            return self.keys[shipping_key]
        for name in method_names:
            if name in self.methods:
                return self.methods[name]
        return self.default

    @property
    def uses_carriers(self) -> bool:
        """True when carriers are configured (then every shipping method needs one)."""
        return bool(self.carriers) or self.default_carrier is not None

    def carrier_for(
        self, *, shipping_key: str | None, method_names: tuple[str, ...]
    ) -> CarrierService | None:
        """The carrier and service, or ``None`` (UNMAPPED_CARRIER when carriers are in use)."""
        for name in (shipping_key, *method_names):
            if name is not None and name in self.carriers:
                return self.carriers[name]
        return self.default_carrier


_TOP_KEYS: Final = (
    "currencies",
    "custom_lines",
    "customers",
    "depots",
    "ignore_fields",
    "order_channel",
    "order_number_prefix",
    "order_type",
    "payments",
    "stock",
    "prices",
    "shipping",
    "sku",
    "taxes",
)


_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_/.-]{0,11}")


def _check_prefix(_instance: object, _attribute: object, value: str) -> None:
    if value and not _PREFIX.fullmatch(value):
        raise ConfigurationError(
            f"order_number_prefix: {value[:20]!r} must be up to 12 letters, digits or - _ / . "
            "starting with a letter or digit (Prima order numbers are short codes)"
        )


@frozen(kw_only=True)
class MappingConfig:
    """The whole order-mapping configuration (see docs/configuration.md and docs/mapping.md)."""

    sku: SkuCodec = field(factory=SkuCodec)
    depots: DepotMap = field(factory=DepotMap)
    customers: CustomerConfig = field(factory=CustomerConfig)
    tax_codes: tuple[TaxCodeRule, ...] = ()
    external_tax: ExternalTaxPolicy = ExternalTaxPolicy.REJECT
    price_basis: PriceBasis = PriceBasis.UNIT
    vat_inclusive: bool = True
    price_book_vat_inclusive: bool | None = None
    """Whether the Prima installation's price book holds VAT-inclusive prices, when known: a
    sales order whose ``VatInclusive`` disagrees is refused by Prima (``E:548``)."""
    discounts: DiscountPresentation = DiscountPresentation.FOLDED
    discount_sku: SkuCode | None = None
    order_discount_scope: OrderDiscountScope = OrderDiscountScope.LINES
    order_discounts: OrderDiscountLines = OrderDiscountLines.SPREAD
    shipping: ShippingCharges = field(factory=ShippingCharges)
    custom_lines: Mapping[str, CustomLineTarget] = field(factory=dict)
    currencies: frozenset[str] = frozenset()
    """Allowed order currencies; empty allows any."""
    order_channel: str = ""
    order_type: str = ""
    order_number_prefix: str = field(default="", validator=_check_prefix)
    """Put before every commercetools order number to make the Prima order number (and the
    state ledger's), so that several shops feeding one Prima never collide: ``"DE-"`` makes
    order ``1001`` Prima order ``DE-1001``. Empty: Prima gets commercetools' number."""
    payments: PaymentConfig = field(factory=PaymentConfig)
    """Payments into ``OrderPaid`` and ``OrderPaymentData`` (the ``[payments]`` table)."""
    ignore_fields: frozenset[str] = frozenset()
    """Unknown commercetools fields reviewed and known not to change money or fulfilment."""
    stock: StockConfig = field(factory=StockConfig)
    """How Prima's available-to-sell becomes commercetools inventory (the ``[stock]`` table)."""

    def prima_order_number(self, order_number: str) -> str:
        """The Prima (and ledger) order number of commercetools order number ``order_number``:
        ``order_number_prefix`` put before it."""
        return f"{self.order_number_prefix}{order_number}"

    def __attrs_post_init__(self) -> None:
        if (
            self.price_book_vat_inclusive is not None
            and self.price_book_vat_inclusive != self.vat_inclusive
        ):
            book = "includes" if self.price_book_vat_inclusive else "excludes"
            raise ConfigurationError(
                f"prices.vat_inclusive: {str(self.vat_inclusive).lower()} disagrees with "
                f"prices.price_book_vat_inclusive (the Prima price book {book} VAT); Prima refuses "
                "every such order with E:548: set vat_inclusive to match the price book"
            )
        if self.discounts is DiscountPresentation.DISCOUNT_LINES and self.discount_sku is None:
            raise ConfigurationError(
                "prices.discount_sku: required when prices.discounts is 'discount_lines'"
            )
        if self.order_discounts is OrderDiscountLines.DISCOUNT_LINES and self.discount_sku is None:
            raise ConfigurationError(
                "prices.discount_sku: required when prices.order_discounts is 'discount_lines'"
            )
        for currency in self.currencies:
            try:
                default_fraction_digits(currency)
            except ValueError:
                raise ConfigurationError(
                    f"currencies: {currency!r} is not an ISO 4217 code"
                ) from None

    def tax_code_for(self, rate: Decimal, name: str, country: str, included: bool) -> str | None:
        """The Prima tax code of a commercetools tax rate (first matching rule), or ``None``."""
        for rule in self.tax_codes:
            if rule.matches(rate, name, country, included):
                return rule.code
        return None

    @classmethod
    def from_toml(cls, text: str) -> MappingConfig:
        """Read mapping.toml text. Decimals (tax rates) are read exactly, never as floats."""
        import tomllib  # noqa: PLC0415 (only TOML users pay for the parser at import)

        try:
            data = tomllib.loads(text, parse_float=Decimal)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"mapping configuration is not valid TOML: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: object, path: str = "") -> MappingConfig:
        """Read the configuration from a dict (parsed TOML or JSON); see docs/configuration.md."""
        raw = table(data, path or "mapping")
        reject_unknown(raw, _TOP_KEYS, path)
        prices = table(raw.get("prices"), sub_path(path, "prices"))
        prices_path = sub_path(path, "prices")
        reject_unknown(
            prices,
            (
                "basis",
                "discount_sku",
                "discounts",
                "order_discount_scope",
                "order_discounts",
                "price_book_vat_inclusive",
                "vat_inclusive",
            ),
            prices_path,
        )
        taxes_path = sub_path(path, "taxes")
        taxes = table(raw.get("taxes"), taxes_path)
        reject_unknown(taxes, ("codes", "external"), taxes_path)
        discount_sku = str_or_none(prices, "discount_sku", prices_path)
        currencies = str_list(raw, "currencies", path)
        skus = SkuCodec.from_dict(raw.get("sku"), sub_path(path, "sku"))
        depots = DepotMap.from_dict(raw.get("depots"), sub_path(path, "depots"))
        return cls(
            sku=skus,
            depots=depots,
            stock=StockConfig.from_dict(
                raw.get("stock"), sub_path(path, "stock"), skus=skus, depots=depots
            ),
            customers=CustomerConfig.from_dict(raw.get("customers"), sub_path(path, "customers")),
            tax_codes=_read_tax_codes(taxes.get("codes"), sub_path(taxes_path, "codes")),
            external_tax=_enum(
                ExternalTaxPolicy, taxes, "external", taxes_path, ExternalTaxPolicy.REJECT
            ),
            price_basis=_enum(PriceBasis, prices, "basis", prices_path, PriceBasis.UNIT),
            vat_inclusive=_bool(prices, "vat_inclusive", prices_path, default=True),
            price_book_vat_inclusive=(
                None
                if prices.get("price_book_vat_inclusive") is None
                else _bool(prices, "price_book_vat_inclusive", prices_path, default=True)
            ),
            discounts=_enum(
                DiscountPresentation,
                prices,
                "discounts",
                prices_path,
                DiscountPresentation.FOLDED,
            ),
            discount_sku=(
                _sku_code(discount_sku, sub_path(prices_path, "discount_sku"))
                if discount_sku
                else None
            ),
            order_discount_scope=_enum(
                OrderDiscountScope,
                prices,
                "order_discount_scope",
                prices_path,
                OrderDiscountScope.LINES,
            ),
            order_discounts=_enum(
                OrderDiscountLines,
                prices,
                "order_discounts",
                prices_path,
                OrderDiscountLines.SPREAD,
            ),
            shipping=_read_shipping(raw.get("shipping"), sub_path(path, "shipping")),
            custom_lines=_read_custom_lines(
                raw.get("custom_lines"), sub_path(path, "custom_lines")
            ),
            currencies=frozenset(currencies),
            order_channel=str_or_none(raw, "order_channel", path) or "",
            order_type=str_or_none(raw, "order_type", path) or "",
            order_number_prefix=str_or_none(raw, "order_number_prefix", path) or "",
            payments=PaymentConfig.from_dict(raw.get("payments"), sub_path(path, "payments")),
            ignore_fields=frozenset(str_list(raw, "ignore_fields", path)),
        )


_E = TypeVar("_E", bound=enum.StrEnum)


def _enum(kind: type[_E], data: Mapping[str, Any], key: str, path: str, default: _E) -> _E:
    value = data.get(key)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in kind)
        raise ConfigurationError(
            f"{sub_path(path, key)}: expected one of {allowed}, got {value!r}"
        ) from None


def _bool(data: Mapping[str, Any], key: str, path: str, *, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ConfigurationError(f"{sub_path(path, key)}: expected true or false")
    return value


def _sku_code(text: str, path: str) -> SkuCode:
    product, *matrix = text.split("/")
    if not product or len(matrix) > 4 or not all(matrix):
        raise ConfigurationError(
            f"{path}: expected 'PRODUCT' or 'PRODUCT/M1/...' with at most four matrix codes"
        )
    return SkuCode(product=product, matrix=tuple(matrix))


def _decimal(value: object, path: str) -> Decimal:
    if isinstance(value, bool):
        raise ConfigurationError(f'{path}: expected a decimal rate such as "0.19"')
    if isinstance(value, float):
        # JSON configuration carries rates as numbers; read them as the digits written.
        value = repr(value)
    if not isinstance(value, str | int | Decimal):
        raise ConfigurationError(f'{path}: expected a decimal rate such as "0.19"')
    try:
        rate = Decimal(value)
    except InvalidOperation:
        raise ConfigurationError(f"{path}: {value!r} is not a decimal rate") from None
    if not rate.is_finite() or not 0 <= rate < 10:
        raise ConfigurationError(f"{path}: a rate is a fraction such as 0.19 (19 %), got {rate}")
    return rate


def _read_tax_codes(data: object, path: str) -> tuple[TaxCodeRule, ...]:
    if data is None:
        return ()
    if isinstance(data, str | Mapping) or not isinstance(data, list | tuple):
        raise ConfigurationError(f"{path}: expected a list of tables ([[taxes.codes]])")
    rules = []
    for index, item in enumerate(data):
        here = sub_path(path, index)
        entry = table(item, here)
        reject_unknown(entry, ("code", "country", "included", "name", "rate"), here)
        code = str_or_none(entry, "code", here)
        if code is None:
            raise ConfigurationError(f"{sub_path(here, 'code')}: required")
        if "rate" not in entry:
            raise ConfigurationError(f"{sub_path(here, 'rate')}: required")
        included = entry.get("included")
        if included is not None and not isinstance(included, bool):
            raise ConfigurationError(f"{sub_path(here, 'included')}: expected true or false")
        rules.append(
            TaxCodeRule(
                code=code,
                rate=_decimal(entry["rate"], sub_path(here, "rate")),
                name=str_or_none(entry, "name", here),
                country=str_or_none(entry, "country", here),
                included=included,
            )
        )
    return tuple(rules)


def _shipping_entry(
    value: object, path: str, carriers: dict[str, CarrierService], name: str
) -> str | None:
    """A ``[shipping]`` value: a charge code, or ``{ charge, carrier, service }``."""
    if isinstance(value, str) and value:
        return value
    entry = table(value, path)
    reject_unknown(entry, ("carrier", "charge", "service"), path)
    carrier = str_or_none(entry, "carrier", path)
    service = str_or_none(entry, "service", path)
    if carrier is not None:
        carriers[name] = CarrierService(carrier=carrier, service=service or "")
    elif service is not None:
        raise ConfigurationError(f"{sub_path(path, 'service')}: needs a carrier")
    return str_or_none(entry, "charge", path)


def _read_shipping(data: object, path: str) -> ShippingCharges:
    raw = table(data, path)
    reject_unknown(raw, ("default", "keys", "methods"), path)
    carriers: dict[str, CarrierService] = {}
    found: dict[str, dict[str, str]] = {"keys": {}, "methods": {}}
    for group, codes in found.items():
        here = sub_path(path, group)
        for name, value in table(raw.get(group), here).items():
            code = _shipping_entry(value, sub_path(here, name), carriers, name)
            if code is not None:
                codes[name] = code
    default_carriers: dict[str, CarrierService] = {}
    default = raw.get("default")
    code = (
        None
        if default is None
        else _shipping_entry(default, sub_path(path, "default"), default_carriers, "")
    )
    return ShippingCharges(
        keys=found["keys"],
        methods=found["methods"],
        default=code,
        carriers=carriers,
        default_carrier=default_carriers.get(""),
    )


def _read_custom_lines(data: object, path: str) -> dict[str, CustomLineTarget]:
    raw = table(data, path)
    targets = {}
    for name, value in raw.items():
        here = sub_path(path, name)
        entry = table(value, here)
        reject_unknown(entry, ("charge", "product"), here)
        product = str_or_none(entry, "product", here)
        charge = str_or_none(entry, "charge", here)
        if (product is None) == (charge is None):
            raise ConfigurationError(f"{here}: set exactly one of product or charge")
        targets[name] = CustomLineTarget(
            product=_sku_code(product, sub_path(here, "product")) if product else None,
            charge=charge,
        )
    return targets
