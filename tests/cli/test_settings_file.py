"""The settings file: every wrong type, unknown key and bad value is one sentence naming the file
and the key path, with exit code 2; the documented example loads; the file is found the
documented way."""

from __future__ import annotations

import copy
import enum
import re
import typing
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from ct_prima_sync.commercetools import CommercetoolsConfig
from ct_prima_sync.engine import (
    AlertRoutes,
    EngineConfig,
    GoLiveConfig,
    HealthPolicy,
    RetentionPolicy,
)
from ct_prima_sync.errors import ConfigurationError, SettingsError
from ct_prima_sync.prima import OmlinkConfig
from ct_prima_sync.settings import MetricsSettings, StateSettings, find_settings, load_settings

from .conftest import assert_no_traceback, run_cli, run_in_process, to_toml

DOCS = Path(__file__).parents[2] / "docs"
EXAMPLE = DOCS / "examples" / "ct-prima-sync.toml"
SECRETS = {
    ("commercetools",): ("client_secret",),
    ("prima",): ("password", "header_value"),
    ("engine",): ("customer_key_secret",),
    ("alerts", "smtp"): ("password",),
    ("alerts", "finance"): ("webhook_url",),
    ("alerts", "operations"): ("webhook_url",),
    ("alerts", "ecommerce"): ("webhook_url",),
}
SECTIONS: dict[str, type[Any]] = {
    "state": StateSettings,
    "commercetools": CommercetoolsConfig,
    "prima": OmlinkConfig,
    "engine": EngineConfig,
    "health": HealthPolicy,
    "metrics": MetricsSettings,
    "alerts": AlertRoutes,
    "golive": GoLiveConfig,
    "retention": RetentionPolicy,
}


def base_settings() -> dict[str, Any]:
    """A valid settings file as a dict: every section, the least it needs."""
    return {
        "state": {"url": "sqlite:///sync.db"},
        "commercetools": {
            "project_key": "my-shop",
            "client_id": "client",
            "client_secret_env": "TEST_CT_SECRET",
            "region": "europe-west1.gcp",
        },
        "prima": {"endpoint": "http://prima.example:8080/live/live"},
        "mapping": {"file": "mapping.toml"},
        "engine": {"concurrency": 2},
        "alerts": {
            "smtp": {"host": "smtp.test", "sender": "sync@shop.test", "password_env": "TEST_HOOK"},
            "finance": {"email": ["finance@shop.test"], "webhook_url_env": "TEST_HOOK"},
            "operations": {"webhook_url_env": "TEST_HOOK"},
            "ecommerce": {"log": True},
        },
        "retention": {"days": 30},
    }


def _unwrap(kind: Any) -> Any:
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    return args[0] if type(None) in typing.get_args(kind) and len(args) == 1 else kind


def _wrong(kind: Any) -> Any:
    """A TOML value of the wrong type for a setting of type ``kind``."""
    kind = _unwrap(kind)
    origin = typing.get_origin(kind)
    if kind is str or (isinstance(kind, type) and issubclass(kind, enum.Enum)):
        return 5
    if kind is bool:
        return "yes"
    if kind is int:
        return "five"
    if kind is float:
        return "fast"
    if kind is datetime:
        return 5
    if origin in (tuple, frozenset, set, list):
        return "not an array"
    return 5  # tables (nested settings, mappings)


