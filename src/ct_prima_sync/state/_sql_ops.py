"""Flow runs, shadow records, ledger listing and personal-data purges in SQL."""

# ruff: noqa: S608  (SQL is built from constant fragments and placeholders only;
# every value travels as a parameter)

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from ._common import check_limit, check_name, json_counts, json_detail, needles
from ._ops_records import FlowRunRecord, ShadowRecord, ShadowVerdict
from ._records import OrderRecord, OrderStatus, OrderTotals, utc
from ._sql_base import ORDER_COLUMNS, Row, SqlBase, Tx, chunks

_RUN_COLUMNS = (
    "flow, last_started_at, last_finished_at, last_succeeded_at, last_failed_at, last_failure, "
    "last_duration_seconds, last_counts, runs, failures, consecutive_failures, total_seconds"
)
_START_RUN = (
    "INSERT INTO flow_runs (flow, last_started_at) VALUES (?, ?) "
    "ON CONFLICT (flow) DO UPDATE SET last_started_at = excluded.last_started_at"
)
_FINISH_RUN = (
    f"INSERT INTO flow_runs ({_RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) "
    "ON CONFLICT (flow) DO UPDATE SET "
    "last_finished_at = excluded.last_finished_at, "
    "last_succeeded_at = COALESCE(excluded.last_succeeded_at, flow_runs.last_succeeded_at), "
    "last_failed_at = COALESCE(excluded.last_failed_at, flow_runs.last_failed_at), "
    "last_failure = COALESCE(excluded.last_failure, flow_runs.last_failure), "
    "last_duration_seconds = excluded.last_duration_seconds, "
    "last_counts = excluded.last_counts, "
    "runs = flow_runs.runs + 1, "
    "failures = flow_runs.failures + excluded.failures, "
    "consecutive_failures = CASE WHEN excluded.failures = 0 THEN 0 "
    "ELSE flow_runs.consecutive_failures + 1 END, "
    "total_seconds = flow_runs.total_seconds + excluded.total_seconds"
)
_ADD_TOTAL = (
    "INSERT INTO flow_totals (flow, name, total) VALUES (?, ?, ?) "
    "ON CONFLICT (flow, name) DO UPDATE SET total = flow_totals.total + excluded.total"
)
_SHADOW_COLUMNS = (
    "order_id, order_number, mode, verdict, kinds, currency, fraction_digits, net_minor, "
    "tax_minor, gross_minor, lines, new_customer, customer_key, payload, recorded_at, purged_at"
)
_PUT_SHADOW = (
    f"INSERT INTO shadow_orders ({_SHADOW_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET "
    + ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in _SHADOW_COLUMNS.split(",")[1:])
)
_IN_CHUNK = 400


def _in(column: str, count: int) -> str:
    return f"{column} IN ({', '.join(['?'] * count)})"


