"""What every model shares: the ``extra`` field for keys the model does not name, and the
metadata key that overrides a field's wire name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from attrs import field

__all__ = ["EMPTY", "WIRE_NAME", "extra_field", "wire"]

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
