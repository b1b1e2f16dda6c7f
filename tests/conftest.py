"""Fixtures shared by every test suite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from ct_prima_sync.state import CUSTOMER_KEY_SECRET_ENV

# Engines refuse to start without an installation secret for guest customers' keys; every test
# (and every command a test runs in a subprocess) gets this one unless it sets its own.
os.environ.setdefault(CUSTOMER_KEY_SECRET_ENV, "test-installation-secret")

POSTGRES_URL_ENV = "CT_PRIMA_SYNC_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "CT_PRIMA_SYNC_REQUIRE_POSTGRES"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def with_search_path(url: str, schema: str) -> str:
    """``url`` with libpq ``options`` that put ``schema`` first on the search path."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The test server's URL; skips (or fails, with CT_PRIMA_SYNC_REQUIRE_POSTGRES=1) when the
    server or psycopg is unavailable."""
    url = os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)
    required = os.environ.get(REQUIRE_POSTGRES_ENV) == "1"
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # ImportError or any connection failure
        reason = f"PostgreSQL not reachable at {POSTGRES_URL_ENV} ({type(exc).__name__})"
        if required:
            pytest.fail(f"{reason}, and {REQUIRE_POSTGRES_ENV}=1 makes it mandatory")
        pytest.skip(reason)
    return url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema of their own, dropped afterwards."""
    import psycopg

    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_search_path(postgres_server_url, schema)
    finally:
        with psycopg.connect(postgres_server_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
