"""Fixtures for the state-store suites: every behaviour test runs against every store."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from ct_prima_sync.state import NewOrder, OrderTotals, StateStore, open_store

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """A moment ``seconds`` after T0."""
    return T0 + timedelta(seconds=seconds)


def order(n: int, *, version: int = 1, number: str | None = "") -> NewOrder:
    """A distinct order; ``number=""`` derives its order number from ``n``."""
    return NewOrder(
        order_id=f"order-{n:05d}",
        order_number=f"N{n:05d}" if number == "" else number,
        ct_version=version,
        totals=OrderTotals(
            currency="EUR", fraction_digits=2, net=1000 + n, tax=190, gross=1190 + n
        ),
    )


StoreFactory = Callable[[], StateStore]


#: Every table a store writes (schema_version aside), children before parents.
TABLES = (
    "held_lines",
    "held_orders",
    "order_lines",
    "dispatch_deliveries",
    "dispatch_orders",
    "orders",
    "exceptions",
    "customer_map",
    "cursors",
    "stock_snapshot",
    "batch_members",
    "posting_batches",
    "flow_locks",
    "flow_totals",
    "flow_runs",
    "shadow_orders",
    "request_budgets",
)


@pytest.fixture(scope="session")
def shared_postgres_url(postgres_server_url: str) -> Iterator[str]:
    """One migrated schema for the behaviour suites, emptied before each test (creating and
    migrating a schema per test costs more than the tests themselves)."""
    import psycopg

    schema = f"test_state_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        separator = "&" if "?" in postgres_server_url else "?"
        url = f"{postgres_server_url}{separator}options={quote(f'-csearch_path={schema}')}"
        open_store(url).close()  # migrate once
        yield url
    finally:
        with psycopg.connect(postgres_server_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def empty_postgres(url: str) -> None:
    """Delete every row the stores wrote under ``url``."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        for table in TABLES:
            conn.execute(f"DELETE FROM {table}")  # noqa: S608


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for each kind of store, naming an empty database."""
    kind = request.param
    if kind == "memory":
        return "memory://"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'sync.db'}"
    url: str = request.getfixturevalue("shared_postgres_url")
    empty_postgres(url)
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[StateStore]:
    """An open, empty store of each kind."""
    with open_store(store_url) as opened:
        yield opened
