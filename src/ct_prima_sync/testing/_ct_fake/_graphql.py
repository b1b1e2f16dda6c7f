"""``POST /{projectKey}/graphql``: ``updateOrder`` mutations, as commercetools answers them.

The document is parsed with ``graphql-core`` (``pip install 'ct-prima-sync[testing]'``; without
it the fake answers every GraphQL request with a 400). The fake answers one kind of document: a
mutation of ``updateOrder`` fields (aliased or not), each selecting scalar fields of the order.
Anything else is a 400 with a GraphQL error.

The mutations run one after the other, each on its own: its version is checked and its actions
applied by the same code as ``POST /orders/{id}`` (all or none of them). The reply is HTTP 200:
``data`` holds each applied mutation's selection under its alias, and each one that failed is
``null`` there with an error in ``errors`` whose ``path`` is ``[alias]`` and whose
``extensions`` hold the API's ``code`` (``ConcurrentModification`` with ``currentVersion``,
``ResourceNotFound``, ``InvalidInput``, ...).

GraphQL ``OrderUpdateAction`` inputs have one field per action, named as the REST action, whose
value holds the REST action's fields; only ``setCustomField``'s ``value`` differs (JSON text).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ct_prima_sync.errors import CommercetoolsApiError, ConcurrentModificationError

from ._orders import invalid_input

if TYPE_CHECKING:
    from graphql.language import DocumentNode, FieldNode, Node

__all__ = ["answer_graphql"]

Resource = dict[str, Any]
Find = Callable[[str, str], Resource]
Update = Callable[[Resource, int, list[Any]], Resource]


class _UnsupportedError(Exception):
    """A document the fake does not answer (a 400)."""

    def __init__(self, message: str, node: Node | None = None) -> None:
        super().__init__(message)
        self.node = node


def _locations(node: Node | None) -> list[dict[str, int]]:
    from graphql.language import get_location  # noqa: PLC0415

    if node is None or node.loc is None:
        return []
    where = get_location(node.loc.source, node.loc.start)
    return [{"line": where.line, "column": where.column}]


def _refused(message: str, node: Node | None = None) -> tuple[int, Any]:
    error: dict[str, Any] = {"message": message, "extensions": {"code": "InvalidInput"}}
    locations = _locations(node)
    if locations:
        error["locations"] = locations
    return 400, {"errors": [error]}


def answer_graphql(body: Any, *, find: Find, update: Update) -> tuple[int, Any]:
    """Answer one GraphQL request: (status, GraphQLResponse)."""
    try:
        import graphql  # noqa: F401, PLC0415
    except ImportError:
        return _refused(
            "The commercetools fake needs graphql-core to answer GraphQL requests "
            "(pip install 'ct-prima-sync[testing]')."
        )
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return _refused("A GraphQL request needs a 'query' (a string).")
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        return _refused("A GraphQL request's 'variables' must be an object.")
    try:
        fields = _mutation_fields(body["query"], body.get("operationName"), variables)
    except _UnsupportedError as refused:
        return _refused(str(refused), refused.node)
    data: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for field in fields:
        key = field.alias.value if field.alias else field.name.value
        try:
            data[key] = _update_order(field, variables, find, update)
        except CommercetoolsApiError as error:
            data[key] = None
            errors.append(_error(error, key, field))
    reply: dict[str, Any] = {"data": data}
    if errors:
        reply["errors"] = errors
    return 200, reply


@functools.lru_cache(maxsize=128)
def _parse(query: str) -> DocumentNode | str:
    """The parsed document, or the syntax error's message. Kept per text: a client sends the
    same few documents again and again (values travel in variables), and parsing one of 25
    mutations costs milliseconds."""
    from graphql import GraphQLSyntaxError, parse  # noqa: PLC0415

    try:
        return parse(query)
    except GraphQLSyntaxError as error:
        return f"Syntax error: {error.message}"


def _mutation_fields(
    query: str, operation_name: object, variables: dict[str, Any]
) -> list[FieldNode]:
    from graphql.language import FieldNode, OperationDefinitionNode, OperationType  # noqa: PLC0415

    document = _parse(query)
    if isinstance(document, str):
        raise _UnsupportedError(document)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != len(document.definitions):
        raise _UnsupportedError("The fake answers documents of operations only (no fragments).")
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        raise _UnsupportedError("The document must hold exactly one operation (or name it).")
    operation = operations[0]
    if operation.operation != OperationType.MUTATION:
        raise _UnsupportedError("The fake answers mutations only.", operation)
    declared = {d.variable.name.value for d in operation.variable_definitions or ()}
    missing = sorted(declared - set(variables))
    if missing:
        raise _UnsupportedError(f"Variable '${missing[0]}' has no value.", operation)
    fields: list[FieldNode] = []
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.name.value != "updateOrder":
            raise _UnsupportedError("The fake answers 'updateOrder' mutations only.", selection)
        for sub in selection.selection_set.selections if selection.selection_set else ():
            if not isinstance(sub, FieldNode) or sub.selection_set is not None:
                raise _UnsupportedError("The fake selects scalar fields of the order only.", sub)
        fields.append(selection)
    return fields


def _update_order(
    field: FieldNode, variables: dict[str, Any], find: Find, update: Update
) -> dict[str, Any]:
    from graphql.utilities import value_from_ast_untyped  # noqa: PLC0415

    arguments = {
        a.name.value: value_from_ast_untyped(a.value, variables) for a in field.arguments or ()
    }
    selector = [(k, arguments[k]) for k in ("id", "orderNumber") if arguments.get(k) is not None]
    if len(selector) != 1 or not isinstance(selector[0][1], str):
        raise invalid_input("updateOrder needs exactly one of 'id' or 'orderNumber'.")
    version = arguments.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise invalid_input("updateOrder needs 'version' (a Long).")
    actions = arguments.get("actions")
    if not isinstance(actions, list):
        raise invalid_input("updateOrder needs 'actions' (a list).")
    order = find(*selector[0])
    updated = update(order, version, [_rest_action(a) for a in actions])
    selected = field.selection_set.selections if field.selection_set else ()
    result: dict[str, Any] = {}
    for sub in selected:
        name = sub.name.value  # type: ignore[attr-defined]  # FieldNode, checked when parsed
        key = sub.alias.value if sub.alias else name  # type: ignore[attr-defined]
        result[key] = "Order" if name == "__typename" else updated.get(name)
    return result


def _rest_action(action: Any) -> dict[str, Any]:
    """A GraphQL ``OrderUpdateAction`` input as the REST action it stands for."""
    if not isinstance(action, dict) or len(action) != 1:
        raise invalid_input("Each OrderUpdateAction input sets exactly one action field.")
    ((name, fields),) = action.items()
    if not isinstance(fields, dict):
        raise invalid_input(f"The action '{name}' needs an input object.")
    rest = {"action": name, **fields}
    if name == "setCustomField" and rest.get("value") is not None:
        try:
            rest["value"] = json.loads(rest["value"])
        except (TypeError, ValueError):
            raise invalid_input("setCustomField's 'value' must be JSON text.") from None
    return rest


def _error(error: CommercetoolsApiError, key: str, field: FieldNode) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": error.codes[0] if error.codes else "InvalidInput"}
    if isinstance(error, ConcurrentModificationError) and error.current_version is not None:
        extensions["currentVersion"] = error.current_version
    item: dict[str, Any] = {"message": str(error), "path": [key], "extensions": extensions}
    locations = _locations(field)
    if locations:
        item["locations"] = locations
    return item
