"""The settings file of the ``ct-prima-sync`` command and of hosts that want one: where state
lives, how to reach commercetools and Prima, the mapping and the engine's behaviour.

``load_settings(path_or_mapping)`` reads and validates a file, or settings already parsed
(format: docs/configuration.md, "The settings file"); ``find_settings`` picks the file the way
the command does (``--config``, then
``$CT_PRIMA_SYNC_CONFIG``, then ``./ct-prima-sync.toml``). Every wrong type, unknown key and bad
value becomes one :class:`~ct_prima_sync.errors.SettingsError` listing each problem with its key
path; ``parse_section(name, mapping)`` does the same for one section (what
``CommercetoolsConfig.from_mapping`` and ``OmlinkConfig.from_mapping`` call).
"""

from ._converter import Problem
from ._load import (
    DEFAULT_SETTINGS_FILE,
    SETTINGS_ENV,
    MetricsSettings,
    Settings,
    StateSettings,
    find_settings,
    load_settings,
    parse_section,
    parse_settings,
    resolve_state_url,
)
from ._sources import SourceSettings

__all__ = [
    "DEFAULT_SETTINGS_FILE",
    "SETTINGS_ENV",
    "MetricsSettings",
    "Problem",
    "Settings",
    "SourceSettings",
    "StateSettings",
    "find_settings",
    "load_settings",
    "parse_section",
    "parse_settings",
    "resolve_state_url",
]
