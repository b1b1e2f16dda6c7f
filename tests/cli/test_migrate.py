"""``ct-prima-sync migrate``, run as a real process: it brings a state store up to date, and after
a backup is restored ``--verify-against-prima`` makes sure nothing Prima has is sent again."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ct_prima_sync.state import (
    CUSTOMER_KEY_SECRET_ENV,
    customer_key_for_email,
    open_store,
)
from ct_prima_sync.testing import PrimaEmulator, PrimaRequestKind
from ct_prima_sync.testing.scenario import build_scenario

from .conftest import assert_no_traceback, run_cli, run_in_process, write_settings


def _copy(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def test_after_a_restore_migrate_verifies_against_prima_and_the_next_run_sends_nothing_twice(
    tmp_path: Path,
) -> None:
    scenario = build_scenario(orders=30, bad_every=10, seed=6)
    emulator = PrimaEmulator(scenario.world)
    live, backup = tmp_path / "sync.db", tmp_path / "backup.db"
    with scenario.commercetools.serve() as ct_url, emulator.serve() as prima_url:
        settings = write_settings(tmp_path, scenario, ct_url=ct_url, prima_url=prima_url)
        config = str(settings)
        assert run_in_process("run", "orders", "--config", config, "--max-orders", "10")[0] == 0
        _copy(live, backup)
        assert run_in_process("run", "orders", "--config", config)[0] == 0
        submissions = scenario.world.submission_counts()
        assert all(submissions[n] == 1 for n in scenario.good)
        _copy(backup, live)  # restore the older backup

        done = run_cli("migrate", "--config", config, "--verify-against-prima", "--format", "json")
        assert done.returncode == 0, done.stderr
        assert_no_traceback(done.stderr)
        report = json.loads(done.stdout)
        submits = len(scenario.world.requests(PrimaRequestKind.SUBMIT_ORDERS))
        code, _, err = run_in_process("run", "orders", "--config", config)

    assert code == 0, err
    assert report["verify"]["in_prima"] > 0
    assert report["schema_from"] == report["schema_to"]
    resent = scenario.world.requests(PrimaRequestKind.SUBMIT_ORDERS)[submits:]
    assert {key for r in resent for key in r.keys} <= set(scenario.bad), "Prima's orders resent"
    submissions = scenario.world.submission_counts()
    assert all(submissions[n] == 1 for n in scenario.good)


def test_migrate_rewrites_old_guest_keys_with_the_installation_secret(tmp_path: Path) -> None:
    state = f"sqlite:///{tmp_path / 'sync.db'}"
    digest = hashlib.sha256(b"ann@example.com").hexdigest()
    with open_store(state) as store:
        store.put_customer(f"email-sha256:{digest}", "C1", now=datetime.now(UTC))
    secret = "the installation secret"

    done = run_cli("migrate", "--state", state, env={CUSTOMER_KEY_SECRET_ENV: secret})

    assert done.returncode == 0, done.stderr
    assert "rewritten with the installation secret: 1" in done.stdout
    with open_store(state) as store:
        mapping = store.get_customer(customer_key_for_email("ann@example.com", secret=secret))
        assert mapping is not None
        assert mapping.account_code == "C1"
        assert store.get_customer(f"email-sha256:{digest}") is None


def test_migrate_without_the_secret_names_the_variable_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = f"sqlite:///{tmp_path / 'sync.db'}"
    open_store(state).close()
    monkeypatch.delenv(CUSTOMER_KEY_SECRET_ENV)

    done = run_cli("migrate", "--state", state)

    assert done.returncode == 2
    assert CUSTOMER_KEY_SECRET_ENV in done.stderr
    assert_no_traceback(done.stderr)


def test_verifying_needs_the_settings_file_not_just_the_state(tmp_path: Path) -> None:
    state = f"sqlite:///{tmp_path / 'sync.db'}"
    open_store(state).close()
    code, _, err = run_in_process("migrate", "--state", state, "--verify-against-prima")
    assert code == 2
    assert "--config" in err