class SqlOpsMixin(SqlBase):
    """``StateStore`` operations for running the sync, for SQL stores."""

    #: a SQL function (haystack, needle) -> position, 0 when absent
    find_function: str = "instr"
    #: the exceptions' detail column as text
    detail_text: str = "detail"

    # -- ledger listing --------------------------------------------------------------------------
    def list_orders(
        self, statuses: Collection[OrderStatus], *, limit: int | None = None
    ) -> list[OrderRecord]:
        """See :meth:`StateStore.list_orders`."""
        check_limit(limit)
        wanted = sorted({OrderStatus(s).value for s in statuses})
        if not wanted:
            return []
        sql = (
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE {_in('status', len(wanted))} "
            "ORDER BY created_at, order_id"
        )
        params: list[Any] = list(wanted)
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._read() as tx:
            rows = tx.all(sql, params)
        return [self.order_from_row(r) for r in rows]

    # -- flow runs -------------------------------------------------------------------------------
    def start_flow_run(self, flow: str, *, now: datetime) -> None:
        """See :meth:`StateStore.start_flow_run`."""
        check_name(flow, "flow")
        with self._write() as tx:
            tx.run(_START_RUN, (flow, self.ts_in(utc(now, "now"))))

    def finish_flow_run(
        self,
        flow: str,
        *,
        started_at: datetime,
        now: datetime,
        failure: str | None,
        counts: Mapping[str, int],
    ) -> FlowRunRecord:
        """See :meth:`StateStore.finish_flow_run`."""
        check_name(flow, "flow")
        started, now = utc(started_at, "started_at"), utc(now, "now")
        counts_text = json_counts(counts)
        seconds = max((now - started).total_seconds(), 0.0)
        t_now = self.ts_in(now)
        failed = failure is not None
        params = (
            flow,
            self.ts_in(started),
            t_now,
            None if failed else t_now,
            t_now if failed else None,
            failure,
            seconds,
            self.json_in(counts_text),
            int(failed),
            int(failed),
            seconds,
        )
        with self._write() as tx:
            tx.run(_FINISH_RUN, params)
            rows = [(flow, name, value) for name, value in counts.items() if value]
            if rows:
                tx.many(_ADD_TOTAL, rows)
            (record,) = self._flow_runs(tx, flow)
        return record

    def list_flow_runs(self) -> list[FlowRunRecord]:
        """See :meth:`StateStore.list_flow_runs`."""
        with self._read() as tx:
            return self._flow_runs(tx, None)

    def _flow_runs(self, tx: Tx, flow: str | None) -> list[FlowRunRecord]:
        where, params = (" WHERE flow = ?", [flow]) if flow is not None else ("", [])
        rows = tx.all(f"SELECT {_RUN_COLUMNS} FROM flow_runs{where} ORDER BY flow", params)
        totals: dict[str, dict[str, int]] = {}
        for name, key, total in tx.all(
            f"SELECT flow, name, total FROM flow_totals{where} ORDER BY flow, name", params
        ):
            totals.setdefault(name, {})[key] = int(total)
        return [self._run_from_row(row, totals.get(row[0], {})) for row in rows]

    def _run_from_row(self, row: Row, totals: dict[str, int]) -> FlowRunRecord:
        return FlowRunRecord(
            flow=row[0],
            last_started_at=self._ts(row[1]),
            last_finished_at=self._ts(row[2]),
            last_succeeded_at=self._ts(row[3]),
            last_failed_at=self._ts(row[4]),
            last_failure=row[5],
            last_duration_seconds=None if row[6] is None else float(row[6]),
            last_counts={k: int(v) for k, v in self.json_out(row[7]).items()},
            runs=int(row[8]),
            failures=int(row[9]),
            consecutive_failures=int(row[10]),
            total_seconds=float(row[11]),
            totals=totals,
        )

    # -- shadow records --------------------------------------------------------------------------
    def put_shadow_orders(self, records: Sequence[ShadowRecord]) -> None:
        """See :meth:`StateStore.put_shadow_orders`."""
        rows = [self._shadow_params(r) for r in records]
        if rows:
            with self._write() as tx:
                tx.many(_PUT_SHADOW, rows)

    def _shadow_params(self, r: ShadowRecord) -> tuple[Any, ...]:
        totals = r.totals
        payload = None if r.payload is None else self.json_in(json_detail(r.payload))
        return (
            r.order_id,
            r.order_number,
            r.mode,
            ShadowVerdict(r.verdict).value,
            ",".join(r.kinds),
            totals.currency if totals else None,
            totals.fraction_digits if totals else None,
            totals.net if totals else None,
            totals.tax if totals else None,
            totals.gross if totals else None,
            r.lines,
            bool(r.new_customer),
            r.customer_key,
            payload,
            self.ts_in(utc(r.recorded_at, "recorded_at")),
            self.ts_in(None if r.purged_at is None else utc(r.purged_at, "purged_at")),
        )

    def list_shadow_orders(
        self, *, since: datetime | None = None, limit: int | None = None
    ) -> list[ShadowRecord]:
        """See :meth:`StateStore.list_shadow_orders`."""
        check_limit(limit)
        sql = f"SELECT {_SHADOW_COLUMNS} FROM shadow_orders"
        params: list[Any] = []
        if since is not None:
            sql += " WHERE recorded_at >= ?"
            params.append(self.ts_in(utc(since, "since")))
        sql += " ORDER BY COALESCE(order_number, order_id), order_id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._read() as tx:
            rows = tx.all(sql, params)
        return [self._shadow_from_row(r) for r in rows]

    def _shadow_from_row(self, row: Row) -> ShadowRecord:
        totals = (
            None
            if row[5] is None
            else OrderTotals(
                currency=row[5], fraction_digits=row[6], net=row[7], tax=row[8], gross=row[9]
            )
        )
        return ShadowRecord(
            order_id=row[0],
            order_number=row[1],
            mode=row[2],
            verdict=ShadowVerdict(row[3]),
            kinds=tuple(k for k in row[4].split(",") if k),
            totals=totals,
            lines=int(row[10]),
            new_customer=bool(row[11]),
            customer_key=row[12],
            payload=None if row[13] is None else self.json_out(row[13]),
            recorded_at=self.ts_out(row[14]),
            purged_at=self._ts(row[15]),
        )

    # -- personal data ---------------------------------------------------------------------------
    def purge_shadow_payloads(
        self,
        *,
        now: datetime,
        recorded_before: datetime | None = None,
        order_ids: Collection[str] = (),
        customer_keys: Collection[str] = (),
    ) -> int:
        """See :meth:`StateStore.purge_shadow_payloads`."""
        t_now = self.ts_in(utc(now, "now"))
        purge = (
            "UPDATE shadow_orders SET payload = NULL, customer_key = NULL, purged_at = ? "
            "WHERE (payload IS NOT NULL OR customer_key IS NOT NULL) AND "
        )
        purged = 0
        with self._write() as tx:
            if recorded_before is not None:
                cutoff = self.ts_in(utc(recorded_before, "recorded_before"))
                purged += tx.run(purge + "recorded_at < ?", (t_now, cutoff))
            for column, values in (("order_id", order_ids), ("customer_key", customer_keys)):
                for part in chunks(sorted(set(values)), _IN_CHUNK):
                    purged += tx.run(purge + _in(column, len(part)), (t_now, *part))
        return purged

    def scrub_exceptions(
        self,
        *,
        now: datetime,
        scrub: Callable[[dict[str, Any]], dict[str, Any]],
        note: str,
        resolved_before: datetime | None = None,
        order_ids: Collection[str] = (),
        containing: Collection[str] = (),
    ) -> int:
        """See :meth:`StateStore.scrub_exceptions`."""
        clauses: list[str] = []
        params: list[Any] = []
        if resolved_before is not None:
            clauses.append("(resolved_at IS NOT NULL AND resolved_at < ?)")
            params.append(self.ts_in(utc(resolved_before, "resolved_before")))
        ids = sorted(set(order_ids))
        if ids:
            clauses.append(_in("order_id", len(ids)))
            params += ids
        for needle in needles(containing):
            clauses.append(
                f"({self.find_function}(lower({self.detail_text}), ?) > 0 OR "
                f"{self.find_function}(lower(COALESCE(resolution_note, '')), ?) > 0)"
            )
            params += [needle, needle]
        if not clauses:
            return 0
        t_now = self.ts_in(utc(now, "now"))
        with self._write() as tx:
            rows = tx.all(
                "SELECT exception_id, detail, resolution_note FROM exceptions "
                f"WHERE purged_at IS NULL AND ({' OR '.join(clauses)})" + self.for_update,
                params,
            )
            for exception_id, detail, old_note in rows:
                clean = json_detail(scrub(self.json_out(detail)))
                tx.run(
                    "UPDATE exceptions SET detail = ?, resolution_note = ?, purged_at = ? "
                    "WHERE exception_id = ?",
                    (self.json_in(clean), None if old_note is None else note, t_now, exception_id),
                )
        return len(rows)

    def forget_customer_keys(self, keys: Collection[str]) -> int:
        """See :meth:`StateStore.forget_customer_keys`."""
        removed = 0
        with self._write() as tx:
            for part in chunks(sorted(set(keys)), _IN_CHUNK):
                removed += tx.run(f"DELETE FROM customer_map WHERE {_in('key', len(part))}", part)
        return removed

    def compact(self) -> None:
        """See :meth:`StateStore.compact`. PostgreSQL keeps old row versions until ``VACUUM``
        reclaims them (autovacuum does, in time); docs/security.md says what that means."""
