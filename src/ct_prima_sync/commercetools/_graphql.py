"""Several order updates in one GraphQL request: the document, its variables, each one's outcome.

commercetools' GraphQL API (``POST /{projectKey}/graphql``) takes several aliased ``updateOrder``
mutations in one document. Each is applied on its own, against its own version: the reply is
HTTP 200 with ``data`` holding each applied mutation's selection (``id version``) under its alias,
and for each one that failed ``null`` there and an error in ``errors`` whose ``path`` is
``[alias]`` and whose ``extensions`` carry the error's ``code`` (``ConcurrentModification`` with
the ``currentVersion``).

Every value travels in the request's variables, never in the document's text: the document only
depends on how many updates there are. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypeAlias

from attrs import frozen

from ..errors import CommercetoolsApiError, ConfigurationError, CtPrimaSyncError
from ._actions import OrderUpdateAction, action_to_json

__all__ = [
    "GRAPHQL_ACTIONS",
    "OrderUpdate",
    "OrderUpdateConflict",
    "OrderUpdateFailed",
    "OrderUpdateOutcome",
    "OrderUpdated",
    "failed_for_all",
    "graphql_request",
    "read_outcomes",
]

#: The update actions sent as GraphQL ``OrderUpdateAction`` inputs (one field per action, named
#: as the REST action; the other actions' GraphQL inputs differ from their REST JSON, so they are
#: refused here rather than guessed).
GRAPHQL_ACTIONS: Final = frozenset(
    {
        "updateSyncInfo",
        "setCustomField",
        "changeOrderState",
        "changeShipmentState",
        "changePaymentState",
        "transitionState",
    }
)

#: One update: the order's id, the version it is applied to, its actions.
OrderUpdate: TypeAlias = tuple[str, int, Sequence[OrderUpdateAction]]


@frozen
class OrderUpdated:
    """The order's update was applied; ``version`` is its new version (the one it had when there
    was nothing to send)."""

    order_id: str
    version: int


@frozen
class OrderUpdateConflict:
    """The order changed since its version was read (``ConcurrentModification``); nothing was
    applied. ``current_version`` is the version commercetools reported, if it did."""

    order_id: str
    current_version: int | None


@frozen
class OrderUpdateFailed:
    """The order's update was not applied, or it is not known whether it was (``error`` set: the
    whole request failed, for instance a timeout, which may have applied it, or a reply that was
    not JSON). ``code`` is the
    API's error code when it gave one; ``message`` is the library's own text (it never quotes the
    API's message, which can echo input values)."""

    order_id: str
    code: str | None
    message: str
    error: CtPrimaSyncError | None = None


#: What one update in a batch came to.
OrderUpdateOutcome: TypeAlias = OrderUpdated | OrderUpdateConflict | OrderUpdateFailed


def _alias(index: int) -> str:
    return f"u{index}"


def graphql_action(action: OrderUpdateAction) -> dict[str, Any]:
    """One action as a GraphQL ``OrderUpdateAction`` input: ``{name: fields}``, a custom field's
    value as JSON text."""
    data = action_to_json(action)
    name = data.pop("action")
    if name not in GRAPHQL_ACTIONS:
        raise ConfigurationError(f"the action {name} is not sent over GraphQL here")
    if name == "setCustomField" and "value" in data:
        data["value"] = json.dumps(data["value"], separators=(",", ":"))
    return {name: data}


def graphql_request(updates: Sequence[OrderUpdate]) -> dict[str, Any]:
    """The ``GraphQLRequest`` body of one aliased ``updateOrder`` per update (``u0``, ``u1``,
    ...), each selecting ``id version``; every value in ``variables``."""
    if not updates:
        raise ConfigurationError("a GraphQL order update needs at least one update")
    declarations: list[str] = []
    fields: list[str] = []
    variables: dict[str, Any] = {}
    for index, (order_id, version, actions) in enumerate(updates):
        if not actions:
            raise ConfigurationError("every update of a GraphQL request needs an action")
        declarations.append(
            f"$id{index}: String!, $version{index}: Long!, $actions{index}: [OrderUpdateAction!]!"
        )
        fields.append(
            f"  {_alias(index)}: updateOrder(id: $id{index}, version: $version{index}, "
            f"actions: $actions{index}) {{ id version }}"
        )
        variables[f"id{index}"] = order_id
        variables[f"version{index}"] = version
        variables[f"actions{index}"] = [graphql_action(a) for a in actions]
    query = f"mutation UpdateOrders({', '.join(declarations)}) {{\n" + "\n".join(fields) + "\n}"
    return {"query": query, "operationName": "UpdateOrders", "variables": variables}


def failed_for_all(
    updates: Sequence[OrderUpdate], error: CtPrimaSyncError
) -> list[OrderUpdateOutcome]:
    """Every update failed with the whole request (an HTTP error, no answer, no JSON)."""
    code = error.codes[0] if isinstance(error, CommercetoolsApiError) and error.codes else None
    message = f"the GraphQL request failed: {error}"
    return [OrderUpdateFailed(order_id, code, message, error) for order_id, _, _ in updates]


def _error_code(error: Mapping[str, Any]) -> str | None:
    extensions = error.get("extensions")
    code = extensions.get("code") if isinstance(extensions, Mapping) else None
    return code if isinstance(code, str) else None


def _current_version(error: Mapping[str, Any]) -> int | None:
    extensions = error.get("extensions")
    version = extensions.get("currentVersion") if isinstance(extensions, Mapping) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def read_outcomes(updates: Sequence[OrderUpdate], body: object) -> list[OrderUpdateOutcome]:
    """Each update's outcome from a ``GraphQLResponse`` to :func:`graphql_request`, in order.

    An alias with its ``version`` in ``data`` was applied; one with an error on its path failed
    (a conflict when the code is ``ConcurrentModification``). An alias with neither, or a reply
    that is not a GraphQL response, failed with the request's path-less error's code if any.
    """
    response = body if isinstance(body, Mapping) else {}
    data = response.get("data")
    data = data if isinstance(data, Mapping) else {}
    errors = response.get("errors")
    errors = [e for e in errors if isinstance(e, Mapping)] if isinstance(errors, list) else []
    by_alias: dict[str, Mapping[str, Any]] = {}
    general: Mapping[str, Any] | None = None
    for error in errors:
        path = error.get("path")
        if isinstance(path, list) and path and isinstance(path[0], str):
            by_alias.setdefault(path[0], error)
        elif general is None:
            general = error
    outcomes: list[OrderUpdateOutcome] = []
    for index, (order_id, _, _) in enumerate(updates):
        alias = _alias(index)
        result = data.get(alias)
        version = result.get("version") if isinstance(result, Mapping) else None
        if isinstance(version, int) and not isinstance(version, bool):
            outcomes.append(OrderUpdated(order_id, version))
            continue
        error = by_alias.get(alias, general)
        code = _error_code(error) if error is not None else None
        if code == "ConcurrentModification" and error is not None:
            outcomes.append(OrderUpdateConflict(order_id, _current_version(error)))
        elif error is not None:
            outcomes.append(
                OrderUpdateFailed(
                    order_id,
                    code,
                    f"the GraphQL update {alias} failed ({code or 'no error code'})",
                )
            )
        else:
            outcomes.append(
                OrderUpdateFailed(
                    order_id, None, f"the GraphQL reply has no result and no error for {alias}"
                )
            )
    return outcomes
