"""Shapes shared by many resources: references, custom fields, addresses, geo points."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from attrs import field, frozen

from .base import extra_field, wire

__all__ = ["Address", "CustomFields", "GeoPoint", "LocalizedString", "Reference"]

#: ``LocalizedString``: locale (``"en"``, ``"de-DE"``) to text.
LocalizedString = Mapping[str, str]


@frozen(kw_only=True)
class Reference:
    """A reference to another resource: ``{typeId, id}`` (or ``{typeId, key}`` for key
    references such as stores). An expanded ``obj`` stays, unparsed, in ``extra``."""

    type_id: str
    id: str | None = None
    key: str | None = None
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class CustomFields:
    """``custom``: the type reference and its field values as sent (values may be personal data,
    so they stay out of ``repr``)."""

    type: Reference
    fields: Mapping[str, Any] = field(repr=False)
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class Address:
    """A postal address. Only ``id``, ``key`` and ``country`` appear in ``repr``: every other field
    is personal data."""

    country: str
    id: str | None = None
    key: str | None = None
    title: str | None = field(default=None, repr=False)
    salutation: str | None = field(default=None, repr=False)
    first_name: str | None = field(default=None, repr=False)
    last_name: str | None = field(default=None, repr=False)
    street_name: str | None = field(default=None, repr=False)
    street_number: str | None = field(default=None, repr=False)
    additional_street_info: str | None = field(default=None, repr=False)
    postal_code: str | None = field(default=None, repr=False)
    city: str | None = field(default=None, repr=False)
    region: str | None = field(default=None, repr=False)
    state: str | None = field(default=None, repr=False)
    company: str | None = field(default=None, repr=False)
    department: str | None = field(default=None, repr=False)
    building: str | None = field(default=None, repr=False)
    apartment: str | None = field(default=None, repr=False)
    po_box: str | None = field(default=None, repr=False, metadata=wire("pOBox"))
    phone: str | None = field(default=None, repr=False)
    mobile: str | None = field(default=None, repr=False)
    email: str | None = field(default=None, repr=False)
    fax: str | None = field(default=None, repr=False)
    additional_address_info: str | None = field(default=None, repr=False)
    external_id: str | None = field(default=None, repr=False)
    custom: CustomFields | None = field(default=None, repr=False)
    extra: Mapping[str, Any] = extra_field()


@frozen(kw_only=True)
class GeoPoint:
    """A GeoJSON point: ``coordinates`` is ``(longitude, latitude)`` as sent (decimal degrees;
    kept as ``Decimal`` so no float creeps in)."""

    type: str
    coordinates: tuple[Decimal, ...]
    extra: Mapping[str, Any] = extra_field()
