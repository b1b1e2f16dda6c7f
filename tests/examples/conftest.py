"""The deployment examples under examples/: their packages on ``sys.path``, and the Redis server
their Celery workers use (CT_PRIMA_SYNC_TEST_REDIS_URL, default 127.0.0.1:6379; tests skip with
a reason when it cannot be reached, and fail instead with CT_PRIMA_SYNC_REQUIRE_REDIS=1, as
.ci/run sets)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Final

import pytest

EXAMPLE: Final = Path(__file__).resolve().parents[2] / "examples" / "celery"
if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))

REDIS_URL_ENV: Final = "CT_PRIMA_SYNC_TEST_REDIS_URL"
REQUIRE_REDIS_ENV: Final = "CT_PRIMA_SYNC_REQUIRE_REDIS"
DEFAULT_REDIS_URL: Final = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def redis_server_url() -> str:
    """The test Redis server's URL; skips (or fails, with CT_PRIMA_SYNC_REQUIRE_REDIS=1) when
    the server or the ``examples`` extra is unavailable."""
    url = os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL)
    required = os.environ.get(REQUIRE_REDIS_ENV) == "1"
    try:
        import celery  # noqa: F401 (the examples extra)
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=3)
        client.ping()
        client.close()
    except Exception as exc:  # ImportError or any connection failure
        reason = (
            f"Redis or the examples extra not available at {REDIS_URL_ENV} ({type(exc).__name__})"
        )
        if required:
            pytest.fail(f"{reason}, and {REQUIRE_REDIS_ENV}=1 makes it mandatory")
        pytest.skip(reason)
    return url
