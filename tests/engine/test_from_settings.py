"""A host builds an engine from the settings file in one call, or from settings it holds as
data, and schedules on many workers with ``try_lock``."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ct_prima_sync.commercetools import CommercetoolsConfig
from ct_prima_sync.engine import EngineConfig, FakeClock, SyncEngine
from ct_prima_sync.errors import ConfigurationError, SettingsError
from ct_prima_sync.prima import OmlinkConfig
from ct_prima_sync.settings import load_settings
from ct_prima_sync.state import CUSTOMER_KEY_SECRET_ENV, open_store
from ct_prima_sync.testing import FakePrima, PrimaEmulator
from ct_prima_sync.testing.scenario import (
    SCENARIO_MAPPING_TOML,
    build_scenario,
    connect_commercetools,
)

from ..cli.conftest import write_settings


def test_an_engine_from_the_settings_file_syncs_and_closes_what_it_opened(tmp_path: Path) -> None:
    scenario = build_scenario(orders=6, bad_every=0, seed=11)
    emulator = PrimaEmulator(scenario.world)
    with scenario.commercetools.serve() as ct_url, emulator.serve() as prima_url:
        path = write_settings(tmp_path, scenario, ct_url=ct_url, prima_url=prima_url)

        with SyncEngine.from_settings(path) as engine:
            summary = engine.sync_orders()

    assert summary.posted == 6
    assert sorted(o.order_number for o in scenario.world.orders()) == sorted(scenario.good)
    with open_store(f"sqlite:///{tmp_path / 'sync.db'}") as store:  # the file of [state]
        assert store.count_orders_by_status()


def test_an_engine_from_settings_held_as_data_reads_secrets_from_the_given_environment(
    tmp_path: Path,
) -> None:
    scenario = build_scenario(orders=2, bad_every=0, seed=12)
    ct = scenario.commercetools
    emulator = PrimaEmulator(scenario.world)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(SCENARIO_MAPPING_TOML, encoding="utf-8")
    with ct.serve() as ct_url, emulator.serve() as prima_url:
        settings = {
            "state": {"url": "memory://"},
            "commercetools": {
                "project_key": ct.project_key,
                "api_url": ct_url,
                "auth_url": ct_url,
                "client_id": ct.client_id,
                "client_secret_env": "SHOP_SECRET",
            },
            "prima": {"endpoint": prima_url},
            "mapping": {"file": str(mapping)},
            "engine": {"initial_cursor": "2026-01-01T00:00:00+00:00"},
        }
        environ = {
            "SHOP_SECRET": ct.client_secret,
            CUSTOMER_KEY_SECRET_ENV: (secret := "host-installation-secret"),
        }
        with SyncEngine.from_settings(settings, environ=environ) as engine:
            assert engine.config.customer_key_secret == secret
            assert engine.sync_orders().posted == 2


def test_settings_an_engine_cannot_run_on_are_refused_with_every_problem_named() -> None:
    with pytest.raises(SettingsError) as raised:
        SyncEngine.from_settings({"state": {"url": 5}, "prima": {"endpoint": 3, "color": 1}})
    text = str(raised.value)
    assert "[state] url" in text
    assert "[prima]" in text
    with pytest.raises(ConfigurationError, match=r"needs \[commercetools\] and \[prima\]"):
        SyncEngine.from_settings({"state": {"url": "memory://"}, "mapping": {}})


def test_the_settings_loader_takes_a_path_or_a_mapping() -> None:
    assert load_settings({"state": {"url": "memory://"}}).state_url == "memory://"
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_settings(os.path.join("no", "such.toml"))


def test_client_configs_are_built_from_the_settings_tables() -> None:
    ct = CommercetoolsConfig.from_mapping(
        {
            "project_key": "shop",
            "region": "europe-west1.gcp",
            "client_id": "id",
            "client_secret_env": "S",
        },
        environ={"S": "top-secret"},
    )
    assert ct.project_key == "shop"
    assert "top-secret" not in repr(ct)
    prima = OmlinkConfig.from_mapping(
        {"endpoint": "http://prima:8080/live/live", "company_id": "2"}
    )
    assert prima.company_id == "2"
    with pytest.raises(SettingsError, match=r"\[commercetools\] client_secret_env"):
        CommercetoolsConfig.from_mapping(
            {"project_key": "shop", "region": "europe-west1.gcp", "client_id": "id"}, environ={}
        )
    with pytest.raises(SettingsError, match=r"\[prima\] rate_limit"):
        OmlinkConfig.from_mapping({"endpoint": "http://p/x/x", "rate_limit": "fast"})


def _engine(store_url: str, worker: str, clock: FakeClock) -> SyncEngine:
    scenario = build_scenario(orders=0, seed=1)
    return SyncEngine(
        commercetools=connect_commercetools(scenario.commercetools),
        prima=FakePrima(scenario.world),
        store=open_store(store_url),
        mapping=scenario.mapping,
        config=EngineConfig(worker_id=worker),
        clock=clock,
    )


def test_only_one_holder_at_a_time_gets_the_lock_even_with_the_same_worker_id(
    tmp_path: Path,
) -> None:
    clock = FakeClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    one, two = _engine(url, "worker-1", clock), _engine(url, "worker-1", clock)

    with one.try_lock("poll", ttl_seconds=60) as held:
        assert held is not None
        assert held.held
        with two.try_lock("poll", ttl_seconds=60) as other:
            assert other is None
    with two.try_lock("poll", ttl_seconds=60) as after:
        assert after is not None


def test_a_held_lock_is_renewed_while_the_block_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    clock = FakeClock(start)
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    one, two = _engine(url, "a", clock), _engine(url, "b", clock)
    renewed = threading.Event()
    renewed_later = threading.Event()

    with one.try_lock("poll", ttl_seconds=0.3) as held:  # renewed every 0.1 s of real time
        assert held is not None
        renew = held.renew

        def renew_and_note() -> None:
            at = clock.now()
            renew()
            if at >= start + timedelta(seconds=0.2):
                renewed_later.set()

        monkeypatch.setattr(held, "renew", renew_and_note)
        clock.advance(0.2)
        # Wait for a renewal at the fake clock's new time (however busy the machine is).
        assert renewed_later.wait(timeout=30)
        clock.advance(0.2)  # 0.4 s after the first take: only a renewal keeps it
        with two.try_lock("poll", ttl_seconds=0.3) as other:
            renewed.set()
            assert other is None
    assert renewed.is_set()
