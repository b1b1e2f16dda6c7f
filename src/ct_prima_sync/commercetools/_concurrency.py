"""Optimistic concurrency: apply update actions again after a 409, safely, a bounded number of
times.

Rules:

1. When every action is absolute (``action.absolute``: set a state, a date) and the 409
   reported the current version, the same actions are sent again with that version.
2. Otherwise (a relative action such as ``addQuantity``, or no version in the 409) the caller's
   ``reread`` decides afresh: it reads the resource and returns the version and the actions still
   needed, or no actions when nothing is left to do. Without ``reread`` the 409 is raised.
3. After ``max_attempts`` sends the last :class:`~ct_prima_sync.errors.ConcurrentModificationError`
   is raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from ..errors import ConcurrentModificationError, ConfigurationError
from ._actions import UpdateAction

__all__ = ["update_with_conflict_retry"]

_log = logging.getLogger("ct_prima_sync.commercetools")

A = TypeVar("A", bound=UpdateAction)
R = TypeVar("R")


def update_with_conflict_retry(
    *,
    version: int,
    actions: Sequence[A],
    update: Callable[[int, Sequence[A]], R],
    reread: Callable[[], tuple[int, Sequence[A]]] | None = None,
    max_attempts: int = 3,
) -> R | None:
    """Send ``update(version, actions)``, resolving 409s by the rules of this module.

    Returns what ``update`` returned, or ``None`` when ``reread`` found nothing left to do.
    """
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ConfigurationError("max_attempts must be an integer of at least 1")
    current_version, current_actions = version, list(actions)
    attempt = 1
    while True:
        if not current_actions:
            return None
        try:
            return update(current_version, current_actions)
        except ConcurrentModificationError as exc:
            if attempt >= max_attempts:
                raise
            absolute = all(type(a).absolute for a in current_actions)
            if absolute and exc.current_version is not None:
                current_version = exc.current_version
            elif reread is not None:
                current_version, fresh = reread()
                current_actions = list(fresh)
            else:
                raise
            _log.info(
                "concurrent modification; trying again with version %d",
                current_version,
                extra={"correlation_id": exc.correlation_id, "attempt": attempt},
            )
            attempt += 1
