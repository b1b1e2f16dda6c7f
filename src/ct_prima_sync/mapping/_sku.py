"""The SKU codec: commercetools SKU <-> Prima SKU (product code + MtrxCode1..4).

Forward (orders), first hit wins:

1. the lookup ``table`` (an exact commercetools SKU);
2. the pattern ``rules``, in order: a regular expression with named groups that must match the
   whole SKU; group ``product`` is the Prima product code, the groups named in ``matrix`` are
   MtrxCode1..4;
3. the variant ``attributes`` source: the product code and matrix codes read from named variant
   attributes (e.g. ``style``, ``colour``, ``size``); without a product attribute the
   commercetools SKU is the product code and only the matrix codes come from attributes.

No hit gives ``None``; the order mapping reports it as UNMAPPED_SKU.

Reverse (stock): the table read backwards, then each rule's ``template`` (``"{product}-{colour}"``).
A reverse candidate is only returned when the forward codec maps it back to the same Prima SKU, so
``to_prima(to_commercetools(code)) == code`` whenever the reverse answers. SKUs known only through
variant attributes cannot be reversed: list them in the table.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

from attrs import field, frozen

from ..errors import ConfigurationError, PayloadError
from ..prima import SkuCode
from ._cfgread import reject_unknown, str_list, str_or_none, sub_path, table

__all__ = ["SkuAttributeSource", "SkuCodec", "SkuRule"]

_MAX_MATRIX = 4
_PRODUCT = "product"


@frozen(kw_only=True)
class SkuRule:
    """One pattern rule: ``pattern`` must match the whole commercetools SKU.

    ``matrix`` names the groups that become MtrxCode1..4, in that order; a group that did not take
    part in the match (or matched empty) gives an empty matrix code, and trailing empty codes are
    dropped. ``template`` rebuilds the commercetools SKU from ``product`` and the matrix group
    names, for stock; without it the rule is forward-only.
    """

    pattern: re.Pattern[str]
    matrix: tuple[str, ...] = ()
    template: str | None = None
    _positional: str | None = field(init=False, repr=False, eq=False, default=None)

    def __attrs_post_init__(self) -> None:
        groups = set(self.pattern.groupindex)
        if _PRODUCT not in groups:
            raise ConfigurationError("pattern: needs a named group (?P<product>...)")
        if len(self.matrix) > _MAX_MATRIX:
            raise ConfigurationError("matrix: Prima has at most four matrix codes")
        missing = [name for name in self.matrix if name not in groups]
        if missing:
            raise ConfigurationError(f"matrix: groups not in the pattern: {', '.join(missing)}")
        if self.template is not None:
            names = {n for _, n, _, _ in string.Formatter().parse(self.template) if n is not None}
            unknown = names - {_PRODUCT, *self.matrix}
            if unknown:
                raise ConfigurationError(
                    f"template: unknown fields {', '.join(sorted(unknown))} "
                    "(use product and the matrix group names)"
                )
            # Stock reverses every SKU of the catalogue: a positional format string is cheap.
            order = {name: str(i) for i, name in enumerate((_PRODUCT, *self.matrix))}
            positional = "".join(
                literal.replace("{", "{{").replace("}", "}}")
                + ("" if name is None else "{" + order[name] + (f":{spec}" if spec else "") + "}")
                for literal, name, spec, _ in string.Formatter().parse(self.template)
            )
            object.__setattr__(self, "_positional", positional)

    def match(self, sku: str) -> tuple[str, tuple[str, ...]] | None:
        """``(product, matrix)`` when the rule matches ``sku``, else ``None``."""
        found = self.pattern.fullmatch(sku)
        if found is None:
            return None
        if not self.matrix:
            product = found.group(_PRODUCT)
            return (product, ()) if product else None
        # One group() call for all names, and no per-code work in the usual case: stock reverses
        # (and re-checks) every SKU of the catalogue.
        values: tuple[str | None, ...] = found.group(_PRODUCT, *self.matrix)
        product = values[0]
        if not product:
            return None
        matrix = values[1:]
        if None in matrix or not matrix[-1]:
            codes = [code or "" for code in matrix]
            while codes and not codes[-1]:
                codes.pop()
            return product, tuple(codes)
        return product, cast("tuple[str, ...]", matrix)

    def render(self, product: str, matrix: tuple[str, ...]) -> str | None:
        """The commercetools SKU this rule's template makes of a Prima SKU (``None``: cannot)."""
        if self._positional is None or len(matrix) > len(self.matrix):
            return None
        if len(matrix) < len(self.matrix):
            matrix = matrix + ("",) * (len(self.matrix) - len(matrix))
        return self._positional.format(product, *matrix)


