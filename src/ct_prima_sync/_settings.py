"""One settings file for the ``run`` and queue commands: where state lives and how to reach both
systems. Secrets are never written in the file: it names the environment variables that hold them.

```toml
[state]
url = "sqlite:///sync.db"            # or "postgresql://sync@db/sync" for many workers

[commercetools]
project_key = "my-shop"
region = "europe-west1.gcp"          # or api_url + auth_url
client_id = "..."
client_secret_env = "CTP_CLIENT_SECRET"
scopes = ["manage_orders:my-shop", "view_channels:my-shop"]   # add "view_payments:my-shop"
                                     # when mapping.toml reads payments ([payments] read_payments)

[prima]
endpoint = "http://prima:8080/live/live"
rate_limit = 5.0
password_env = "PRIMA_PASSWORD"      # with username = "...", if the gateway needs basic auth

[mapping]
file = "mapping.toml"                # relative to this file

[engine]                             # see EngineConfig; every key optional
concurrency = 4
```
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from attrs import frozen

from .commercetools import CommercetoolsConfig
from .engine import EngineConfig
from .errors import ConfigurationError
from .mapping import MappingConfig
from .prima import OmlinkConfig

__all__ = ["SyncSettings", "load_settings"]

_SECTIONS = {"state", "commercetools", "prima", "mapping", "engine"}
_CT_KEYS = {"project_key", "region", "api_url", "auth_url", "client_id", "scopes"}
_CT_SECRETS = {"client_secret": "client_secret_env"}
_PRIMA_KEYS = {
    "endpoint", "company_id", "encoding", "connect_timeout", "read_timeout", "username",
    "header_name", "rate_limit", "burst", "max_concurrency", "max_wait", "ats_chunk_size",
    "ats_per_depot", "unknown_order_error",
}  # fmt: skip
_PRIMA_SECRETS = {"password": "password_env", "header_value": "header_value_env"}


@frozen(kw_only=True)
class SyncSettings:
    """Everything ``ct-prima-sync run`` needs; the system sections are None when absent."""

    state_url: str
    engine: EngineConfig
    commercetools: CommercetoolsConfig | None = None
    prima: OmlinkConfig | None = None
    mapping: MappingConfig | None = None


def _section(data: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigurationError(f"[{name}] must be a table")
    return dict(value)


def _with_secrets(
    section: dict[str, Any],
    name: str,
    plain: set[str],
    secrets: Mapping[str, str],
    environ: Mapping[str, str],
) -> dict[str, Any]:
    unknown = set(section) - plain - set(secrets.values())
    if unknown & set(secrets):
        raise ConfigurationError(
            f"[{name}] holds a secret in the file: name an environment variable with "
            f"{', '.join(secrets[k] for k in sorted(unknown & set(secrets)))} instead"
        )
    if unknown:
        raise ConfigurationError(f"[{name}] has unknown settings {sorted(unknown)}")
    values = {k: v for k, v in section.items() if k in plain}
    for field_name, env_key in secrets.items():
        variable = section.get(env_key)
        if variable is None:
            continue
        if variable not in environ:
            raise ConfigurationError(
                f"[{name}] {env_key}: the environment variable {variable} is not set"
            )
        values[field_name] = environ[variable]
    return values


def load_settings(path: Path, environ: Mapping[str, str]) -> SyncSettings:
    """Read and validate a settings file; errors name the section and setting to fix."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        raise ConfigurationError(f"cannot read settings {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"settings {path} are not valid TOML: {exc}") from None
    unknown = set(data) - _SECTIONS
    if unknown:
        raise ConfigurationError(f"settings {path}: unknown sections {sorted(unknown)}")
    state = _section(data, "state") or {}
    url = state.get("url")
    if not isinstance(url, str) or not url:
        raise ConfigurationError("[state] url is required (e.g. 'sqlite:///sync.db')")

    commercetools = None
    if (ct := _section(data, "commercetools")) is not None:
        values = _with_secrets(ct, "commercetools", _CT_KEYS, _CT_SECRETS, environ)
        if "scopes" in values:
            values["scopes"] = tuple(values["scopes"])
        commercetools = _build(CommercetoolsConfig, values, "commercetools")

    prima = None
    if (section := _section(data, "prima")) is not None:
        values = _with_secrets(section, "prima", _PRIMA_KEYS, _PRIMA_SECRETS, environ)
        for key in ("rate_limit", "connect_timeout", "read_timeout", "max_wait"):
            if key in values:
                values[key] = float(values[key])
        prima = _build(OmlinkConfig, values, "prima")

    mapping = None
    if (section := _section(data, "mapping")) is not None:
        file = section.pop("file", None)
        if file is not None:
            if section:
                raise ConfigurationError("[mapping] give either file = ... or the settings")
            mapping_path = path.parent / str(file)
            try:
                mapping = MappingConfig.from_toml(mapping_path.read_text(encoding="utf-8"))
            except OSError as exc:
                raise ConfigurationError(
                    f"[mapping] file: cannot read {mapping_path}: {exc.strerror or exc}"
                ) from None
        else:
            mapping = MappingConfig.from_dict(section)

    engine_values = _floats(_section(data, "engine") or {})
    if isinstance(engine_values.get("initial_cursor"), str):
        try:
            engine_values["initial_cursor"] = datetime.fromisoformat(
                engine_values["initial_cursor"]
            )
        except ValueError:
            raise ConfigurationError(
                "[engine] initial_cursor must be an ISO 8601 time with an offset"
            ) from None
    engine = EngineConfig.from_dict(engine_values)
    return SyncSettings(
        state_url=url, engine=engine, commercetools=commercetools, prima=prima, mapping=mapping
    )


def _floats(values: dict[str, Any]) -> dict[str, Any]:
    """Durations and rates are plain numbers; TOML decimals arrive as Decimal."""
    return {
        k: _floats(v) if isinstance(v, dict) else float(v) if isinstance(v, Decimal) else v
        for k, v in values.items()
    }


def _build(kind: type[Any], values: dict[str, Any], name: str) -> Any:
    try:
        return kind(**values)
    except TypeError as exc:
        raise ConfigurationError(f"[{name}] {exc}") from None
