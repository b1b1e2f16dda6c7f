"""API Extensions: read by key, create, update (scope ``manage_extensions``).

The destination's ``authentication`` (an ``AuthorizationHeader`` value) is a secret: the
:class:`Extension` read back keeps only whether one is set, never the value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from attrs import frozen

from ..errors import NotFoundError, PayloadError
from ._protocol import Api

__all__ = ["Extension", "Extensions"]


@frozen(kw_only=True)
class Extension:
    """An API Extension as commercetools keeps it (the parts a host looks at)."""

    id: str
    version: int
    key: str | None
    destination_type: str
    url: str | None
    has_authentication: bool
    triggers: tuple[Mapping[str, Any], ...]
    timeout_in_ms: int | None


def parse_extension(data: Any) -> Extension:
    """An Extension from its JSON; PayloadError names the bad field."""
    if not isinstance(data, dict):
        raise PayloadError("expected a JSON object (in Extension)")
    for name, kind in (("id", str), ("version", int), ("destination", dict), ("triggers", list)):
        if not isinstance(data.get(name), kind):
            raise PayloadError(f"expected {kind.__name__} (in Extension)", path=name)
    destination = data["destination"]
    timeout = data.get("timeoutInMs")
    if timeout is not None and not isinstance(timeout, int):
        raise PayloadError("expected a whole number (in Extension)", path="timeoutInMs")
    key = data.get("key")
    url = destination.get("url")
    return Extension(
        id=data["id"],
        version=data["version"],
        key=key if isinstance(key, str) else None,
        destination_type=str(destination.get("type", "")),
        url=url if isinstance(url, str) else None,
        has_authentication=isinstance(destination.get("authentication"), dict),
        triggers=tuple(t for t in data["triggers"] if isinstance(t, dict)),
        timeout_in_ms=timeout,
    )


class Extensions:
    """``client.extensions``."""

    def __init__(self, api: Api) -> None:
        self._api = api

    def get_by_key(self, key: str) -> Extension | None:
        """The extension with this key, or ``None`` when there is none."""
        try:
            data = self._api.request("GET", f"/extensions/key={quote(key, safe='')}")
        except NotFoundError:
            return None
        return parse_extension(data)

    def create(self, draft: Mapping[str, Any]) -> Extension:
        """Create an extension from an ``ExtensionDraft``."""
        return parse_extension(self._api.request("POST", "/extensions", json=dict(draft)))

    def update(self, extension: Extension, actions: Sequence[Mapping[str, Any]]) -> Extension:
        """Apply update actions at the extension's version (409 if it changed meanwhile)."""
        body = {"version": extension.version, "actions": [dict(a) for a in actions]}
        path = f"/extensions/{quote(extension.id, safe='')}"
        return parse_extension(self._api.request("POST", path, json=body, retry_ambiguous=True))

    def put(self, draft: Mapping[str, Any]) -> tuple[Extension, bool]:
        """Create the draft's extension, or bring the one with its ``key`` to the draft
        (destination, triggers, timeout). Returns it and whether it was created."""
        key = draft.get("key")
        existing = self.get_by_key(key) if isinstance(key, str) else None
        if existing is None:
            return self.create(draft), True
        actions: list[dict[str, Any]] = [
            {"action": "changeDestination", "destination": draft["destination"]},
            {"action": "changeTriggers", "triggers": list(draft["triggers"])},
        ]
        if "timeoutInMs" in draft:
            actions.append({"action": "setTimeoutInMs", "timeoutInMs": draft["timeoutInMs"]})
        return self.update(existing, actions), False
