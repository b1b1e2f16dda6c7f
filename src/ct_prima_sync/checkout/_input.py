"""Read a commercetools ``ExtensionInput``: ``{action, resource: {typeId, id, obj}}``.

Pure. Anything else is named in a :class:`BadInput` that the app answers with 400 InvalidInput.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final, Literal

from attrs import frozen

__all__ = ["MAX_INPUT_BYTES", "BadInput", "ExtensionCall", "read_extension_input"]

#: The largest body read: commercetools documents are at most 16 MB, the input wraps one.
MAX_INPUT_BYTES: Final = 17 * 1024 * 1024

_ACTIONS: Final = ("Create", "Update")
_TYPES: Final = ("cart", "order")


@frozen(kw_only=True)
class ExtensionCall:
    """One extension call: Create or Update of a cart or order, and the resource as JSON."""

    action: Literal["Create", "Update"]
    type_id: Literal["cart", "order"]
    resource_id: str | None
    obj: Mapping[str, Any]


@frozen(kw_only=True)
class BadInput:
    """Why a body is not an ExtensionInput this extension answers."""

    message: str
    path: str = ""


def read_extension_input(body: bytes) -> ExtensionCall | BadInput:
    """The call in ``body``, or what is wrong with it."""
    if len(body) > MAX_INPUT_BYTES:
        return BadInput(message=f"the input is larger than {MAX_INPUT_BYTES:,} bytes")
    try:
        data = json.loads(body)
    except UnicodeDecodeError:
        return BadInput(message="the input is not UTF-8 text")
    except json.JSONDecodeError as exc:
        return BadInput(message=f"the input is not valid JSON ({exc.msg})")
    except RecursionError:
        return BadInput(message="the input is nested too deeply")
    if not isinstance(data, dict):
        return BadInput(message="the input must be a JSON object (an ExtensionInput)")
    action = data.get("action")
    if action not in _ACTIONS:
        return BadInput(message="action must be Create or Update", path="action")
    resource = data.get("resource")
    if not isinstance(resource, dict):
        return BadInput(message="resource must be an object with typeId and obj", path="resource")
    type_id = resource.get("typeId")
    if type_id not in _TYPES:
        return BadInput(
            message="this extension checks carts and orders only", path="resource.typeId"
        )
    obj = resource.get("obj")
    if not isinstance(obj, dict):
        return BadInput(message="resource.obj must be the cart or order", path="resource.obj")
    resource_id = resource.get("id")
    return ExtensionCall(
        action=action,
        type_id=type_id,
        resource_id=resource_id if isinstance(resource_id, str) else None,
        obj=obj,
    )
