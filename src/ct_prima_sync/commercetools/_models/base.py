"""What every model shares: the ``extra`` field for keys the model does not name, and the
metadata key that overrides a field's wire name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

import attrs
from attrs import field

__all__ = ["EMPTY", "WIRE_NAME", "extra_field", "wire", "wire_name"]

#: The read-only empty mapping every model's ``extra`` defaults to.
EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})

#: attrs metadata key naming the JSON key of a field whose name is not the camelCase of its
#: attribute (``pOBox``, ``error_description``).
WIRE_NAME: Final = "ct_prima_sync.wire_name"


def extra_field() -> Any:
    """The ``extra`` field: keys of the payload this model does not name, kept as sent (read-only)
    so nothing the API adds is lost; left out of ``repr`` because it may hold personal data."""
    return field(default=EMPTY, repr=False)


def wire(name: str) -> dict[str, str]:
    """Metadata for a field whose JSON key is ``name``."""
    return {WIRE_NAME: name}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def wire_name(attribute: attrs.Attribute[Any]) -> str:
    """The JSON key of a model attribute."""
    named = attribute.metadata.get(WIRE_NAME)
    return named if isinstance(named, str) else _camel(attribute.name)
