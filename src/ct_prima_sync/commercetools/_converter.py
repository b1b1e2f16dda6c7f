"""The one cattrs converter for commercetools JSON, built in one place.

:func:`make_converter` builds it; there are two instances made by the same code: ``FAST``
(``detailed_validation`` off, the hot path) and ``DETAILED`` (on, built on first use by
:func:`detailed_converter`), which a parse function runs only after ``FAST`` failed, to name every
bad field (``_models/_failures.py`` turns its exception group into JSON paths such as
``lineItems[3].price.value.centAmount``). This module, and cattrs with it, loads on the first
parse, not on ``import ct_prima_sync.mapping``.

Hooks it registers (later registrations win in cattrs, so the specific ones come last):

1. ``str``, ``int``, ``bool``: strict; the JSON type must match exactly (no ``str(5)``, no
   ``True`` as ``1``, never a float as an integer).
2. ``Decimal`` (tax rates, coordinates): from a JSON int or number as written (``0.19`` becomes
   ``Decimal("0.19")`` via its shortest repr), never through float arithmetic.
3. ``datetime`` (timezone-aware only) and ``date``, from ISO 8601 strings.
4. ``Mapping[str, X]``: a JSON object, kept as a read-only view (values checked only for ``str``).
5. ``tuple[X, ...]``: a JSON array, each element structured (errors carry the index).
6. Unions: ``X | None`` (``None`` passes), ``Money``, ``Money | HighPrecisionMoney``
   (via :mod:`ct_prima_sync.money`), and ``SomeStrEnum | str`` (a known value becomes the member,
   an unknown one stays the string).
7. Every model (an attrs class with an ``extra`` field): a generated dict structure function
   mapping snake_case attributes to camelCase keys (or the ``WIRE_NAME`` metadata), wrapped so
   keys the model does not name land in ``extra``. Unstructuring puts them back.

Speed: ``DETAILED`` uses cattrs' ``make_dict_structure_fn``. ``FAST`` uses a hand-tuned
generated function per model (:func:`_generated_model_hook`, about 1.5 times faster on orders)
and a shortcut for complete ``centPrecision`` money; a property test holds the two converters to
the same results. The money hooks stay in :mod:`ct_prima_sync.money`'s hands: every amount is a
checked ``Money(...)``.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

import attrs
from cattrs import Converter
from cattrs.errors import IterableValidationError, IterableValidationNote
from cattrs.gen import make_dict_structure_fn, override

from ct_prima_sync.money import HighPrecisionMoney, Money, parse_money, parse_typed_money

from ._models.base import EMPTY, wire_name

__all__ = ["FAST", "MONEY_PATH", "FieldError", "detailed_converter", "make_converter", "wire_name"]

Hook = Callable[[Any, Any], Any]

# parse_money reports "<path>.centAmount: ..."; this marker as the path lets the error-path walker
# in _models/parse.py splice the money module's sub-path onto the JSON path cattrs tracked.
MONEY_PATH: Final = "\x00"


class FieldError(ValueError):
    """A JSON value of the wrong type or form. Messages name the expected form, never the value
    (it may be personal data)."""


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _is_model(cl: Any) -> bool:
    return isinstance(cl, type) and attrs.has(cl) and hasattr(attrs.fields(cl), "extra")


# -- primitives ------------------------------------------------------------------------------


def _structure_str(value: Any, _: Any) -> str:
    if type(value) is str:
        return value
    raise FieldError(f"expected a string, got {_kind(value)}")


def _structure_int(value: Any, _: Any) -> int:
    if type(value) is int:
        return value
    raise FieldError(f"expected an integer, got {_kind(value)}")


def _structure_bool(value: Any, _: Any) -> bool:
    if type(value) is bool:
        return value
    raise FieldError(f"expected a boolean, got {_kind(value)}")


def _structure_decimal(value: Any, _: Any) -> Decimal:
    if type(value) is float:
        # repr() is the shortest string that reads back as this float: the number as written.
        result = Decimal(repr(value))
    elif type(value) is int or type(value) is Decimal:
        result = Decimal(value)
    else:
        raise FieldError(f"expected a number, got {_kind(value)}")
    if not result.is_finite():
        raise FieldError("expected a finite number")
    return result


def _structure_datetime(value: Any, _: Any) -> datetime:
    if type(value) is not str:
        raise FieldError(f"expected an ISO 8601 date-time string, got {_kind(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError("expected an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise FieldError("expected a date-time with a time zone (such as a trailing Z)")
    return parsed


def _structure_date(value: Any, _: Any) -> date:
    if type(value) is not str:
        raise FieldError(f"expected an ISO 8601 date string, got {_kind(value)}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError("expected an ISO 8601 date (YYYY-MM-DD)") from None


def _structure_money(value: Any, _: Any) -> Money:
    return parse_money(value, MONEY_PATH)


def _structure_typed_money(value: Any, _: Any) -> Money | HighPrecisionMoney:
    return parse_typed_money(value, MONEY_PATH)


def _structure_money_fast(value: Any, _: Any) -> Money:
    # The hot path: the usual complete centPrecision object goes straight to Money (whose own
    # checks still refuse a bad currency or digit count); anything else takes the full parser.
    if type(value) is dict and value.get("type") == "centPrecision":
        cents = value.get("centAmount")
        digits = value.get("fractionDigits")
        if type(cents) is int and type(digits) is int:
            return Money(cents, value.get("currencyCode"), digits)  # type: ignore[arg-type]
    return parse_money(value, MONEY_PATH)


def _structure_typed_money_fast(value: Any, _: Any) -> Money | HighPrecisionMoney:
    if type(value) is dict and value.get("type") == "centPrecision":
        cents = value.get("centAmount")
        digits = value.get("fractionDigits")
        if type(cents) is int and type(digits) is int:
            return Money(cents, value.get("currencyCode"), digits)  # type: ignore[arg-type]
    return parse_typed_money(value, MONEY_PATH)


_OPTIONAL_PRIMITIVES: Final[Mapping[Any, Hook]] = {
    str: lambda v, _: v if type(v) is str or v is None else _structure_str(v, _),
    int: lambda v, _: v if type(v) is int or v is None else _structure_int(v, _),
    bool: lambda v, _: v if type(v) is bool or v is None else _structure_bool(v, _),
}


# -- containers and unions -------------------------------------------------------------------


def _is_mapping_type(t: Any) -> bool:
    return typing.get_origin(t) in (Mapping, dict)


def _mapping_factory(t: Any, converter: Converter) -> Hook:
    args = typing.get_args(t)
    check_str = len(args) == 2 and args[1] is str

    def structure_mapping(value: Any, _: Any) -> Mapping[str, Any]:
        if type(value) is not dict and not isinstance(value, Mapping):
            raise FieldError(f"expected an object, got {_kind(value)}")
        if check_str:
            for item in value.values():
                if type(item) is not str:
                    raise FieldError(f"expected an object of strings, got {_kind(item)} in it")
        return types.MappingProxyType(value)

    return structure_mapping


def _is_tuple_type(t: Any) -> bool:
    args = typing.get_args(t)
    return typing.get_origin(t) is tuple and len(args) == 2 and args[1] is Ellipsis


def _tuple_factory(t: Any, converter: Converter) -> Hook:
    element = typing.get_args(t)[0]
    inner = converter.get_structure_hook(element)

    def structure_tuple(value: Any, _: Any) -> tuple[Any, ...]:
        if type(value) is not list and type(value) is not tuple:
            raise FieldError(f"expected an array, got {_kind(value)}")
        return tuple([inner(item, element) for item in value])

    def structure_tuple_detailed(value: Any, _: Any) -> tuple[Any, ...]:
        if type(value) is not list and type(value) is not tuple:
            raise FieldError(f"expected an array, got {_kind(value)}")
        result: list[Any] = []
        errors: list[Exception] = []
        for index, item in enumerate(value):
            try:
                result.append(inner(item, element))
            except Exception as exc:  # collected, reported with its index
                exc.add_note(IterableValidationNote(f"@ index {index}", index, element))
                errors.append(exc)
        if errors:
            raise IterableValidationError("invalid array elements", errors, t)
        return tuple(result)

    return structure_tuple_detailed if converter.detailed_validation else structure_tuple


def _is_union(t: Any) -> bool:
    return typing.get_origin(t) in (typing.Union, types.UnionType)


def _enum_hook(enum_type: type[enum.StrEnum]) -> Hook:
    members: dict[str, enum.StrEnum] = {member.value: member for member in enum_type}

    def structure_enum(value: Any, _: Any) -> enum.StrEnum | str:
        if type(value) is str:
            return members.get(value, value)
        raise FieldError(f"expected a string, got {_kind(value)}")

    return structure_enum


def _union_factory(t: Any, converter: Converter) -> Hook:
    args = typing.get_args(t)
    present = tuple(arg for arg in args if arg is not type(None))
    inner: Hook
    inner_type: Any = present[0]
    fast = not converter.detailed_validation
    if present == (Money,):
        inner = _structure_money_fast if fast else _structure_money
    elif set(present) == {Money, HighPrecisionMoney}:
        inner = _structure_typed_money_fast if fast else _structure_typed_money
    elif (
        len(present) == 2
        and present[1] is str
        and isinstance(present[0], type)
        and issubclass(present[0], enum.StrEnum)
    ):
        inner = _enum_hook(present[0])
    elif len(present) == 1:
        if inner_type in _OPTIONAL_PRIMITIVES and len(args) == 2:
            return _OPTIONAL_PRIMITIVES[inner_type]
        if _is_model(inner_type) and len(args) == 2:
            return _model_hook(inner_type, converter, allow_none=True)
        inner = converter.get_structure_hook(inner_type)
    else:
        raise TypeError(f"no structure hook for the union {t!r}")
    if len(present) == len(args):
        return inner

    def structure_optional(value: Any, _: Any) -> Any:
        return None if value is None else inner(value, inner_type)

    return structure_optional


# -- models ----------------------------------------------------------------------------------


def _model_factory(cl: type[Any], converter: Converter) -> Callable[[Any, Any], Any]:
    return _model_hook(cl, converter, allow_none=False)


def _model_hook(
    cl: type[Any], converter: Converter, *, allow_none: bool
) -> Callable[[Any, Any], Any]:
    # allow_none builds the hook for ``Model | None`` fields without a wrapper call per value.
    if not converter.detailed_validation and _can_generate(cl):
        return _generated_model_hook(cl, converter, allow_none=allow_none)
    fields = attrs.fields(cl)
    overrides = {a.name: override(rename=wire_name(a)) for a in fields if a.name != "extra"}
    base = make_dict_structure_fn(
        cl,
        converter,
        _cattrs_forbid_extra_keys=False,
        _cattrs_detailed_validation=converter.detailed_validation,
        extra=override(omit=True),
        **overrides,  # type: ignore[arg-type]
    )
    known = frozenset(wire_name(a) for a in fields if a.name != "extra")

    def structure_model(data: Any, _: Any) -> Any:
        if type(data) is not dict and not isinstance(data, Mapping):
            if data is None and allow_none:
                return None
            raise FieldError(f"expected an object, got {_kind(data)}")
        instance = base(data, cl)
        if not known.issuperset(data):
            extra = {key: value for key, value in data.items() if key not in known}
            # The instance is ours alone until we return it; this is how attrs' own __init__
            # sets fields of frozen classes.
            object.__setattr__(instance, "extra", types.MappingProxyType(extra))
        return instance

    return structure_model


_MISSING: Final = object()
_PRIMITIVES: Final = (str, int, bool)


def _can_generate(cl: type[Any]) -> bool:
    return not hasattr(cl, "__attrs_post_init__") and all(
        a.validator is None and a.converter is None and not isinstance(a.default, attrs.Factory)  # type: ignore[arg-type]
        for a in attrs.fields(cl)
    )


def _generated_model_hook(
    cl: type[Any], converter: Converter, *, allow_none: bool
) -> Callable[[Any, Any], Any]:
    """The hot path's structure function for a model: one generated function that reads each
    key, structures it with the converter's hook (a plain type check for ``str``/``int``/``bool``)
    and stores it, then fills ``extra``. It sets the slots the way attrs' own ``__init__`` of a
    frozen class does, skipping only the keyword-argument call; models have no validators,
    converters, factories or post-init hooks (checked here), so the result is the same object
    ``cl(**fields)`` would give."""
    attrs.resolve_types(cl)
    fields = [a for a in attrs.fields(cl) if a.name != "extra"]
    known = frozenset(wire_name(a) for a in fields)
    names: dict[str, Any] = {
        "new": object.__new__,
        "put": object.__setattr__,
        "cl": cl,
        "allow_none": allow_none,
        "Mapping": Mapping,
        "FieldError": FieldError,
        "kind": _kind,
        "MISSING": _MISSING,
        "known": known,
        "proxy": types.MappingProxyType,
        "EMPTY": EMPTY,
    }
    lines = [
        "def structure(o, _):",
        "    if type(o) is not dict:",
        "        if o is None and allow_none:",
        "            return None",
        "        if not isinstance(o, Mapping):",
        "            raise FieldError('expected an object, got ' + kind(o))",
        "    inst = new(cl)",
    ]
    for index, a in enumerate(fields):
        hook, tp, default = f"h{index}", f"t{index}", f"d{index}"
        names[hook] = converter.get_structure_hook(a.type)
        names[tp] = a.type
        names[default] = a.default
        plain = a.type if a.type in _PRIMITIVES else None
        if plain is None and _is_union(a.type):
            present = [arg for arg in typing.get_args(a.type) if arg is not type(None)]
            plain = present[0] if len(present) == 1 and present[0] in _PRIMITIVES else None
        if plain is not None:
            names[f"p{index}"] = plain
        key, name = repr(wire_name(a)), repr(a.name)
        if a.default is attrs.NOTHING:
            lines.append(f"    v = o[{key}]")
            value = f"{hook}(v, {tp})"
        else:
            lines.append(f"    v = o.get({key}, MISSING)")
            value = f"{default} if v is MISSING else {hook}(v, {tp})"
        if plain is not None:
            value = f"v if type(v) is p{index} else ({value})"
        lines.append(f"    put(inst, {name}, {value})")
    lines += [
        "    if known.issuperset(o):",
        "        put(inst, 'extra', EMPTY)",
        "    else:",
        "        put(inst, 'extra', proxy({k: v for k, v in o.items() if k not in known}))",
        "    return inst",
    ]
    exec(compile("\n".join(lines), f"<ct_prima_sync structure {cl.__name__}>", "exec"), names)  # noqa: S102
    return names["structure"]  # type: ignore[no-any-return]


def _model_unstructure_factory(cl: type[Any], converter: Converter) -> Callable[[Any], Any]:
    # (attribute, JSON key, leave out when None): optional fields absent from the payload are
    # None, and go back to being absent.
    plan = [
        (a.name, wire_name(a), a.default is None) for a in attrs.fields(cl) if a.name != "extra"
    ]
    unstructure = converter.unstructure

    def unstructure_model(instance: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, key, omit_none in plan:
            value = getattr(instance, name)
            if value is None and omit_none:
                continue
            out[key] = unstructure(value)
        for key, value in instance.extra.items():
            out.setdefault(key, value)
        return out

    return unstructure_model


def _unstructure_datetime(value: datetime) -> str:
    text = value.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.removesuffix("+00:00") + "Z"


def make_converter(*, detailed_validation: bool) -> Converter:
    """Build the commercetools converter (see the module docstring for every hook)."""
    converter = Converter(detailed_validation=detailed_validation)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(Decimal, _structure_decimal)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_structure_hook(date, _structure_date)
    converter.register_structure_hook(
        Money, _structure_money if detailed_validation else _structure_money_fast
    )
    converter.register_structure_hook_factory(_is_mapping_type, _mapping_factory)
    converter.register_structure_hook_factory(_is_tuple_type, _tuple_factory)
    converter.register_structure_hook_factory(_is_union, _union_factory)
    converter.register_structure_hook_factory(_is_model, _model_factory)

    converter.register_unstructure_hook(Money, Money.to_ct)
    converter.register_unstructure_hook(HighPrecisionMoney, HighPrecisionMoney.to_ct)
    converter.register_unstructure_hook(datetime, _unstructure_datetime)
    converter.register_unstructure_hook(date, date.isoformat)
    # Tax rates and coordinates go back as the JSON numbers they came from.
    converter.register_unstructure_hook(Decimal, float)
    converter.register_unstructure_hook_func(
        lambda t: t is tuple, lambda v: [converter.unstructure(item) for item in v]
    )
    converter.register_unstructure_hook_func(lambda t: t is types.MappingProxyType, dict)
    converter.register_unstructure_hook_factory(_is_model, _model_unstructure_factory)
    return converter


FAST: Final = make_converter(detailed_validation=False)


@functools.cache
def detailed_converter() -> Converter:
    """The ``DETAILED`` converter, built on first use: only a payload ``FAST`` refused needs it."""
    return make_converter(detailed_validation=True)