def leaf_keys(kind: type[Any], path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every key a section takes, nested tables included, as (path, wrong value)."""
    for field in attrs.fields(attrs.resolve_types(kind)):
        name = field.name
        if name in SECRETS.get(path, ()):
            yield (*path, f"{name}_env"), 5
            yield (*path, f"{name}_file"), 5
            continue
        inner = _unwrap(field.type)
        if attrs.has(inner):
            yield (*path, name), 5
            yield from leaf_keys(inner, (*path, name))
        else:
            yield (*path, name), _wrong(field.type)


ALL_KEYS = [(path, value) for section, kind in SECTIONS.items() for path, value in
            leaf_keys(kind, (section,))] + [(("mapping", "file"), 5)]  # fmt: skip


def _where(path: tuple[str, ...]) -> str:
    return f"[{'.'.join(path[:-1])}] {path[-1]}"


def _with(data: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    table = data
    for part in path[:-1]:
        table = table.setdefault(part, {})
    table[path[-1]] = value
    if path[-1].endswith("_file") and path[-1].removesuffix("_file") + "_env" in table:
        del table[path[-1].removesuffix("_file") + "_env"]
    return data


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "mapping.toml").write_text(
        (DOCS / "examples" / "mapping.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    monkeypatch.setenv("TEST_CT_SECRET", "s3cret-value")
    monkeypatch.setenv("TEST_HOOK", "https://hooks.test/s3cret-value")
    return tmp_path


def test_the_base_settings_of_these_tests_are_valid(folder: Path) -> None:
    path = folder / "sync.toml"
    path.write_text(to_toml(base_settings()), encoding="utf-8")
    settings = load_settings(path)
    assert settings.engine.concurrency == 2


@pytest.mark.parametrize(("path", "value"), ALL_KEYS, ids=[_where(p) for p, _ in ALL_KEYS])
def test_every_setting_of_the_wrong_type_is_one_line_naming_file_and_key(
    folder: Path, path: tuple[str, ...], value: Any
) -> None:
    settings = folder / "sync.toml"
    settings.write_text(to_toml(_with(base_settings(), path, value)), encoding="utf-8")
    code, out, err = run_in_process("health", "--config", str(settings))
    assert code == 2, err
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"ct-prima-sync: error: settings {settings}: {_where(path)}: "), line
    assert "expected" in line
    assert "s3cret-value" not in err


def test_every_problem_of_a_file_is_reported_at_once_by_the_real_command(folder: Path) -> None:
    chosen = [
        (("prima", "rate_limit"), "fast"),
        (("prima", "endpoint"), 5),
        (("engine", "retry"), 5),
        (("state", "busy_timeout"), True),
        (("commercetools", "scopes"), "manage_orders"),
        (("engine", "eligibility", "order_states"), ["Open", 3]),
        (("prima", "bogus"), 1),
    ]
    data = base_settings()
    for path, value in chosen:
        data = _with(data, path, value)
    settings = folder / "sync.toml"
    settings.write_text(to_toml(data), encoding="utf-8")
    result = run_cli("run", "--config", str(settings), env={"TEST_CT_SECRET": "x"})
    assert result.returncode == 2
    assert_no_traceback(result.stderr)
    lines = result.stderr.splitlines()
    assert lines[0] == f"ct-prima-sync: error: settings {settings} have 7 problems:"
    for expected in (
        '[prima] rate_limit: expected a number, got the string "fast"',
        "[prima] endpoint: expected a string, got the number 5",
        "[engine] retry: expected a table, got the number 5",
        "[state] busy_timeout: expected a number, got true",
        "[commercetools] scopes: expected an array",
        "[engine.eligibility] order_states[1]: expected a string, got the number 3",
        "[prima] bogus: unknown key (known keys: ats_chunk_size,",
    ):
        assert any(line.strip().startswith(expected) for line in lines[1:]), expected


#: One key of every table, for the real-process version (a process per key of the ~100 costs
#: minutes on a small machine; the in-process test above covers every key through the same code).
ONE_PER_TABLE = list({p[:-1]: (p, v) for p, v in ALL_KEYS}.values())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "value"), ONE_PER_TABLE, ids=[_where(p) for p, _ in ONE_PER_TABLE]
)
def test_a_wrong_setting_of_every_table_in_a_real_process_is_one_line_and_exit_2(
    folder: Path, path: tuple[str, ...], value: Any
) -> None:
    settings = folder / "sync.toml"
    settings.write_text(to_toml(_with(base_settings(), path, value)), encoding="utf-8")
    result = run_cli("run", "--config", str(settings), env={"TEST_CT_SECRET": "x"})
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert f"settings {settings}: {_where(path)}: expected" in line


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"prima": {"endpoint": "http://p", "rate_limit": -1}},
            "[prima] rate_limit: must be positive",
        ),
        ({"engine": {"concurrency": 0}}, "[engine] concurrency: must be positive"),
        ({"prima": {"endpoint": "ftp://p"}}, "[prima] endpoint: must be an http:// or https://"),
        (
            {"prima": {"endpoint": "http://p", "encoding": "latin-9"}},
            '[prima] encoding: expected one of "ISO-8859-1", "UTF-8"',
        ),
        ({"engine": {"initial_cursor": "yesterday"}}, "[engine] initial_cursor: expected an ISO"),
        (
            {"engine": {"initial_cursor": "2026-01-01T00:00:00"}},
            "[engine] initial_cursor: expected an",
        ),
        (
            {"commercetools": {"client_secret": "hunter2"}},
            "[commercetools] client_secret: secrets never",
        ),
        (
            {"commercetools": {"client_secret_env": "NO_SUCH_VARIABLE_X"}},
            "[commercetools] client_secret_env: the environment variable NO_SUCH_VARIABLE_X "
            "is not set",
        ),
        (
            {"prima": {"endpoint": "http://p", "password_file": "nope.secret", "username": "u"}},
            "[prima] password_file: cannot read the file nope.secret",
        ),
        (
            {"engine": {"submission_flow": {"max_rate": -2}}},
            "[engine.submission_flow] max_rate: must be positive",
        ),
        (
            {"engine": {"submission_flow": {"min_rate": 9, "max_rate": 2}}},
            "[engine.submission_flow] min_rate: must not exceed max_rate",
        ),
        ({"stock": {"buffer": 1}}, "unknown section [stock]"),
        ({"mapping": {"file": "missing.toml"}}, "[mapping] file: cannot read"),
    ],
)
def test_bad_values_name_the_key_and_what_is_expected(
    folder: Path, change: dict[str, Any], message: str
) -> None:
    data = base_settings()
    for section, values in change.items():
        data[section] = {**data.get(section, {}), **values}
    if "client_secret" in change.get("commercetools", {}):
        del data["commercetools"]["client_secret_env"]
    settings = folder / "sync.toml"
    settings.write_text(to_toml(data), encoding="utf-8")
    code, _, err = run_in_process("health", "--config", str(settings))
    assert code == 2
    assert message in err
    assert "hunter2" not in err


def test_a_broken_mapping_file_is_named_as_the_one_at_fault(folder: Path) -> None:
    (folder / "mapping.toml").write_text('[depots]\ndefault = "WH9"\nvalid = ["WH1"]\n')
    settings = folder / "sync.toml"
    settings.write_text(to_toml(base_settings()), encoding="utf-8")
    code, _, err = run_in_process("health", "--config", str(settings))
    assert code == 2
    assert f"mapping file {folder / 'mapping.toml'} is invalid: depots" in err


def test_the_documented_example_is_complete_and_loads() -> None:
    settings = load_settings(EXAMPLE, {"CTP_CLIENT_SECRET": "x"})
    assert settings.prima is not None
    assert settings.commercetools is not None
    assert settings.mapping is not None
    text = EXAMPLE.read_text(encoding="utf-8")
    tables: set[str] = set()
    for path, _ in ALL_KEYS:
        tables.add(".".join(path[:-1]))
        key = path[-1]
        if f"[{'.'.join(path)}]" in text:  # a nested table, checked below
            continue
        assert re.search(rf"^#? ?{re.escape(key)} = |\b{re.escape(key)} = ", text, re.M), key
    for table in tables:
        assert f"[{table}]" in text, table


def test_the_settings_are_found_by_flag_then_environment_then_working_directory(
    tmp_path: Path,
) -> None:
    assert find_settings("a.toml", {"CT_PRIMA_SYNC_CONFIG": "b.toml"}, tmp_path) == Path("a.toml")
    assert find_settings(None, {"CT_PRIMA_SYNC_CONFIG": "b.toml"}, tmp_path) == Path("b.toml")
    with pytest.raises(ConfigurationError, match="no settings file: give --config"):
        find_settings(None, {}, tmp_path)
    (tmp_path / "ct-prima-sync.toml").write_text("")
    assert find_settings(None, {}, tmp_path) == Path("ct-prima-sync.toml")


def test_a_relative_sqlite_path_is_relative_to_the_settings_file(folder: Path) -> None:
    settings = folder / "sync.toml"
    settings.write_text('[state]\nurl = "sqlite:///state/sync.db"\n', encoding="utf-8")
    assert load_settings(settings).state_url == f"sqlite:///{folder / 'state' / 'sync.db'}"


def test_settings_errors_carry_every_problem_for_hosts(folder: Path) -> None:
    settings = folder / "sync.toml"
    settings.write_text("[state]\nurl = 1\n[prima]\nendpoint = 2\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(settings)
    assert caught.value.file == str(settings)
    assert [str(p).split(":")[0] for p in caught.value.problems] == [
        "[state] url",
        "[prima] endpoint",
    ]
