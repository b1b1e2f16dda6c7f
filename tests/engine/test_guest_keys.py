"""Guest customers are remembered under a key made with the installation's secret: a stolen
state file cannot be matched against a list of e-mail addresses."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from ct_prima_sync.engine import SyncEngine
from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.state import CUSTOMER_KEY_SECRET_ENV, StateStore, customer_key_for_email
from ct_prima_sync.testing.scenario import SyncScenario

EngineFactory = Callable[..., SyncEngine]


def test_the_engine_refuses_to_start_without_the_installation_secret(
    store: StateStore, make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CUSTOMER_KEY_SECRET_ENV)
    with pytest.raises(ConfigurationError, match=CUSTOMER_KEY_SECRET_ENV):
        make_engine(store)
    with pytest.raises(ConfigurationError, match="at least 16 characters"):
        make_engine(store, customer_key_secret="too-short")


def test_guest_keys_in_the_state_are_keyed_with_the_secret(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    secret = "this installation's own secret"
    make_engine(store, customer_key_secret=secret).sync_orders()

    guests = {
        o["customerEmail"]
        for o in scenario.commercetools.orders()
        if not o.get("customerId") and o["orderNumber"] in scenario.good
    }
    assert guests
    for email in guests:
        assert store.get_customer(customer_key_for_email(email, secret=secret)) is not None
        unkeyed = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        assert store.get_customer(f"email-sha256:{unkeyed}") is None
