"""API Extensions in the fake: stored like commercetools stores them, and called like it calls
them, on the create and update of carts and orders, before the change is kept.

An extension's HTTP destination gets the ``ExtensionInput`` (``{action, resource: {typeId, id,
obj}}``) with the ``AuthorizationHeader`` it was registered with, within its ``timeoutInMs``
(2,000 ms by default). 200 with no actions lets the change through; 400 with ``errors`` refuses it
with those errors passed on (``extensionId`` and ``extensionKey`` added), as commercetools does;
anything else, or no answer in time, refuses it with ``ExtensionBadResponse`` or
``ExtensionNoResponse``. A trigger's ``condition`` is evaluated with the fake's predicate subset.
Update actions in an extension's answer are not applied by the fake: it refuses them, so a test
never passes on changes that were silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import httpx

from ct_prima_sync.errors import ValidationError

from ._orders import invalid_input
from ._predicate import parse_predicate
from ._store import Project, Store

__all__ = ["ExtensionRefusedError", "call_extensions", "create_extension", "update_extension"]

Resource = dict[str, Any]

#: commercetools' limits: 25 extensions per project, timeoutInMs up to 10 s (2 s by default).
MAX_EXTENSIONS: Final = 25
DEFAULT_TIMEOUT_MS: Final = 2000
MAX_TIMEOUT_MS: Final = 10_000

_TYPES: Final = (
    "cart",
    "order",
    "payment",
    "customer",
    "quote-request",
    "staged-quote",
    "quote",
    "business-unit",
    "shopping-list",
)


class ExtensionRefusedError(ValidationError):
    """An extension refused the change: the API's 400 with the extension's own errors."""

    def __init__(self, message: str, errors: Sequence[dict[str, Any]], status_code: int = 400):
        super().__init__(
            message, status_code=status_code, codes=[str(e.get("code")) for e in errors]
        )
        self.errors = [dict(e) for e in errors]


def _check_destination(destination: Any) -> dict[str, Any]:
    if not isinstance(destination, dict) or destination.get("type") != "HTTP":
        raise invalid_input("The fake calls HTTP destinations only ('type': 'HTTP').")
    if not isinstance(destination.get("url"), str):
        raise invalid_input("An HTTP destination needs a 'url'.")
    auth = destination.get("authentication")
    if auth is not None and (
        not isinstance(auth, dict)
        or auth.get("type") != "AuthorizationHeader"
        or not isinstance(auth.get("headerValue"), str)
    ):
        raise invalid_input("authentication: the fake takes AuthorizationHeader with headerValue.")
    return destination


def _check_triggers(triggers: Any) -> list[dict[str, Any]]:
    if not isinstance(triggers, list) or not triggers:
        raise invalid_input("An extension needs at least one trigger.")
    for trigger in triggers:
        if not isinstance(trigger, dict) or trigger.get("resourceTypeId") not in _TYPES:
            raise invalid_input("A trigger needs a 'resourceTypeId'.")
        actions = trigger.get("actions")
        if (
            not isinstance(actions, list)
            or not actions
            or any(a not in ("Create", "Update") for a in actions)
        ):
            raise invalid_input("A trigger's 'actions' are Create and/or Update.")
        condition = trigger.get("condition")
        if condition is not None:
            if not isinstance(condition, str):
                raise invalid_input("A trigger's 'condition' is a predicate text.")
            parse_predicate(condition)  # a predicate outside the subset is refused now
    return triggers


def _check_timeout(value: Any) -> int:
    if value is None:
        return DEFAULT_TIMEOUT_MS
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_TIMEOUT_MS:
        raise invalid_input(f"timeoutInMs must be between 1 and {MAX_TIMEOUT_MS}.")
    return value


def create_extension(store: Store, project: Project, draft: dict[str, Any]) -> Resource:
    """Store an extension from an ExtensionDraft."""
    if len(project.all("extensions")) >= MAX_EXTENSIONS:
        raise invalid_input(f"A project has at most {MAX_EXTENSIONS} extensions.")
    key = draft.get("key")
    if key is not None and any(e.get("key") == key for e in project.all("extensions")):
        raise ValidationError(
            "An extension with this key already exists.", status_code=400, codes=["DuplicateField"]
        )
    body = {
        **({"key": key} if key is not None else {}),
        "destination": _check_destination(draft.get("destination")),
        "triggers": _check_triggers(draft.get("triggers")),
        "timeoutInMs": _check_timeout(draft.get("timeoutInMs")),
    }
    return store.insert(project, "extensions", body)


def update_extension(extension: Resource, action: dict[str, Any]) -> None:
    """Apply one extension update action."""
    name = action.get("action")
    if name == "changeDestination":
        extension["destination"] = _check_destination(action.get("destination"))
    elif name == "changeTriggers":
        extension["triggers"] = _check_triggers(action.get("triggers"))
    elif name == "setTimeoutInMs":
        extension["timeoutInMs"] = _check_timeout(action.get("timeoutInMs"))
    elif name == "setKey":
        extension["key"] = action.get("key")
    else:
        raise invalid_input(f"The fake does not know the extension update action {name!r}.")


def _applies(extension: Resource, type_id: str, action: str, obj: Resource) -> bool:
    for trigger in extension["triggers"]:
        if trigger["resourceTypeId"] != type_id or action not in trigger["actions"]:
            continue
        condition = trigger.get("condition")
        if condition is None or parse_predicate(condition)(obj):
            return True
    return False


def call_extensions(
    project: Project, client: httpx.Client, type_id: str, action: str, obj: Resource
) -> None:
    """Call every extension triggered by this change; raise what refuses it."""
    for extension in project.all("extensions"):
        if _applies(extension, type_id, action, obj):
            _call(client, extension, type_id, action, obj)


def _identify(extension: Resource, error: dict[str, Any]) -> dict[str, Any]:
    named = {"extensionId": extension["id"]}
    if extension.get("key") is not None:
        named["extensionKey"] = extension["key"]
    return {**error, **named}


def _call(
    client: httpx.Client, extension: Resource, type_id: str, action: str, obj: Resource
) -> None:
    destination = extension["destination"]
    headers = {}
    auth = destination.get("authentication")
    if auth is not None:
        headers["Authorization"] = auth["headerValue"]
    body = {"action": action, "resource": {"typeId": type_id, "id": obj.get("id"), "obj": obj}}
    try:
        answer = client.post(
            destination["url"],
            json=body,
            headers=headers,
            timeout=extension["timeoutInMs"] / 1000,
        )
    except httpx.TimeoutException:
        error = {"code": "ExtensionNoResponse", "message": "The extension did not respond in time."}
        raise ExtensionRefusedError(error["message"], [_identify(extension, error)], 504) from None
    except httpx.HTTPError as exc:
        error = {"code": "ExtensionBadResponse", "message": f"The extension failed: {exc}"}
        raise ExtensionRefusedError(error["message"], [_identify(extension, error)], 502) from None
    try:
        data = answer.json()
    except ValueError:
        data = None
    if answer.status_code in (200, 201):
        actions = data.get("actions", []) if isinstance(data, dict) else None
        if actions == []:
            return
        error = {
            "code": "ExtensionBadResponse",
            "message": "The fake does not apply update actions from extensions "
            "(or the answer was not {'actions': [...]}).",
        }
        raise ExtensionRefusedError(error["message"], [_identify(extension, error)], 502)
    errors = data.get("errors") if isinstance(data, dict) else None
    if answer.status_code == 400 and isinstance(errors, list) and errors:
        passed = [_identify(extension, e) for e in errors if isinstance(e, dict)]
        raise ExtensionRefusedError(str(passed[0].get("message", "refused")), passed)
    error = {
        "code": "ExtensionBadResponse",
        "message": f"The extension answered HTTP {answer.status_code}.",
    }
    raise ExtensionRefusedError(error["message"], [_identify(extension, error)], 502)
