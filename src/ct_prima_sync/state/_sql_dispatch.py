"""Despatch progress over SQL: one ``dispatch_orders`` row per followed order, its deliveries in
``dispatch_deliveries`` (append-only, unique per order and key). Rules in ``_dispatch_records``."""

# ruff: noqa: S608  (SQL is built from constant fragments and placeholders only;
# every value travels as a parameter)

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from ..errors import StateError
from ._common import check_limit
from ._dispatch_records import (
    DeliveryRecord,
    DispatchRecord,
    DispatchState,
    check_new_dispatch_record,
    lines_from_json,
    lines_to_json,
    normalised,
    returns_from_json,
    returns_to_json,
    saved_dispatch_record,
)
from ._records import OrderRecord, utc
from ._sql_base import ORDER_COLUMNS, Row, SqlBase, Tx, chunks

_COLUMNS = (
    "order_id, order_number, prima_reference, state, accepted_at, next_check_at, "
    "last_checked_at, checks, prima_status, ct_order_state, lines, returns, first_despatched_on, "
    "last_despatched_on, finished_at, revision, created_at, updated_at"
)
_DELIVERY_COLUMNS = (
    "order_id, delivery_key, despatch_ref, despatched_on, items, written_at, shipping_key, "
    "carrier, tracking_ids"
)
_SELECT = f"SELECT {_COLUMNS} FROM dispatch_orders"
_INSERT = (
    f"INSERT INTO dispatch_orders ({_COLUMNS}) VALUES "
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING"
)
_UPDATE = (
    "UPDATE dispatch_orders SET order_number = ?, prima_reference = ?, state = ?, "
    "accepted_at = ?, next_check_at = ?, last_checked_at = ?, checks = ?, prima_status = ?, "
    "ct_order_state = ?, lines = ?, returns = ?, first_despatched_on = ?, "
    "last_despatched_on = ?, finished_at = ?, revision = ?, created_at = ?, updated_at = ? "
    "WHERE order_id = ?"
)
_INSERT_DELIVERY = (
    f"INSERT INTO dispatch_deliveries ({_DELIVERY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (order_id, delivery_key) DO NOTHING"
)
_IN_CHUNK = 400