@frozen(kw_only=True)
class SkuAttributeSource:
    """Read the Prima SKU from variant attributes: ``product`` names the attribute holding the
    product code (when ``None``, the commercetools SKU itself is the product code), ``matrix`` the
    attributes holding MtrxCode1..4 (missing ones read as empty)."""

    product: str | None = None
    matrix: tuple[str, ...] = ()

    def read(
        self, sku: str | None, attributes: Mapping[str, object]
    ) -> tuple[str, tuple[str, ...]] | None:
        """``(product, matrix)`` from the attribute values, or ``None`` without a product."""
        product = _attribute_text(attributes.get(self.product)) if self.product else sku
        if not product:
            return None
        matrix = [_attribute_text(attributes.get(name)) for name in self.matrix]
        while matrix and not matrix[-1]:
            matrix.pop()
        return product, tuple(matrix)


def _attribute_text(value: object) -> str:
    """An attribute value as a code: text, an enum's ``key``, or a whole number."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        key = value.get("key")
        return key if isinstance(key, str) else ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    return ""


def _reverse_table(entries: Mapping[str, SkuCode]) -> dict[tuple[str, tuple[str, ...]], str]:
    reverse: dict[tuple[str, tuple[str, ...]], str] = {}
    for sku, code in sorted(entries.items()):
        reverse.setdefault((code.product, code.matrix), sku)
    return reverse


@frozen(kw_only=True)
class SkuCodec:
    """commercetools SKU <-> Prima SKU, by table, pattern rules and variant attributes.

    Build it in code or from configuration with :meth:`from_dict`.
    """

    table: Mapping[str, SkuCode] = field(factory=dict)
    rules: tuple[SkuRule, ...] = ()
    attributes: SkuAttributeSource | None = None
    _reverse: Mapping[tuple[str, tuple[str, ...]], str] = field(
        init=False, repr=False, eq=False, factory=dict
    )

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_reverse", _reverse_table(self.table))

    def _forward(self, sku: str) -> tuple[str, tuple[str, ...]] | None:
        code = self.table.get(sku)
        if code is not None:
            return code.product, code.matrix
        for rule in self.rules:
            found = rule.match(sku)
            if found is not None:
                return found
        return None

    def to_prima(
        self, sku: str | None, attributes: Mapping[str, object] | None = None
    ) -> SkuCode | None:
        """The Prima SKU for a commercetools SKU (and the variant's attribute values by name).

        ``None`` when nothing maps it: the caller reports UNMAPPED_SKU.
        """
        found = self._forward(sku) if sku else None
        if found is None and self.attributes is not None and attributes is not None:
            found = self.attributes.read(sku, attributes)
        if found is None:
            return None
        product, matrix = found
        return SkuCode(product=product, matrix=matrix)

    def to_commercetools(self, code: SkuCode) -> str | None:
        """The commercetools SKU whose stock a Prima SKU's figures belong to, or ``None``."""
        return self.reverse(code.product, code.matrix)

    def reverse(self, product: str, matrix: tuple[str, ...]) -> str | None:
        """:meth:`to_commercetools` for a product code and matrix codes (no SkuCode needed)."""
        key = (product, matrix)
        sku = self._reverse.get(key)
        if sku is not None:
            return sku
        for rule in self.rules:
            candidate = rule.render(product, matrix)
            # Only answer what maps back: an earlier rule or a table entry may claim the candidate.
            if candidate is not None and self._forward(candidate) == key:
                return candidate
        return None

    @classmethod
    def from_dict(cls, data: object, path: str = "sku") -> SkuCodec:
        """Read the codec from configuration (the ``[sku]`` table of mapping.toml)::

            [sku.table]                       # exact commercetools SKUs
            "GIFTCARD-50" = "GIFT/50"         # "product/matrix1/..." or {product=..., matrix=[...]}
            [[sku.rules]]                     # tried in order
            pattern = '(?P<product>[A-Z0-9]+)-(?P<colour>[A-Z]+)-(?P<size>\\w+)'
            matrix = ["colour", "size"]
            template = "{product}-{colour}-{size}"
            [sku.attributes]                  # optional, last resort
            product = "style"                 # absent: the commercetools SKU is the product
            matrix = ["colour", "size"]

        Raises ConfigurationError naming the setting path.
        """
        raw = table(data, path)
        reject_unknown(raw, ("attributes", "rules", "table"), path)
        entries = _read_table(raw.get("table"), sub_path(path, "table"))
        rules = _read_rules(raw.get("rules"), sub_path(path, "rules"))
        source: SkuAttributeSource | None = None
        if raw.get("attributes") is not None:
            here = sub_path(path, "attributes")
            attrs_raw = table(raw["attributes"], here)
            reject_unknown(attrs_raw, ("matrix", "product"), here)
            product = str_or_none(attrs_raw, "product", here)
            matrix = str_list(attrs_raw, "matrix", here)
            if product is None and not matrix:
                raise ConfigurationError(f"{here}: set product, matrix or both")
            if len(matrix) > _MAX_MATRIX:
                raise ConfigurationError(f"{sub_path(here, 'matrix')}: at most four attributes")
            source = SkuAttributeSource(product=product, matrix=matrix)
        return cls(table=entries, rules=rules, attributes=source)


def _read_code(value: object, path: str) -> SkuCode:
    try:
        if isinstance(value, str):
            product, *matrix = value.split("/")
            return SkuCode(product=product, matrix=tuple(matrix))
        if isinstance(value, Mapping):
            reject_unknown(value, ("matrix", "product"), path)
            product_value = str_or_none(value, "product", path) or ""
            return SkuCode(product=product_value, matrix=str_list(value, "matrix", path))
    except PayloadError as exc:
        raise ConfigurationError(f"{path}: {exc}") from None
    raise ConfigurationError(
        f"{path}: expected 'PRODUCT/MATRIX1/...' or a table {{product=..., matrix=[...]}}"
    )


def _read_table(data: object, path: str) -> dict[str, SkuCode]:
    return {sku: _read_code(value, sub_path(path, sku)) for sku, value in table(data, path).items()}


def _read_rules(data: object, path: str) -> tuple[SkuRule, ...]:
    if data is None:
        return ()
    if isinstance(data, str) or not isinstance(data, Sequence):
        raise ConfigurationError(f"{path}: expected a list of rules ([[sku.rules]])")
    rules: list[SkuRule] = []
    for index, item in enumerate(data):
        here = sub_path(path, index)
        raw: Mapping[str, Any] = table(item, here)
        reject_unknown(raw, ("matrix", "pattern", "template"), here)
        source = str_or_none(raw, "pattern", here)
        if source is None:
            raise ConfigurationError(f"{sub_path(here, 'pattern')}: required")
        try:
            pattern = re.compile(source)
        except re.error as exc:
            raise ConfigurationError(
                f"{sub_path(here, 'pattern')}: not a valid regular expression ({exc})"
            ) from None
        try:
            rules.append(
                SkuRule(
                    pattern=pattern,
                    matrix=str_list(raw, "matrix", here),
                    template=str_or_none(raw, "template", here),
                )
            )
        except ConfigurationError as exc:
            raise ConfigurationError(f"{here}.{exc}") from None
    return tuple(rules)
