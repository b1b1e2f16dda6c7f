"""The Extension commercetools needs to call the checkout guard: triggers and the draft.

Pure: ``checkout register`` sends the draft through the commercetools client.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from ..errors import ConfigurationError

__all__ = ["extension_draft", "parse_triggers"]

_TYPES: Final = ("cart", "order")
_ACTIONS: Final = ("Create", "Update")


def parse_triggers(specs: Sequence[str], *, condition: str | None = None) -> list[dict[str, Any]]:
    """Triggers from ``TYPE:ACTION[,ACTION]`` texts (``cart:Create,Update``, ``order:Create``),
    each with the ``condition`` predicate when given. A bad text raises ConfigurationError."""
    triggers: dict[str, list[str]] = {}
    for spec in specs:
        type_id, sep, actions = spec.partition(":")
        if not sep or type_id not in _TYPES:
            raise ConfigurationError(
                f"trigger {spec!r}: expected cart:ACTIONS or order:ACTIONS, e.g. cart:Create,Update"
            )
        for action in actions.split(","):
            if action not in _ACTIONS:
                raise ConfigurationError(
                    f"trigger {spec!r}: {action!r} is not an action (expected Create or Update)"
                )
            if action not in triggers.setdefault(type_id, []):
                triggers[type_id].append(action)
    if not triggers:
        raise ConfigurationError("at least one trigger is needed, e.g. cart:Create,Update")
    return [
        {
            "resourceTypeId": type_id,
            "actions": actions,
            **({"condition": condition} if condition else {}),
        }
        for type_id, actions in triggers.items()
    ]


def extension_draft(
    *,
    key: str,
    url: str,
    triggers: Sequence[dict[str, Any]],
    timeout_in_ms: int,
    authorization: str | None,
) -> dict[str, Any]:
    """The ExtensionDraft: an HTTP destination with the ``AuthorizationHeader`` commercetools
    sends on every call."""
    if not url.startswith(("https://", "http://")):
        raise ConfigurationError(f"extension url {url!r}: expected an http(s):// URL")
    destination: dict[str, Any] = {"type": "HTTP", "url": url}
    if authorization:
        destination["authentication"] = {
            "type": "AuthorizationHeader",
            "headerValue": authorization,
        }
    return {
        "key": key,
        "destination": destination,
        "triggers": list(triggers),
        "timeoutInMs": timeout_in_ms,
    }
