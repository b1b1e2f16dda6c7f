"""Find, read and validate one settings file: where state lives and how to reach both systems.

The format is documented in docs/configuration.md ("The settings file"). Every problem in a file
is collected before anything fails, so a person fixes them all in one go.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from attrs import evolve, field, frozen

from ..checkout._settings import CheckoutSettings
from ..commercetools import CommercetoolsConfig
from ..engine import (
    AlertRoutes,
    EngineConfig,
    GoLiveConfig,
    GoLiveMode,
    HealthPolicy,
    PostingsConfig,
    RetentionPolicy,
)
from ..errors import ConfigurationError, SettingsError
from ..mapping import MappingConfig
from ..prima import OmlinkConfig
from ._converter import Path as KeyPath
from ._converter import Problem, describe, keys_at, make_converter, where
from ._sources import CURSOR_SEPARATOR, SourceSettings, source_problems

__all__ = [
    "DEFAULT_SETTINGS_FILE",
    "SETTINGS_ENV",
    "MetricsSettings",
    "Settings",
    "StateSettings",
    "find_settings",
    "load_settings",
    "parse_section",
]

#: The settings file looked for in the working directory when none is named.
DEFAULT_SETTINGS_FILE: Final = "ct-prima-sync.toml"
#: The environment variable naming the settings file.
SETTINGS_ENV: Final = "CT_PRIMA_SYNC_CONFIG"

#: Secrets never stand in the file: each is named by ``<key>_env`` (an environment variable) or
#: ``<key>_file`` (a file holding it, as Docker and Kubernetes secrets are mounted). By table.
_SECRETS: Final[dict[tuple[str, ...], tuple[str, ...]]] = {
    ("commercetools",): ("client_secret",),
    ("prima",): ("password", "header_value"),
    ("engine",): ("customer_key_secret",),
    ("alerts", "smtp"): ("password",),
    ("alerts", "finance"): ("webhook_url",),
    ("alerts", "operations"): ("webhook_url",),
    ("alerts", "ecommerce"): ("webhook_url",),
}
_REQUIRED_SECRETS: Final = frozenset({"client_secret"})
#: Stands in for a secret that could not be read, so that the section's other keys are checked.
_UNREAD: Final = "unread secret"

_CONVERTER: Final = make_converter()


@frozen(kw_only=True)
class StateSettings:
    """``[state]``: the state store's URL (``sqlite:///sync.db``, ``postgresql://...``) and, for
    SQLite, how long a writer waits for another process. A relative SQLite path is relative to
    the settings file, so a cron job finds the same file whatever its working directory."""

    url: str
    busy_timeout: float = 30.0


def _port(_instance: object, _attribute: object, value: int) -> None:
    if not 0 <= value < 65536:
        raise ConfigurationError(f"port must be between 0 and 65535, got {value}")


@frozen(kw_only=True)
class MetricsSettings:
    """``[metrics]``: ``textfile``, a Prometheus textfile rewritten after every ``run`` (for
    node exporter's textfile collector; relative to the settings file), and where
    ``ct-prima-sync metrics`` serves (``bind``, ``port``)."""

    textfile: str = ""
    bind: str = "127.0.0.1"
    port: int = field(default=9464, validator=_port)


@frozen(kw_only=True)
class Settings:
    """A validated settings file. The system sections are None when the file leaves them out
    (the queue commands need only ``[state]``)."""

    path: Path | None
    state: StateSettings
    engine: EngineConfig = field(factory=EngineConfig)
    commercetools: CommercetoolsConfig | None = None
    prima: OmlinkConfig | None = None
    mapping: MappingConfig | None = None
    health: HealthPolicy = field(factory=HealthPolicy)
    metrics: MetricsSettings = field(factory=MetricsSettings)
    alerts: AlertRoutes | None = None
    golive: GoLiveConfig = field(factory=GoLiveConfig)
    retention: RetentionPolicy | None = None
    postings: PostingsConfig | None = None

    @property
    def postings_config(self) -> PostingsConfig | None:
        """``[postings]`` with its ``directory`` made relative to the settings file; None when
        the file has no ``[postings]``."""
        if self.postings is None:
            return None
        directory = Path(self.postings.directory)
        if not directory.is_absolute() and self.path is not None:
            directory = self.path.parent / directory
        return evolve(self.postings, directory=str(directory))

    sources: Mapping[str, SourceSettings] = field(factory=dict)
    """``[sources.<name>]``: shops feeding this Prima, each run with :meth:`for_source`."""

    def for_source(self, name: str) -> Settings:
        """These settings as the engine of source ``name`` uses them: its commercetools
        project, its stores (``engine.eligibility.store_keys``), its Prima company, its order
        number prefix (``mapping.order_number_prefix``) and a poll cursor of its own in the
        shared store. Raises :class:`ConfigurationError` for a source the settings lack."""
        source = self.sources.get(name)
        if source is None:
            known = ", ".join(sorted(self.sources)) or "none"
            raise ConfigurationError(f"no source {name!r} in the settings (sources: {known})")
        ct, prima, mapping, engine = self.commercetools, self.prima, self.mapping, self.engine
        if ct is not None and source.project_key:
            ct = evolve(ct, project_key=source.project_key)
        if prima is not None and source.company_id:
            prima = evolve(prima, company_id=source.company_id)
        if mapping is not None:
            mapping = evolve(mapping, order_number_prefix=source.order_number_prefix)
        eligibility = engine.eligibility
        if source.store_keys:
            eligibility = evolve(eligibility, store_keys=frozenset(source.store_keys))
        company = (prima.company_id if prima is not None else None) or ""
        engine = evolve(
            engine,
            eligibility=eligibility,
            cursor_name=f"{engine.cursor_name}{CURSOR_SEPARATOR}{name}",
            customers=evolve(engine.customers, company=company),
        )
        return evolve(
            self, commercetools=ct, prima=prima, mapping=mapping, engine=engine, sources={}
        )

    checkout: CheckoutSettings = field(factory=CheckoutSettings)

    @property
    def state_url(self) -> str:
        """The state URL, with a relative SQLite path made relative to the settings file."""
        return resolve_state_url(self.state.url, self.path.parent if self.path else None)

    @property
    def health_policy(self) -> HealthPolicy:
        """What ``health`` expects: ``[health]``, with the purge enabled when ``[retention]``
        is set and, in shadow mode, the shadow flow expected instead of the order flow (where
        ``[health]`` leaves them open)."""
        policy = self.health.enabling("retention") if self.retention else self.health
        if self.golive.mode is GoLiveMode.SHADOW:
            policy = policy.enabling("shadow")
            if policy.orders.enabled is None:
                policy = evolve(policy, orders=evolve(policy.orders, enabled=False))
        return policy

    @property
    def metrics_textfile(self) -> Path | None:
        """``[metrics] textfile``, relative to the settings file; None when not set."""
        if not self.metrics.textfile:
            return None
        base = self.path.parent if self.path else Path()
        return base / self.metrics.textfile


_SECTIONS: Final[dict[str, type[Any]]] = {
    "state": StateSettings,
    "commercetools": CommercetoolsConfig,
    "prima": OmlinkConfig,
    "engine": EngineConfig,
    "health": HealthPolicy,
    "metrics": MetricsSettings,
    "alerts": AlertRoutes,
    "golive": GoLiveConfig,
    "retention": RetentionPolicy,
    "postings": PostingsConfig,
    "checkout": CheckoutSettings,
}


def resolve_state_url(url: str, base: Path | None) -> str:
    """A ``sqlite:///relative.db`` URL made relative to ``base`` (other URLs unchanged)."""
    prefix = "sqlite:///"
    if base is None or not url.startswith(prefix):
        return url
    path = url.removeprefix(prefix)
    if not path or path == ":memory:" or Path(path).is_absolute():
        return url
    return prefix + str(base / path)


def find_settings(explicit: str | None, environ: Mapping[str, str], cwd: Path) -> Path:
    """The settings file to use: ``explicit`` (``--config``), else ``$CT_PRIMA_SYNC_CONFIG``, else
    ``./ct-prima-sync.toml``. Raises :class:`ConfigurationError` saying how to name one."""
    if explicit:
        return Path(explicit)
    if environ.get(SETTINGS_ENV):
        return Path(environ[SETTINGS_ENV])
    default = cwd / DEFAULT_SETTINGS_FILE
    if default.is_file():
        return Path(DEFAULT_SETTINGS_FILE)
    raise ConfigurationError(
        f"no settings file: give --config FILE, set {SETTINGS_ENV}, or create "
        f"./{DEFAULT_SETTINGS_FILE} (see docs/configuration.md)"
    )


def load_settings(
    source: str | os.PathLike[str] | Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read and validate the settings file at ``source`` (a path), or settings already parsed
    (a mapping shaped like the file: ``{"state": {"url": ...}, "commercetools": {...}}``, with
    relative file names relative to the working directory). Secrets come from ``environ``
    (default ``os.environ``) or from the files the settings name. This is what the
    ``ct-prima-sync`` command reads its ``--config`` file with.

    Raises :class:`~ct_prima_sync.errors.SettingsError` listing every problem, each with its key
    path (``[prima] rate_limit: expected a number, got the string "fast"``).
    """
    environ = os.environ if environ is None else environ
    if isinstance(source, Mapping):
        return parse_settings(source, path=None, environ=environ)
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(f"settings file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigurationError(f"settings file {path} is a directory, not a file") from None
    except OSError as exc:
        raise ConfigurationError(f"cannot read settings {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"settings {path} are not UTF-8 text") from None
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"settings {path} are not valid TOML: {exc}") from None
    return parse_settings(data, path=path, environ=environ)


def parse_settings(
    data: Mapping[str, Any], *, path: Path | None, environ: Mapping[str, str]
) -> Settings:
    """Validate settings already parsed from TOML (``path`` names the file in messages and is
    where relative file names start)."""
    problems: list[Problem] = []
    base = path.parent if path is not None else Path()
    known = (*_SECTIONS, "mapping", "sources")
    problems += [
        Problem("", f"unknown section [{name}] (known: {', '.join(sorted(known))})")
        if isinstance(data[name], Mapping)
        else Problem("", f"unknown top-level key {name!r}: settings belong in a section")
        for name in data
        if name not in known
    ]
    values: dict[str, Any] = {}
    if "state" not in data:
        problems.append(Problem("[state] url", 'required, e.g. url = "sqlite:///sync.db"'))
    for name, kind in _SECTIONS.items():
        if name not in data:
            continue
        section = _secrets_in(name, data[name], environ, base, problems)
        values[name] = _structure(section, kind, (name,), problems)
    if "mapping" in data:
        values["mapping"] = _mapping(data["mapping"], base, problems)
    if "sources" in data:
        values["sources"] = _sources(data["sources"], problems)
    if problems:
        raise SettingsError(str(path) if path else "settings", problems)
    return Settings(path=path, **{k: v for k, v in values.items() if v is not None})


def parse_section(
    name: str,
    data: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    base: Path | None = None,
) -> Any:
    """One section of the settings (``"commercetools"``, ``"prima"``, ``"engine"``, ...) from a
    mapping shaped like that table of the file: secrets named by ``*_env`` / ``*_file`` keys are
    read from ``environ`` (default ``os.environ``) or from files relative to ``base``. Raises
    :class:`~ct_prima_sync.errors.SettingsError` listing every problem with its key path."""
    kind = _SECTIONS.get(name)
    if kind is None:
        raise ConfigurationError(
            f"unknown settings section {name!r} (known: {', '.join(sorted(_SECTIONS))})"
        )
    problems: list[Problem] = []
    environ = os.environ if environ is None else environ
    section = _secrets_in(name, data, environ, base or Path(), problems)
    value = _structure(section, kind, (name,), problems)
    if problems:
        raise SettingsError(f"section [{name}]", problems)
    return value


def _sources(section: object, problems: list[Problem]) -> dict[str, SourceSettings] | None:
    if not isinstance(section, Mapping) or not all(
        isinstance(v, Mapping) for v in section.values()
    ):
        problems.append(Problem("[sources]", "expected one [sources.<name>] table per shop"))
        return None
    sources: dict[str, SourceSettings] = {}
    for name, table in section.items():
        source = _structure(table, SourceSettings, ("sources", name), problems)
        if source is not None:
            sources[name] = source
    problems += [Problem(at, message) for at, message in source_problems(sources)]
    return sources


def _structure(value: Any, kind: type[Any], at: KeyPath, problems: list[Problem]) -> Any:
    try:
        return _CONVERTER.structure(value, kind)
    except Exception as exc:
        problems += describe(exc, at, lambda p: keys_at(kind, p[len(at) :]))
        return None


def _secrets_in(
    name: str, section: Any, environ: Mapping[str, str], base: Path, problems: list[Problem]
) -> Any:
    """The table ``[name]`` with every secret it (or a table inside it) names read in."""
    if not isinstance(section, Mapping):
        return section
    values = dict(section)
    for path, secrets in _SECRETS.items():
        if path[0] != name:
            continue
        if len(path) == 1:
            values = _with_secrets(path, values, secrets, environ, base, problems)
        elif isinstance(values.get(path[1]), Mapping):
            values[path[1]] = _with_secrets(path, values[path[1]], secrets, environ, base, problems)
    return values


def _with_secrets(  # noqa: PLR0917 (private helper called from one place)
    at: KeyPath,
    section: Mapping[str, Any],
    secrets: tuple[str, ...],
    environ: Mapping[str, str],
    base: Path,
    problems: list[Problem],
) -> dict[str, Any]:
    values = dict(section)
    for secret in secrets:
        env_key, file_key = f"{secret}_env", f"{secret}_file"
        if secret in values:
            del values[secret]
            problems.append(
                Problem(
                    where((*at, secret)),
                    f"secrets never go in the settings file: name an environment variable "
                    f"with {env_key} (or a file with {file_key}) instead",
                )
            )
            continue
        variable, file = values.pop(env_key, None), values.pop(file_key, None)
        if variable is not None and file is not None:
            problems.append(Problem(where((*at, env_key)), f"give {env_key} or {file_key}"))
        elif variable is not None:
            _read_secret(values, secret, (*at, env_key), variable, environ.get, problems)
        elif file is not None:
            _read_secret(values, secret, (*at, file_key), file, _file_reader(base), problems)
        elif secret in _REQUIRED_SECRETS:
            values[secret] = _UNREAD
            problems.append(
                Problem(
                    where((*at, env_key)),
                    f"required: the environment variable holding the {secret.replace('_', ' ')}"
                    f" (or {file_key}, a file holding it)",
                )
            )
    return values


def _read_secret(  # noqa: PLR0917 (private helper called from one place)
    values: dict[str, Any],
    secret: str,
    at: KeyPath,
    source: object,
    read: Callable[[str], str | None],
    problems: list[Problem],
) -> None:
    if secret in _REQUIRED_SECRETS:  # so that the section's other keys are still checked
        values[secret] = _UNREAD
    if not isinstance(source, str) or not source:
        problems.append(Problem(where(at), "expected the name of an environment variable or file"))
        return
    value = read(source)
    if value is None:
        message = (
            f"the environment variable {source} is not set"
            if str(at[-1]).endswith("_env")
            else f"cannot read the file {source}"
        )
        problems.append(Problem(where(at), message))
        return
    values[secret] = value


def _file_reader(base: Path) -> Callable[[str], str | None]:
    def read(name: str) -> str | None:
        try:
            return (base / name).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None

    return read


def _mapping(section: object, base: Path, problems: list[Problem]) -> MappingConfig | None:
    if not isinstance(section, Mapping):
        problems.append(
            Problem("[mapping]", 'expected a table (file = "mapping.toml" or the settings)')
        )
        return None
    if "file" not in section:
        try:
            return MappingConfig.from_dict(dict(section))
        except ConfigurationError as exc:
            problems.append(Problem("[mapping]", str(exc)))
            return None
    file = section["file"]
    if len(section) > 1:
        problems.append(Problem("[mapping] file", "give either file = ... or the settings inline"))
        return None
    if not isinstance(file, str) or not file:
        problems.append(Problem("[mapping] file", "expected the name of a mapping file"))
        return None
    mapping_path = base / file
    try:
        text = mapping_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        problems.append(Problem("[mapping] file", f"cannot read {mapping_path}: {reason}"))
        return None
    try:
        return MappingConfig.from_toml(text)
    except ConfigurationError as exc:
        problems.append(Problem("[mapping] file", f"mapping file {mapping_path} is invalid: {exc}"))
        return None
