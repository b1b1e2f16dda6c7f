"""The fake's state: projects holding resources as plain JSON dicts, versions and messages.

Rules the store keeps (the API's, as far as the fake models them):

1. Every resource has ``id``, ``version`` (1 on creation, +1 on every successful update),
   ``createdAt`` and ``lastModifiedAt`` (ISO-8601 UTC with milliseconds and ``Z``).
2. An update names the version it read; any other version is refused with 409
   ``ConcurrentModification`` carrying ``currentVersion``, and nothing changes.
3. The actions of one update apply all or nothing.
4. Every change records messages (``OrderCreated``, ``InventoryEntryQuantitySet``, ...) whose
   ``sequenceNumber`` counts per resource and whose ``resourceVersion`` is the version they made.
5. Eventual consistency, as the API has it, when the fake is given lags: a change shows in query
   results only ``query_lag`` after it was made (until then queries show the version before it,
   or nothing for a new resource), while reading one resource by id is always current; and the
   platform's background work (an order's reservations on inventory entries) lands
   ``reservation_lag`` after the order was placed. The clock decides when: :meth:`Store.settle`
   runs what is due.

A stored resource is never changed in place: an update stores a new dict (untouched top-level
values shared with the old one) and only the store itself sets fields on the one it has just
stored (``lastMessageSequenceNumber``, while recording). So the JSON text of a stored resource is
kept (:meth:`Store.text`) while that very dict is the stored one, and responses are built from it:
a page of 500 orders joins 500 texts instead of encoding 500 orders again.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import json
import random
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

import httpx

from ct_prima_sync.errors import ConcurrentModificationError, NotFoundError

from ._index import SortedIndex, apply_change, build_index

__all__ = [
    "SELF",
    "Encoded",
    "MessageDraft",
    "Project",
    "Store",
    "conflict",
    "copy_json",
    "format_instant",
    "json_text",
    "not_found",
]

Resource = dict[str, Any]
_T = TypeVar("_T")
MessageDraft = tuple[str, dict[str, Any]]
"""A message to record: its ``type`` and its type-specific fields."""

SELF: Any = object()
"""A message field value that stands for the resource itself (``OrderCreated.order``)."""

#: A visibility time before any clock reading: "visible already".
_ALWAYS = datetime.min.replace(tzinfo=UTC)

#: commercetools' typeId of each resource kind the fake serves.
TYPE_IDS = {
    "orders": "order",
    "customers": "customer",
    "channels": "channel",
    "inventory": "inventory-entry",
    "messages": "message",
    "payments": "payment",
    "carts": "cart",
    "extensions": "extension",
}


def copy_json(value: _T) -> _T:
    """A deep copy of JSON-shaped data (dicts, lists, scalars), several times faster than
    ``copy.deepcopy``, which the fake paid on every update of a 9 kB order; anything else is
    handed to ``copy.deepcopy``."""
    return cast(_T, _copy(value))


def _copy(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {key: _copy(item) for key, item in value.items()}
    if kind is list:
        return [_copy(item) for item in value]
    if kind in _IMMUTABLE:
        return value
    return copy.deepcopy(value)


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


class _CopyOnTouch(dict[str, Any]):
    """A draft of a resource for one update: a top-level value is deep-copied the first time an
    action reads it, so a failed update leaves the stored resource untouched (rule 3) without
    copying the parts no action looked at (an order's line items, on most updates).

    Update actions reach the resource only through ``[]``, ``get``, ``setdefault``, assignment
    and ``pop``; every other dict method sees the draft as a plain dict after ``dict(draft)``.
    """

    def __init__(self, resource: Resource) -> None:
        super().__init__(resource)
        self._copied: set[str] = set()

    def _own(self, key: str) -> None:
        if key not in self._copied:
            self._copied.add(key)
            if super().__contains__(key):
                super().__setitem__(key, copy_json(super().__getitem__(key)))

    def __getitem__(self, key: str) -> Any:
        self._own(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._own(key)
        return super().get(key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._own(key)
        return super().setdefault(key, default)

    def pop(self, key: str, *default: Any) -> Any:
        self._own(key)
        return super().pop(key, *default)

    def __setitem__(self, key: str, value: Any) -> None:
        self._copied.add(key)
        super().__setitem__(key, value)

    def values(self) -> Any:
        raise TypeError("update actions read a resource by key")

    def items(self) -> Any:
        raise TypeError("update actions read a resource by key")


def json_text(value: Any) -> str:
    """``value`` as compact JSON text, as the API sends it."""
    return json.dumps(value, separators=(",", ":"))


class Encoded:
    """A response body already encoded as JSON text (what :meth:`Store.text` gives)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Encoded({len(self.text)} characters)"


def format_instant(moment: datetime) -> str:
    """Render an aware datetime the way the API does: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def not_found(kind: str, identifier: str) -> NotFoundError:
    """The API's 404 for a missing resource (the identifier is an id or key, never personal)."""
    return NotFoundError(
        f"The Resource with ID '{identifier}' was not found.",
        status_code=404,
        codes=["ResourceNotFound"],
    )


class Project:
    """One commercetools project: resources by kind, in creation order.

    Whatever adds, replaces or removes a resource calls :meth:`changed` (the store does), so
    that the sorted indexes of that kind follow and order numbers stay found."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.resources: dict[str, dict[str, Resource]] = {kind: {} for kind in TYPE_IDS}
        self.sequence: dict[str, int] = {}
        # What carts can hold: SKU -> (unit price in minor units, currency, tax rate as text).
        self.catalogue: dict[str, tuple[int, str, str]] = {}
        # Per order number, the id of the order that has it.
        self._numbers: dict[str, list[str]] = {}
        # Per kind and id, a number that grows with the order of ``resources[kind]`` (creation
        # order: replacing a resource keeps its place, as the dict does).
        self._places: dict[str, dict[str, int]] = {kind: {} for kind in TYPE_IDS}
        self._place = itertools.count()
        # Per kind, the sorted indexes of queries by their sort fields, each moved along by
        # every change of its kind (None: values of mixed kinds, looked at again after the
        # next change).
        self._indexes: dict[str, dict[tuple[str, ...], SortedIndex | None]] = {
            kind: {} for kind in TYPE_IDS
        }

    def changed(self, kind: str, old: Resource | None, new: Resource | None) -> None:
        """Note that a resource of ``kind`` went from ``old`` to ``new`` (None: absent)."""
        places = self._places[kind]
        place: int | None
        if old is None and new is not None:
            place = places[new["id"]] = next(self._place)
        elif new is None and old is not None:
            place = places.pop(old["id"], None)
        else:
            place = places.get(new["id"]) if new is not None else None
        self._follow(kind, old, new, place)
        if kind != "orders":
            return
        before = old.get("orderNumber") if old is not None else None
        after = new.get("orderNumber") if new is not None else None
        if before == after:
            return
        if old is not None and isinstance(before, str):
            ids = self._numbers.get(before, [])
            if old["id"] in ids:
                ids.remove(old["id"])
            if not ids:
                self._numbers.pop(before, None)
        if new is not None and isinstance(after, str):
            self._numbers.setdefault(after, []).append(new["id"])

    def order_numbered(self, number: str) -> Resource | None:
        """The first order with this ``orderNumber``, or None."""
        orders = self.resources["orders"]
        for order_id in self._numbers.get(number, ()):
            found = orders.get(order_id)
            if found is not None and found.get("orderNumber") == number:
                return found
        return None

    def _follow(
        self, kind: str, old: Resource | None, new: Resource | None, place: int | None
    ) -> None:
        """Move the sorted indexes of ``kind`` along with a change; drop any that cannot
        follow it (it is built again when next asked for)."""
        indexes = self._indexes[kind]
        for fields, index in list(indexes.items()):
            if index is None or place is None or not apply_change(index, old, new, place):
                del indexes[fields]

    def sorted_index(self, kind: str, fields: tuple[str, ...]) -> SortedIndex | None:
        """The resources of ``kind`` sorted by ``fields`` (``_index``), built on first use and
        kept up to date by every change after."""
        indexes = self._indexes[kind]
        if fields not in indexes:
            resources, places = self.all(kind), self._places[kind]
            indexes[fields] = build_index(resources, fields, [places[r["id"]] for r in resources])
        return indexes[fields]

    def all(self, kind: str) -> list[Resource]:
        """Every resource of ``kind`` in creation order."""
        return list(self.resources[kind].values())

    def with_ids(self, kind: str, ids: Iterable[str]) -> list[Resource]:
        """The resources of ``kind`` that have one of ``ids``, each once, in creation order (the
        order of :meth:`all`)."""
        stored, places = self.resources[kind], self._places[kind]
        found = [r for i in set(ids) if (r := stored.get(i)) is not None]
        found.sort(key=lambda r: places[r["id"]])
        return found

    def get(self, kind: str, resource_id: str) -> Resource:
        """The resource with this id, or the API's 404."""
        found = self.resources[kind].get(resource_id)
        if found is None:
            raise not_found(kind, resource_id)
        return found

    def find(self, kind: str, field: str, value: Any) -> Resource:
        """The first resource whose top-level ``field`` equals ``value``, or the API's 404."""
        if kind == "orders" and field == "orderNumber" and isinstance(value, str):
            numbered = self.order_numbered(value)
            if numbered is None:
                raise not_found(kind, f"{field}={value}")
            return numbered
        for resource in self.resources[kind].values():
            if resource.get(field) == value:
                return resource
        raise not_found(kind, f"{field}={value}")


class Store:
    """All projects of one fake, with the injectable clock and id source, and the lags of rule 5
    (``timedelta(0)``: everything at once)."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        seed: int | None,
        query_lag: timedelta = timedelta(0),
        reservation_lag: timedelta = timedelta(0),
    ) -> None:
        self.clock = clock
        self._random = random.Random(seed)
        self.projects: dict[str, Project] = {}
        self.query_lag = query_lag
        self.reservation_lag = reservation_lag
        # How the fake calls API Extensions (``None``: a plain httpx client, made on first use).
        self.extension_client: httpx.Client | None = None
        # Background work not yet landed: (due, order of scheduling, what to do).
        self._deferred: list[tuple[datetime, int, Callable[[], None]]] = []
        self._ticket = itertools.count()
        # With a query lag: per (project, kind, id) the versions queries may still show, oldest
        # first, each with the moment it becomes visible (None: visible already).
        self._versions: dict[tuple[str, str, str], list[tuple[datetime, Resource]]] = {}
        # JSON text per (project, kind, id), with the stored resource it encodes: used only while
        # that very dict is the stored one (an update stores another), dropped when the store
        # changes it in place or removes it.
        self._texts: dict[tuple[str, str, str], tuple[Resource, str]] = {}

    def text(self, project: Project, kind: str, resource: Resource) -> str:
        """``resource`` as compact JSON text: kept while it is the stored resource of ``kind``
        (an older version a query lag still shows is encoded each time)."""
        key = (project.key, kind, resource["id"])
        kept = self._texts.get(key)
        if kept is not None and kept[0] is resource:
            return kept[1]
        text = json_text(resource)
        if project.resources[kind].get(resource["id"]) is resource:
            self._texts[key] = (resource, text)
        return text

    def page_text(self, project: Project, kind: str, page: dict[str, Any]) -> Encoded:
        """A PagedQueryResponse over stored resources of ``kind``, its ``results`` joined from
        their texts; the same text ``json_text(page)`` gives."""
        parts = [
            json_text(name)
            + ":"
            + (
                "[" + ",".join([self.text(project, kind, item) for item in value]) + "]"
                if name == "results"
                else json_text(value)
            )
            for name, value in page.items()
        ]
        return Encoded("{" + ",".join(parts) + "}")

    def encoded(self, project: Project, kind: str, payload: Any) -> Any:
        """``payload`` as :class:`Encoded` text when it is the stored resource of ``kind`` (a
        read or an update's answer), else ``payload`` as it is."""
        if type(payload) is dict:
            identifier = payload.get("id")
            if isinstance(identifier, str) and project.resources[kind].get(identifier) is payload:
                return Encoded(self.text(project, kind, payload))
        return payload

    def forget_text(self, project: Project, kind: str, resource_id: str) -> None:
        """Drop the kept text of a resource changed in place or removed."""
        self._texts.pop((project.key, kind, resource_id), None)

    def sorted_index(
        self, project: Project, kind: str, fields: tuple[str, ...]
    ) -> SortedIndex | None:
        """Queries' index of ``kind`` by ``fields`` (see ``_index``), kept up to date by every
        change of that kind; None while queries still show older versions (a query lag)."""
        if self._versions:
            return None
        return project.sorted_index(kind, fields)

    # -- eventual consistency (rule 5) ---------------------------------------------------------

    def later(self, work: Callable[[], None]) -> None:
        """Run ``work`` as the platform's background processing: ``reservation_lag`` from now."""
        if not self.reservation_lag:
            work()
            return
        heapq.heappush(
            self._deferred, (self.clock() + self.reservation_lag, next(self._ticket), work)
        )

    def settle(self) -> None:
        """Run the background work that is due by the clock."""
        now = self.clock()
        while self._deferred and self._deferred[0][0] <= now:
            _, _, work = heapq.heappop(self._deferred)
            work()

    @property
    def unsettled(self) -> int:
        """How many pieces of background work have not landed yet."""
        return len(self._deferred)

    def _track(
        self,
        project: Project,
        kind: str,
        resource: Resource,
        *,
        previous: Resource | None = None,
        visible_now: bool = False,
    ) -> None:
        if not self.query_lag:
            return
        key = (project.key, kind, resource["id"])
        if visible_now:
            self._versions.pop(key, None)
            return
        versions = self._versions.setdefault(key, [])
        if not versions and previous is not None:
            versions.append((_ALWAYS, previous))  # what queries showed before this change
        versions.append((self.clock() + self.query_lag, resource))

    def queryable(self, project: Project, kind: str) -> list[Resource]:
        """What a query over ``kind`` sees now: each resource as it was ``query_lag`` ago."""
        return self._seen(project, kind, project.all(kind))

    def queryable_with_ids(self, project: Project, kind: str, ids: Iterable[str]) -> list[Resource]:
        """What :meth:`queryable` gives of the resources that have one of ``ids``, in its order."""
        return self._seen(project, kind, project.with_ids(kind, ids))

    def _seen(self, project: Project, kind: str, resources: list[Resource]) -> list[Resource]:
        """What a query sees now of these stored resources (in their order)."""
        if not self._versions:
            return resources
        now = self.clock()
        seen: list[Resource] = []
        for resource in resources:
            key = (project.key, kind, resource["id"])
            versions = self._versions.get(key)
            if versions is None:
                seen.append(resource)
                continue
            shown = [index for index, (moment, _) in enumerate(versions) if moment <= now]
            if not shown:
                continue  # created less than query_lag ago
            if shown[-1] == len(versions) - 1:
                del self._versions[key]  # caught up: queries show the current version
                seen.append(resource)
                continue
            del versions[: shown[-1]]
            seen.append(versions[0][1])
        return seen

    def project(self, key: str) -> Project:
        """The project with this key, or the API's 404."""
        found = self.projects.get(key)
        if found is None:
            raise NotFoundError(
                f"The project '{key}' does not exist.", status_code=404, codes=["ResourceNotFound"]
            )
        return found

    def now(self) -> str:
        """The current instant as the API renders it."""
        return format_instant(self.clock())

    def new_id(self) -> str:
        """A fresh UUID (deterministic when the fake was given a seed)."""
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def insert(
        self,
        project: Project,
        kind: str,
        body: Resource,
        messages: Iterable[MessageDraft] = (),
        *,
        visible_now: bool = False,
    ) -> Resource:
        """Store a new resource built from ``body`` (its own id and timestamps are kept).

        ``visible_now`` makes it visible to queries at once whatever the query lag (seeding).
        """
        now = self.now()
        resource = copy_json(body)
        resource.setdefault("id", self.new_id())
        resource["version"] = 1
        resource.setdefault("createdAt", now)
        resource["lastModifiedAt"] = now
        previous = project.resources[kind].get(resource["id"])
        project.resources[kind][resource["id"]] = resource
        project.changed(kind, previous, resource)
        self._track(project, kind, resource, visible_now=visible_now)
        self.record(project, kind, resource, messages)
        return resource

    def update(
        self,
        project: Project,
        kind: str,
        resource: Resource,
        version: int,
        change: Callable[[Resource], list[MessageDraft]],
    ) -> Resource:
        """Apply ``change`` to a copy of ``resource`` if ``version`` is current, then store it."""
        if version != resource["version"]:
            raise conflict(resource["version"])
        draft = _CopyOnTouch(resource)
        messages = change(draft)
        updated = dict(draft)
        updated["version"] = resource["version"] + 1
        updated["lastModifiedAt"] = self.now()
        project.resources[kind][updated["id"]] = updated
        project.changed(kind, resource, updated)
        self._track(project, kind, updated, previous=resource)
        self.record(project, kind, updated, messages)
        return updated

    def delete(self, project: Project, kind: str, resource_id: str) -> Resource:
        """Remove a resource (queries stop showing it at once); returns what was removed."""
        removed = project.resources[kind].pop(resource_id, None)
        if removed is None:
            raise not_found(kind, resource_id)
        project.changed(kind, removed, None)
        self._versions.pop((project.key, kind, resource_id), None)
        self.forget_text(project, kind, resource_id)
        return removed

    def record(
        self, project: Project, kind: str, resource: Resource, messages: Iterable[MessageDraft]
    ) -> None:
        """Record messages about ``resource`` at its current version."""
        for message_type, fields in messages:
            sequence = project.sequence.get(resource["id"], 0) + 1
            project.sequence[resource["id"]] = sequence
            if kind == "orders":
                resource["lastMessageSequenceNumber"] = sequence
                self.forget_text(project, kind, resource["id"])
            now = self.now()
            message = {
                "id": self.new_id(),
                "version": 1,
                "sequenceNumber": sequence,
                "resource": {"typeId": TYPE_IDS[kind], "id": resource["id"]},
                "resourceVersion": resource["version"],
                "type": message_type,
                "createdAt": now,
                "lastModifiedAt": now,
                **{
                    name: copy_json(resource if value is SELF else value)
                    for name, value in fields.items()
                },
            }
            project.resources["messages"][message["id"]] = message
            project.changed("messages", None, message)
            self._track(project, "messages", message)


def conflict(current_version: int) -> ConcurrentModificationError:
    """The API's 409 for a stale version."""
    return ConcurrentModificationError(
        f"Object version mismatch. Expected version: {current_version}.",
        current_version=current_version,
    )
