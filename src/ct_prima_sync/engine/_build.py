"""An engine built from the settings file (or settings already parsed), owning what it opened.

``SyncEngine.from_settings`` calls :func:`build_engine`; this module imports the settings
package, which imports the engine's configuration, so it is imported only when called.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ..commercetools import CommercetoolsClient
from ..errors import ConfigurationError
from ..prima import OmlinkClient
from ..settings import Settings, load_settings
from ..state import CUSTOMER_KEY_SECRET_ENV, open_store
from ._budget import request_budget
from ._clock import Clock
from ._notify import LoggingNotifier, Notifier, RoutingNotifier

if TYPE_CHECKING:
    from ._engine import SyncEngine

__all__ = ["SettingsSource", "build_engine"]

E = TypeVar("E", bound="SyncEngine")

#: What ``from_settings`` takes: a settings file's path, settings already parsed from TOML (a
#: mapping shaped like the file), or validated :class:`~ct_prima_sync.settings.Settings`.
SettingsSource = str | os.PathLike[str] | Mapping[str, Any] | Settings


def build_engine(
    cls: type[E],
    source: SettingsSource,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    notifier: Notifier | None = None,
    shop: str | None = None,
) -> E:
    """An engine over the state store, commercetools project and Prima of ``source``, with its
    mapping and ``[engine]`` settings, alerting where ``[alerts]`` says unless ``notifier`` is
    given; with ``shop``, as source ``shop`` of ``[sources]`` (``Settings.for_source``). The
    engine owns the store and both clients: close it (or use it in a ``with``)."""
    settings = source if isinstance(source, Settings) else load_settings(source, environ)
    if shop is not None:
        settings = settings.for_source(shop)
    elif settings.sources:
        raise ConfigurationError(
            f"the settings name several sources ({', '.join(sorted(settings.sources))}): "
            "build one engine per source with shop=<name>"
        )
    missing = [
        f"[{name}]"
        for name, value in (
            ("commercetools", settings.commercetools),
            ("prima", settings.prima),
            ("mapping", settings.mapping),
        )
        if value is None
    ]
    if settings.commercetools is None or settings.prima is None or settings.mapping is None:
        raise ConfigurationError(
            f"an engine needs {' and '.join(missing)} in the settings "
            f"({settings.path or 'given as a mapping'})"
        )
    config = settings.engine
    if environ is not None and config.customer_key_secret is None:
        secret = environ.get(CUSTOMER_KEY_SECRET_ENV)
        if secret:  # the same environment as the settings' other secrets
            config = attrs.evolve(config, customer_key_secret=secret)
    with contextlib.ExitStack() as opened:
        store = opened.enter_context(
            open_store(settings.state_url, busy_timeout=settings.state.busy_timeout)
        )
        commercetools = opened.enter_context(CommercetoolsClient(settings.commercetools))
        # every worker's requests share one budget through the store (docs/engine.md)
        budget = request_budget(store, settings.prima, adaptive=config.submission_flow, clock=clock)
        prima = opened.enter_context(OmlinkClient(settings.prima, flow=budget))
        if notifier is None:
            notifier = settings.alerts.notifier() if settings.alerts else LoggingNotifier()
            if isinstance(notifier, RoutingNotifier):
                opened.callback(notifier.close)
        engine = cls(
            commercetools=commercetools,
            prima=prima,
            store=store,
            mapping=settings.mapping,
            config=config,
            clock=clock,
            notifier=notifier,
        )
        engine.own(opened.pop_all())
    return engine
