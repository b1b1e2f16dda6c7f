"""``open_store(url)``: pick and open a store from a URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ConfigurationError
from ._memory import MemoryStore
from ._sqlite import DEFAULT_BUSY_TIMEOUT, SqliteStore

if TYPE_CHECKING:
    from ._protocol import StateStore

__all__ = ["open_store"]


def open_store(url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> StateStore:
    """Open (and migrate) the store ``url`` names.

    - ``memory://``: in memory, gone when the process ends.
    - ``sqlite:///relative/sync.db``, ``sqlite:////absolute/sync.db``, ``sqlite:///:memory:``:
      SQLite, the embedded default; ``busy_timeout`` is how long a writer waits for another.
    - ``postgresql://user@host:5432/db`` (or ``postgres://``): PostgreSQL; needs the ``postgres``
      extra (``pip install 'ct-prima-sync[postgres]'``).

    Migrations run on open; they are idempotent and safe when several processes open at once.
    """
    if url == "memory://":
        return MemoryStore()
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path:
            raise ConfigurationError("state URL sqlite:/// needs a file path or :memory:")
        return SqliteStore(path, busy_timeout=busy_timeout)
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from ._postgres import PostgresStore  # noqa: PLC0415 (psycopg is an optional extra)
        except ImportError:
            raise ConfigurationError(
                "a postgresql:// state URL needs psycopg: pip install 'ct-prima-sync[postgres]'"
            ) from None
        return PostgresStore(url)
    scheme = url.split(":", 1)[0] if ":" in url else "(none)"
    raise ConfigurationError(
        f"state URL scheme {scheme!r} is not supported: use memory://, sqlite:///PATH "
        "or postgresql://..."
    )
