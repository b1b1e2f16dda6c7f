"""``[sources.<name>]``: several shops (commercetools projects or stores) feeding one Prima.

Each source is run by an engine of its own (``SyncEngine.from_settings(path, shop=name)``, or
``Settings.for_source(name)``) over the one state store of ``[state]``; what a source changes in
the shared settings is all here: the commercetools project, the stores whose orders it takes,
the Prima company its orders go to and the prefix that keeps its order numbers apart in Prima
and in the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from attrs import field, frozen

__all__ = ["SourceSettings", "source_problems"]

#: Tells each source's poll cursor apart in the shared store.
CURSOR_SEPARATOR: Final = "@"


@frozen(kw_only=True)
class SourceSettings:
    """One shop feeding the Prima of these settings.

    ``project_key``: its commercetools project (default: ``[commercetools] project_key``);
    ``store_keys``: only orders of these commercetools stores (default: every store);
    ``company_id``: the Prima company its orders go to (``comwsomhandler``; default
    ``[prima] company_id``); ``order_number_prefix``: put before its order numbers in Prima and
    the ledger, so numbers of two shops never collide (required when there are several sources).
    """

    project_key: str = ""
    store_keys: tuple[str, ...] = field(default=(), converter=tuple)
    company_id: str = ""
    order_number_prefix: str = ""


def source_problems(sources: Mapping[str, SourceSettings]) -> list[tuple[str, str]]:
    """(key path, message) for every rule several sources break: each needs a prefix of its
    own, and none may start another, else two shops' order numbers could meet in Prima."""
    problems: list[tuple[str, str]] = []
    if len(sources) < 2:
        return problems
    seen: dict[str, str] = {}
    for name, source in sources.items():
        at = f"[sources.{name}] order_number_prefix"
        prefix = source.order_number_prefix
        clash = next((other for p, other in seen.items() if _overlap(p, prefix)), None)
        if not prefix:
            problems.append((at, 'required when several sources feed one Prima, e.g. "DE-"'))
        elif prefix in seen:
            problems.append((at, f"{prefix!r} is already the prefix of source {seen[prefix]!r}"))
        elif clash is not None:
            problems.append((at, _CLASH.format(prefix=prefix, other=clash)))
        else:
            seen[prefix] = name
    return problems


_CLASH: Final = (
    "{prefix!r} and the prefix of source {other!r} start alike, so order numbers could collide "
    '("A" + "-1" is "A-" + "1"): make neither the start of the other'
)


def _overlap(one: str, other: str) -> bool:
    """Whether one prefix starts the other: only then can ``one + n == other + m``."""
    return one.startswith(other) or other.startswith(one)
