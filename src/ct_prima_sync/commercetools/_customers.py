"""Customers: read by id, find by e-mail (scope ``view_customers``)."""

from __future__ import annotations

from urllib.parse import quote

from ._models import Customer
from ._models.parse import parse_customer
from ._protocol import Api

__all__ = ["Customers"]


class Customers:
    """``client.customers``."""

    def __init__(self, api: Api) -> None:
        self._api = api

    def get(self, customer_id: str) -> Customer:
        """The customer with this id; :class:`~ct_prima_sync.errors.NotFoundError` if none."""
        return parse_customer(self._api.request("GET", f"/customers/{quote(customer_id, safe='')}"))

    def find_by_email(self, email: str) -> tuple[Customer, ...]:
        """Every customer with this e-mail address, in any letter case.

        commercetools keeps the case an address was signed up with but treats addresses as
        case-insensitive; its documented way to match them is the ``lowercaseEmail`` query field
        with the address in lower case. Several customers come back when stores keep separate
        accounts. The address travels as a predicate variable and is never logged.
        """
        return tuple(
            parse_customer(data)
            for data in self._api.iter_query(
                "customers", where="lowercaseEmail = :email", variables={"email": email.lower()}
            )
        )
