"""One ``SyncEngine`` per task, built from the settings file that every worker shares.

The settings are found the way the ``ct-prima-sync`` command finds them (``$CT_PRIMA_SYNC_CONFIG``,
else ``./ct-prima-sync.toml``). Several workers on several machines share the work through the
state store the settings name: PostgreSQL (``[state] url = "postgresql://..."``). Each worker
process names itself in the ledger's leases with ``[engine] worker_id`` (default: host and
process id).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

from attrs import frozen

from ct_prima_sync.commercetools import CommercetoolsClient
from ct_prima_sync.engine import Notifier, SyncEngine, SystemClock
from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.prima import OmlinkClient
from ct_prima_sync.settings import find_settings, load_settings
from ct_prima_sync.state import StateStore, open_store


@frozen
class Worker:
    """What a task works with: the engine, and the store and clock it shares with it."""

    engine: SyncEngine
    store: StateStore
    clock: SystemClock
    worker_id: str


@contextmanager
def open_worker(environ: Mapping[str, str] | None = None) -> Iterator[Worker]:
    """The engine over the systems and state of the shared settings file, closed afterwards.

    Raises :class:`~ct_prima_sync.errors.SettingsError` (a wrong settings file) or
    :class:`~ct_prima_sync.errors.ConfigurationError` (a section the workers need is missing),
    whose message says what to fix.
    """
    env = os.environ if environ is None else environ
    settings = load_settings(find_settings(None, env, Path.cwd()), env)
    if settings.commercetools is None or settings.prima is None or settings.mapping is None:
        raise ConfigurationError(
            "the workers need [commercetools], [prima] and [mapping] in the settings file"
        )
    clock = SystemClock()
    with ExitStack() as stack:
        notifier: Notifier | None = None
        if settings.alerts is not None:
            notifier = stack.enter_context(closing(settings.alerts.notifier()))
        store = stack.enter_context(
            open_store(settings.state_url, busy_timeout=settings.state.busy_timeout)
        )
        engine = SyncEngine(
            commercetools=stack.enter_context(CommercetoolsClient(settings.commercetools)),
            prima=stack.enter_context(OmlinkClient(settings.prima)),
            store=store,
            mapping=settings.mapping,
            config=settings.engine,
            clock=clock,
            notifier=notifier,
        )
        yield Worker(engine=engine, store=store, clock=clock, worker_id=settings.engine.worker_id)
