"""Messages (``/messages`` and subscription payloads)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import frozen

from .base import extra_field
from .common import Reference
from .order import Order

__all__ = ["Message"]


@frozen(kw_only=True)
class Message:
    """A commercetools message: the common fields of every message type.

    ``order`` is the embedded order of the types that carry one (``OrderCreated``,
    ``OrderImported``), parsed as :class:`Order`; every other type-specific field stays in
    ``extra`` as sent (it may hold personal data, so ``extra`` is not in ``repr``). Subscription
    payloads parse too (``notificationType`` and ``projectKey`` land in ``extra``).
    """

    id: str
    version: int
    sequence_number: int
    resource: Reference
    resource_version: int
    type: str
    created_at: datetime
    last_modified_at: datetime
    resource_user_provided_identifiers: Mapping[str, Any] | None = None
    order: Order | None = None
    extra: Mapping[str, Any] = extra_field()