class SqlDispatchMixin(SqlBase):
    """``StateStore`` despatch-progress operations for SQL stores."""

    def date_in(self, value: date | None) -> Any:
        """A date as the database stores it (ISO text unless a dialect says otherwise)."""
        return None if value is None else value.isoformat()

    def date_out(self, value: Any) -> date | None:
        """A stored date as a ``date``."""
        if value is None or isinstance(value, date):
            return value
        return date.fromisoformat(value)

    def _json_list(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    # -- rows ------------------------------------------------------------------------------------
    def _params(self, r: DispatchRecord) -> tuple[Any, ...]:
        return (
            r.order_id,
            r.order_number,
            r.prima_reference,
            r.state.value,
            self.ts_in(r.accepted_at),
            self.ts_in(r.next_check_at),
            self.ts_in(r.last_checked_at),
            r.checks,
            r.prima_status,
            r.ct_order_state,
            self.json_in(lines_to_json(r.lines)),
            self.json_in(returns_to_json(r.returns)),
            self.date_in(r.first_despatched_on),
            self.date_in(r.last_despatched_on),
            self.ts_in(r.finished_at),
            r.revision,
            self.ts_in(r.created_at),
            self.ts_in(r.updated_at),
        )

    def _delivery_params(self, order_id: str, d: DeliveryRecord) -> tuple[Any, ...]:
        return (
            order_id,
            d.delivery_key,
            d.despatch_ref,
            self.date_in(d.despatched_on),
            self.json_in(json.dumps([list(item) for item in d.items])),
            self.ts_in(d.written_at),
            d.shipping_key,
            d.carrier,
            self.json_in(json.dumps(list(d.tracking_ids))),
        )

    def _delivery(self, row: Row) -> DeliveryRecord:
        despatched_on = self.date_out(row[3])
        assert despatched_on is not None
        return DeliveryRecord(
            delivery_key=row[1],
            despatch_ref=row[2],
            despatched_on=despatched_on,
            items=tuple((str(i), int(q)) for i, q in self._json_list(row[4])),
            written_at=self.ts_out(row[5]),
            shipping_key=row[6],
            carrier=row[7],
            tracking_ids=tuple(self._json_list(row[8])),
        )

    def _record(self, row: Row, deliveries: Sequence[DeliveryRecord]) -> DispatchRecord:
        return DispatchRecord(
            order_id=row[0],
            order_number=row[1],
            prima_reference=row[2],
            state=DispatchState(row[3]),
            accepted_at=self.ts_out(row[4]),
            next_check_at=self._ts(row[5]),
            last_checked_at=self._ts(row[6]),
            checks=row[7],
            prima_status=row[8],
            ct_order_state=row[9],
            lines=lines_from_json(row[10]),
            returns=returns_from_json(row[11]),
            first_despatched_on=self.date_out(row[12]),
            last_despatched_on=self.date_out(row[13]),
            finished_at=self._ts(row[14]),
            revision=row[15],
            created_at=self.ts_out(row[16]),
            updated_at=self.ts_out(row[17]),
            deliveries=tuple(deliveries),
        )

    def _records(self, tx: Tx, rows: Sequence[Row]) -> list[DispatchRecord]:
        """Records for ``rows`` with their deliveries (read in the same unit of work)."""
        found: dict[str, list[DeliveryRecord]] = defaultdict(list)
        for ids in chunks([r[0] for r in rows], _IN_CHUNK):
            marks = ", ".join("?" * len(ids))
            for row in tx.all(
                f"SELECT {_DELIVERY_COLUMNS} FROM dispatch_deliveries WHERE order_id IN ({marks}) "
                "ORDER BY order_id, written_at, delivery_key",
                list(ids),
            ):
                found[row[0]].append(self._delivery(row))
        return [self._record(row, found.get(row[0], ())) for row in rows]

    # -- operations ------------------------------------------------------------------------------
    def untracked_orders(self, *, limit: int) -> list[OrderRecord]:
        """See :meth:`StateStore.untracked_orders`."""
        check_limit(limit)
        columns = ", ".join(f"o.{c.strip()}" for c in ORDER_COLUMNS.split(","))
        with self._read() as tx:
            rows = tx.all(
                f"SELECT {columns} FROM orders o WHERE o.prima_reference IS NOT NULL AND NOT "
                "EXISTS (SELECT 1 FROM dispatch_orders d WHERE d.order_id = o.order_id) "
                "ORDER BY o.created_at, o.order_id LIMIT ?",
                (limit,),
            )
        return [self.order_from_row(r) for r in rows]

    def follow_for_dispatch(self, records: Sequence[DispatchRecord], *, now: datetime) -> int:
        """See :meth:`StateStore.follow_for_dispatch`."""
        utc(now, "now")
        for record in records:
            check_new_dispatch_record(record)
        added = 0
        with self._write() as tx:
            for record in records:
                if tx.one("SELECT 1 FROM orders WHERE order_id = ?", (record.order_id,)) is None:
                    raise StateError(f"unknown order {record.order_id}")
                fresh = normalised(record)
                params = self._params(fresh)
                added += tx.run(_INSERT, (*params[:15], 0, *params[16:]))
        return added

    def get_dispatch(self, order_id: str) -> DispatchRecord | None:
        """See :meth:`StateStore.get_dispatch`."""
        return self.get_dispatches([order_id]).get(order_id)

    def get_dispatches(self, order_ids: Iterable[str]) -> dict[str, DispatchRecord]:
        """See :meth:`StateStore.get_dispatches`."""
        wanted = list(dict.fromkeys(order_ids))
        found: dict[str, DispatchRecord] = {}
        with self._read() as tx:
            for ids in chunks(wanted, _IN_CHUNK):
                marks = ", ".join("?" * len(ids))
                rows = tx.all(f"{_SELECT} WHERE order_id IN ({marks})", list(ids))
                found.update((r.order_id, r) for r in self._records(tx, rows))
        return found

    def due_dispatch(
        self,
        *,
        now: datetime,
        limit: int,
        after: tuple[datetime, datetime, str] | None = None,
    ) -> list[DispatchRecord]:
        """See :meth:`StateStore.due_dispatch`."""
        check_limit(limit)
        params: list[Any] = [self.ts_in(utc(now, "now"))]
        page = ""
        if after is not None:
            page = " AND (next_check_at, accepted_at, order_id) > (?, ?, ?)"
            params += [
                self.ts_in(utc(after[0], "after")),
                self.ts_in(utc(after[1], "after")),
                after[2],
            ]
        with self._read() as tx:
            rows = tx.all(
                f"{_SELECT} WHERE state = 'open' AND next_check_at <= ?{page} "
                "ORDER BY next_check_at, accepted_at, order_id LIMIT ?",
                (*params, limit),
            )
            return self._records(tx, rows)

    def count_due_dispatch(self, *, now: datetime) -> int:
        """See :meth:`StateStore.count_due_dispatch`."""
        with self._read() as tx:
            row = tx.one(
                "SELECT COUNT(*) FROM dispatch_orders WHERE state = 'open' AND next_check_at <= ?",
                (self.ts_in(utc(now, "now")),),
            )
        return int(row[0]) if row else 0

    def save_dispatch(self, record: DispatchRecord, *, now: datetime) -> DispatchRecord:
        """See :meth:`StateStore.save_dispatch`."""
        with self._write() as tx:
            rows = tx.all(f"{_SELECT} WHERE order_id = ?{self.for_update}", (record.order_id,))
            stored = self._records(tx, rows)
            saved = saved_dispatch_record(stored[0] if stored else None, record, now=now)
            params = self._params(saved)
            tx.run(_UPDATE, (*params[1:], params[0]))
            known = {d.delivery_key for d in stored[0].deliveries}
            fresh = [d for d in saved.deliveries if d.delivery_key not in known]
            if fresh:
                tx.many(_INSERT_DELIVERY, [self._delivery_params(saved.order_id, d) for d in fresh])
            return saved

    def list_dispatch(
        self, state: DispatchState | None = None, *, limit: int | None = None
    ) -> list[DispatchRecord]:
        """See :meth:`StateStore.list_dispatch`."""
        check_limit(limit)
        sql, params = _SELECT, list[Any]()
        if state is not None:
            sql += " WHERE state = ?"
            params.append(DispatchState(state).value)
        sql += " ORDER BY order_id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._read() as tx:
            return self._records(tx, tx.all(sql, params))

    def count_dispatch_by_state(self) -> dict[DispatchState, int]:
        """See :meth:`StateStore.count_dispatch_by_state`."""
        with self._read() as tx:
            rows = tx.all("SELECT state, COUNT(*) FROM dispatch_orders GROUP BY state")
        counts = dict.fromkeys(DispatchState, 0)
        for state, count in rows:
            counts[DispatchState(state)] = int(count)
        return counts

    def make_dispatch_due(self, order_ids: Sequence[str], *, now: datetime) -> int:
        """See :meth:`StateStore.make_dispatch_due`."""
        t_now = self.ts_in(utc(now, "now"))
        moved = 0
        with self._write() as tx:
            for ids in chunks(list(dict.fromkeys(order_ids)), _IN_CHUNK):
                marks = ", ".join("?" * len(ids))
                moved += tx.run(
                    f"UPDATE dispatch_orders SET next_check_at = ? WHERE order_id IN ({marks}) "
                    "AND state = 'open' AND next_check_at > ?",
                    (t_now, *ids, t_now),
                )
        return moved
