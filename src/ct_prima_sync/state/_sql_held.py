"""Held orders over SQL (see ``_held_records``): one row per order, its lines beside it."""

# ruff: noqa: S608  (SQL is built from constant fragments and placeholders only;
# every value travels as a parameter)

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from ._common import check_limit, merge_lines
from ._held_records import HeldOrder, HeldRecord, HoldReason
from ._records import OrderLine, utc
from ._sql_base import SqlBase, Tx, chunks, ids_in

_COLUMNS = "order_id, order_number, ct_version, reason, held_since, checked_at"
_INSERT = (
    f"INSERT INTO held_orders ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (order_id) DO NOTHING"
)
_REPLACE = (
    "UPDATE held_orders SET order_number = ?, ct_version = ?, reason = ? "
    "WHERE order_id = ? AND ct_version < ?"
)
_CHECKED = "UPDATE held_orders SET checked_at = ? WHERE order_id = ?"
_INSERT_LINE = "INSERT INTO held_lines (order_id, sku, depot, quantity) VALUES (?, ?, ?, ?)"
#: Order ids per statement when held orders are dropped by the page.
_CHUNK = 500


class SqlHeldMixin(SqlBase):
    """``StateStore`` held-order operations for SQL stores."""

    def hold_orders(
        self, orders: Sequence[HeldOrder], *, now: datetime, checked: bool = False
    ) -> int:
        """See :meth:`StateStore.hold_orders`."""
        stamp = self.ts_in(utc(now, "now"))
        lines = [merge_lines(o.lines) for o in orders]  # bad lines refuse the call up front
        added = 0
        with self._write() as tx:
            for order, merged in zip(orders, lines, strict=True):
                # A concurrent ingest of the same order may commit after this check: the order
                # is then counted twice (never oversold) until Prima has it, which drops both.
                if tx.one("SELECT 1 FROM orders WHERE order_id = ?", (order.order_id,)):
                    continue
                reason = str(HoldReason(order.reason))
                row = (order.order_id, order.order_number, order.ct_version, reason, stamp, stamp)
                if tx.run(_INSERT, row) == 1:
                    added += 1
                else:
                    if checked:
                        tx.run(_CHECKED, (stamp, order.order_id))
                    if not tx.run(_REPLACE, (*row[1:4], order.order_id, order.ct_version)):
                        continue  # this version or a newer one is held: it stands
                    tx.run("DELETE FROM held_lines WHERE order_id = ?", (order.order_id,))
                if merged:
                    tx.many(
                        _INSERT_LINE,
                        [(order.order_id, s, d, units) for (s, d), units in merged.items()],
                    )
        return added

    def release_held(self, order_ids: Collection[str]) -> int:
        """See :meth:`StateStore.release_held`."""
        with self._write() as tx:
            return self._drop_held(tx, order_ids)

    def _drop_held(self, tx: Tx, order_ids: Collection[str]) -> int:
        """Delete these held orders and their lines inside ``tx``; how many were held."""
        dropped = 0
        for part in chunks(sorted(set(order_ids)), _CHUNK):
            tx.run(f"DELETE FROM held_lines WHERE {ids_in(part)}", part)
            dropped += tx.run(f"DELETE FROM held_orders WHERE {ids_in(part)}", part)
        return dropped

    def held_orders(
        self, *, checked_before: datetime | None = None, limit: int | None = None
    ) -> list[HeldRecord]:
        """See :meth:`StateStore.held_orders`."""
        check_limit(limit)
        where, params = "", []
        if checked_before is not None:
            before = self.ts_in(utc(checked_before, "checked_before"))
            where, params = " WHERE checked_at < ?", [before]
        where += " ORDER BY checked_at, order_id"
        if limit is not None:
            where += " LIMIT ?"
            params.append(limit)
        with self._read() as tx:
            rows = tx.all(f"SELECT {_COLUMNS} FROM held_orders{where}", params)
            ids = [row[0] for row in rows]
            found: dict[str, list[OrderLine]] = {order_id: [] for order_id in ids}
            for part in chunks(ids, _CHUNK):
                marks = ", ".join("?" * len(part))
                for order_id, sku, depot, units in tx.all(
                    "SELECT order_id, sku, depot, quantity FROM held_lines "
                    f"WHERE order_id IN ({marks}) ORDER BY order_id, sku, depot",
                    part,
                ):
                    found[order_id].append(OrderLine(sku=sku, depot=depot, quantity=int(units)))
        return [
            HeldRecord(
                order_id=order_id,
                order_number=number,
                ct_version=int(version),
                reason=HoldReason(reason),
                lines=tuple(found[order_id]),
                held_since=self.ts_out(since),
                checked_at=self.ts_out(checked),
            )
            for order_id, number, version, reason, since, checked in rows
        ]
