"""A stateful in-memory commercetools project for tests: see :class:`FakeCommercetools`."""

from ._app import CommercetoolsRequestRecord
from ._fake import FakeCommercetools
from ._faults import (
    CommercetoolsFault,
    CommercetoolsFaultKind,
    CommercetoolsFaultScript,
    FiredCommercetoolsFault,
)
from ._predicate import parse_predicate

__all__ = [
    "CommercetoolsFault",
    "CommercetoolsFaultKind",
    "CommercetoolsFaultScript",
    "CommercetoolsRequestRecord",
    "FakeCommercetools",
    "FiredCommercetoolsFault",
    "parse_predicate",
]
