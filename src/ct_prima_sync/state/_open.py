"""``open_store(url)``: pick and open a store from a URL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigurationError, StateNotFoundError
from ._memory import MemoryStore
from ._sqlite import DEFAULT_BUSY_TIMEOUT, SqliteStore

if TYPE_CHECKING:
    from ._protocol import StateStore

__all__ = ["open_store"]


def open_store(
    url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, create: bool = True
) -> StateStore:
    """Open (and migrate) the store ``url`` names.

    - ``memory://``: in memory, gone when the process ends.
    - ``sqlite:///relative/sync.db``, ``sqlite:////absolute/sync.db``, ``sqlite:///:memory:``:
      SQLite, the embedded default; ``busy_timeout`` is how long a writer waits for another.
    - ``postgresql://user@host:5432/db`` (or ``postgres://``): PostgreSQL; needs the ``postgres``
      extra (``pip install 'ct-prima-sync[postgres]'``).

    Migrations run on open; they are idempotent and safe when several processes open at once.
    With ``create=False`` (tools that only read or fix the queue) a store that does not exist yet
    is refused with :class:`~ct_prima_sync.errors.StateNotFoundError` instead of being created.
    """
    if url == "memory://":
        if not create:
            raise StateNotFoundError("no state at memory:// (an in-memory store starts empty)")
        return MemoryStore()
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path:
            raise ConfigurationError("state URL sqlite:/// needs a file path or :memory:")
        if not create and (path == ":memory:" or not Path(path).is_file()):
            raise StateNotFoundError(
                f"no state at {path}: check the state URL, or run a sync first"
            )
        return SqliteStore(path, busy_timeout=busy_timeout)
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from ._postgres import PostgresStore  # noqa: PLC0415 (psycopg is an optional extra)
        except ImportError:
            raise ConfigurationError(
                "a postgresql:// state URL needs psycopg: pip install 'ct-prima-sync[postgres]'"
            ) from None
        if not create and not PostgresStore.exists(url):
            raise StateNotFoundError(
                "no state in this PostgreSQL database and schema: check the state URL "
                "(and its search_path), or run a sync first"
            )
        return PostgresStore(url)
    scheme = url.split(":", 1)[0] if ":" in url else "(none)"
    raise ConfigurationError(
        f"state URL scheme {scheme!r} is not supported: use memory://, sqlite:///PATH "
        "or postgresql://..."
    )
