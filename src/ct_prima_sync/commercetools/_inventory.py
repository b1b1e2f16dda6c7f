"""Inventory entries: query by SKUs and supply channel, create, update quantities and dates.

Inventory endpoints need the ``view_products`` / ``manage_products`` scopes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote

from ..errors import ConfigurationError
from ._actions import InventoryEntryDraft, InventoryUpdateAction, action_to_json, draft_to_json
from ._concurrency import update_with_conflict_retry
from ._models import InventoryEntry, InventoryLevel
from ._models.inventory import parse_inventory_level
from ._models.parse import parse_inventory_entry
from ._protocol import Api
from ._query import MAX_PAGE_SIZE, QueryValue, chunked, join_predicates

__all__ = ["DEFAULT_SKU_CHUNK", "Inventory"]

#: SKUs per query: keeps the URL well below common proxy limits (8 KiB) for SKUs of ~40 characters.
DEFAULT_SKU_CHUNK: Final = 100


class Inventory:
    """``client.inventory``: inventory entries, one per (sku, supply channel)."""

    def __init__(self, api: Api) -> None:
        self._api = api

    def get(self, entry_id: str) -> InventoryEntry:
        """The entry with this id; :class:`~ct_prima_sync.errors.NotFoundError` if none."""
        return parse_inventory_entry(
            self._api.request("GET", f"/inventory/{quote(entry_id, safe='')}")
        )

    def query(
        self,
        where: str | None = None,
        *,
        variables: Mapping[str, QueryValue] | None = None,
        expand: Sequence[str] = (),
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[InventoryEntry]:
        """Every entry matching ``where``, one page in memory at a time (paged by id)."""
        raw = self._api.iter_query(
            "inventory", where=where, variables=variables, expand=expand, page_size=page_size
        )
        return map(parse_inventory_entry, raw)

    def query_by_skus(
        self,
        skus: Iterable[str],
        *,
        supply_channel_id: str | None = None,
        chunk_size: int = DEFAULT_SKU_CHUNK,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[InventoryEntry]:
        """The entries of these SKUs (duplicates ignored), in chunks of ``chunk_size`` SKUs.

        With ``supply_channel_id`` only that channel's entries; without it, entries of every
        channel and those without one.
        """
        channel = "supplyChannel(id = :channelId)" if supply_channel_id is not None else None
        extra: dict[str, QueryValue] = {}
        if supply_channel_id is not None:
            extra["channelId"] = supply_channel_id
        raw = self._sku_chunks(skus, channel, extra, chunk_size, page_size)
        return map(parse_inventory_entry, raw)

    def levels(
        self,
        where: str | None = None,
        *,
        variables: Mapping[str, QueryValue] | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[InventoryLevel]:
        """Like :meth:`query`, as :class:`InventoryLevel` figures (the fields a stock sync
        needs, read without building whole entries)."""
        raw = self._api.iter_query(
            "inventory", where=where, variables=variables, page_size=page_size
        )
        return map(parse_inventory_level, raw)

    def levels_by_skus(
        self,
        skus: Iterable[str],
        *,
        where: str | None = None,
        variables: Mapping[str, QueryValue] | None = None,
        chunk_size: int = DEFAULT_SKU_CHUNK,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[InventoryLevel]:
        """The figures of these SKUs' entries (duplicates ignored), ``chunk_size`` SKUs per
        query, each query also restricted by ``where`` (for example
        ``supplyChannel(id in :channels)``) with its ``variables``."""
        raw = self._sku_chunks(skus, where, dict(variables or {}), chunk_size, page_size)
        return map(parse_inventory_level, raw)

    def _sku_chunks(
        self,
        skus: Iterable[str],
        where: str | None,
        variables: dict[str, QueryValue],
        chunk_size: int,
        page_size: int,
    ) -> Iterator[dict[str, Any]]:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ConfigurationError("chunk_size must be an integer of at least 1")
        if "skus" in variables:
            raise ConfigurationError("query variable name 'skus' is taken by the SKU list")
        return self._query_chunks(
            list(dict.fromkeys(skus)), where, variables, chunk_size, page_size
        )

    def _query_chunks(
        self,
        unique: list[str],
        where: str | None,
        variables: dict[str, QueryValue],
        chunk_size: int,
        page_size: int,
    ) -> Iterator[dict[str, Any]]:
        predicate = join_predicates(["sku in :skus", where])
        for chunk in chunked(unique, chunk_size):
            yield from self._api.iter_query(
                "inventory",
                where=predicate,
                variables={**variables, "skus": chunk},
                page_size=page_size,
            )

    def create(self, draft: InventoryEntryDraft) -> InventoryEntry:
        """Create an entry. One per (sku, supply channel): a second one fails with a 400."""
        return parse_inventory_entry(
            self._api.request("POST", "/inventory", json=draft_to_json(draft))
        )

    def update(
        self,
        entry_id: str,
        version: int,
        actions: Sequence[InventoryUpdateAction],
        *,
        retry_ambiguous: bool = False,
    ) -> InventoryEntry:
        """Apply ``actions`` to version ``version`` of the entry; return the updated entry."""
        body = {"version": version, "actions": [action_to_json(a) for a in actions]}
        data = self._api.request(
            "POST",
            f"/inventory/{quote(entry_id, safe='')}",
            json=body,
            retry_ambiguous=retry_ambiguous,
        )
        return parse_inventory_entry(data)

    def update_resolving_conflicts(
        self,
        entry_id: str,
        version: int,
        actions: Sequence[InventoryUpdateAction],
        *,
        reread: Callable[[InventoryEntry], Sequence[InventoryUpdateAction]] | None = None,
        max_attempts: int = 3,
        retry_ambiguous: bool = False,
    ) -> InventoryEntry | None:
        """Like :meth:`update`, resolving 409s: absolute actions (``setRestockableInDays``,
        ``setExpectedDelivery``) are re-sent with the reported version; for the others
        (``changeQuantity``, whose right figure depends on the entry's reservations, and the
        deltas ``addQuantity``/``removeQuantity``) the entry is read again and ``reread(entry)``
        returns what is still needed (without ``reread`` the 409 is raised). Returns ``None``
        when ``reread`` found nothing left to do. ``retry_ambiguous`` as for :meth:`update`: an
        update that was applied but not answered comes back as a 409 and goes through
        ``reread``, so it is safe with a ``reread``."""
        replan: Callable[[], tuple[int, Sequence[InventoryUpdateAction]]] | None = None
        if reread is not None:
            decide = reread

            def replan() -> tuple[int, Sequence[InventoryUpdateAction]]:
                fresh = self.get(entry_id)
                return fresh.version, decide(fresh)

        return update_with_conflict_retry(
            version=version,
            actions=actions,
            update=lambda v, a: self.update(entry_id, v, a, retry_ambiguous=retry_ambiguous),
            reread=replan,
            max_attempts=max_attempts,
        )
