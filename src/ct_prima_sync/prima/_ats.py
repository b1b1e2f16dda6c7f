"""Available-to-sell helpers: whole-catalogue paging and per-SKU totals.

Prima's documented ``ProductAvailableToSell`` takes a product range (``ProductFrom``/``ProductTo``)
and no paging; asked for an empty range it returns the whole catalogue at once. The library asks
instead for ``ProductFrom=<cursor>`` with a row cap (``MaxRows`` by default, a site-specific
attribute). From a full chunk it keeps every product but the last, whose rows may be cut off by
the cap, and starts the next chunk at that product (``ProductFrom`` is inclusive). So every row
comes exactly once and all rows of one product arrive in the same chunk.

Assumptions (check them against the installation): rows come sorted by product code in the same
order Prima compares ``ProductFrom``; ``ProductFrom`` is inclusive; the cap counts rows. A product
with as many rows as the chunk size (or more) cannot be paged this way: that raises
:class:`~ct_prima_sync.errors.PrimaProtocolError` (raise ``ats_chunk_size``). An installation
that ignores the cap still works: the first chunk is the whole catalogue and the second repeats
only its last product.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from attrs import evolve

from ..errors import PrimaProtocolError
from ._models import SkuCode, StockLevel

__all__ = ["iter_catalogue_chunks", "total_per_sku"]


def iter_catalogue_chunks(
    fetch: Callable[[str, int], list[StockLevel]], chunk_size: int
) -> Iterator[list[StockLevel]]:
    """Every row once, in batches holding whole products; ``fetch(product_from, max_rows)``."""
    cursor = ""
    while True:
        rows = fetch(cursor, chunk_size)
        if len(rows) < chunk_size:
            if rows:
                yield rows
            return
        last = rows[-1].sku.product
        if last == cursor:
            raise PrimaProtocolError(
                f"product range paging cannot advance: one product has {chunk_size} ATS rows or "
                "more; raise ats_chunk_size above the most rows one product has"
            )
        complete = [row for row in rows if row.sku.product != last]
        if complete:
            yield complete
        cursor = last


def total_per_sku(levels: Sequence[StockLevel]) -> list[StockLevel]:
    """One row per SKU (``depot`` empty): quantities summed over depots, the earliest date kept.

    For installations configured as not reporting per depot, in case rows come per depot anyway.
    """
    totals: dict[SkuCode, StockLevel] = {}
    for level in levels:
        seen = totals.get(level.sku)
        if seen is None:
            totals[level.sku] = evolve(level, depot="")
            continue
        dates = [d for d in (seen.available_date, level.available_date) if d is not None]
        totals[level.sku] = evolve(
            seen,
            available=seen.available + level.available,
            available_date=min(dates) if dates else None,
        )
    return list(totals.values())
