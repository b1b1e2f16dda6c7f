"""Several shops feeding one Prima: each source has its engine, its commercetools project (or
stores), its Prima company and an order number prefix, over one state store. Overlapping order
numbers never collide."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ct_prima_sync.engine import SyncEngine
from ct_prima_sync.engine._customers import _for_company, _recorded
from ct_prima_sync.errors import ConfigurationError, SettingsError
from ct_prima_sync.settings import load_settings
from ct_prima_sync.state import CustomerMapping, open_store
from ct_prima_sync.testing import FakeCommercetools, PrimaEmulator, PrimaWorld, seed_catalogue
from ct_prima_sync.testing.factories import LineSpec, ShippingSpec, make_order
from ct_prima_sync.testing.scenario import SCENARIO_MAPPING_TOML

from ..cli.conftest import assert_no_traceback, run_cli, to_toml


def _place(ct: FakeCommercetools, project: str, number: str, sku: str) -> None:
    ct.add_order(
        make_order(
            lines=[LineSpec(sku=sku, quantity=1, unit_price=1999, tax_rate="0.19")],
            shipping=ShippingSpec(key="standard", name="Standard", price=495),
            order_number=number,
        ),
        project=project,
    )


def _settings(folder: Path, ct: FakeCommercetools, ct_url: str, prima_url: str) -> Path:
    (folder / "mapping.toml").write_text(SCENARIO_MAPPING_TOML, encoding="utf-8")
    data: dict[str, Any] = {
        "state": {"url": "sqlite:///sync.db"},
        "commercetools": {
            "project_key": ct.project_key,
            "api_url": ct_url,
            "auth_url": ct_url,
            "client_id": ct.client_id,
            "client_secret_env": "CT_SECRET",
        },
        "prima": {"endpoint": f"{prima_url}/live/live"},
        "mapping": {"file": "mapping.toml"},
        "engine": {"initial_cursor": "2026-11-19T00:00:00+00:00"},
        "sources": {
            "de": {"order_number_prefix": "DE-"},
            "uk": {"project_key": "shop-uk", "company_id": "2", "order_number_prefix": "UK-"},
        },
    }
    path = folder / "ct-prima-sync.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    return path


def test_two_shops_with_the_same_order_numbers_both_reach_one_prima(tmp_path: Path) -> None:
    world = PrimaWorld()
    catalogue = seed_catalogue(world, seed=3, products=2, depots=2)
    sku = catalogue.skus[0]
    world.set_stock(sku, catalogue.depots[0].code, 100)
    text = "-".join((sku.product, *sku.matrix))
    ct = FakeCommercetools(other_projects=["shop-uk"])
    for project in (ct.project_key, "shop-uk"):
        ct.add_channel("prima-export", roles=("OrderExport",), project=project)
        for number in ("1001", "1002"):
            _place(ct, project, number, text)
    environ = {"CT_SECRET": ct.client_secret}

    with ct.serve() as ct_url, PrimaEmulator(world).serve() as prima_url:
        path = _settings(tmp_path, ct, ct_url, prima_url)
        with SyncEngine.from_settings(path, shop="de", environ=environ) as de:
            assert de.sync_orders().posted == 2
        with SyncEngine.from_settings(path, shop="uk", environ=environ) as uk:
            assert uk.sync_orders().posted == 2
            assert uk.sync_orders().posted == 0  # each shop's cursor and ledger rows are its own

    numbers = sorted(o.order_number for o in world.orders())
    assert numbers == ["DE-1001", "DE-1002", "UK-1001", "UK-1002"]
    submissions = world.submission_counts()
    assert all(submissions[n] == 1 for n in numbers)
    with open_store(f"sqlite:///{tmp_path / 'sync.db'}") as store:
        assert store.get_order_by_number("UK-1001") is not None
        assert sum(store.count_orders_by_status().values()) == 4


def test_a_source_routes_by_store_and_to_its_prima_company() -> None:
    settings = load_settings(
        {
            "state": {"url": "memory://"},
            "commercetools": {
                "project_key": "shop",
                "region": "europe-west1.gcp",
                "client_id": "id",
                "client_secret_env": "S",
            },
            "prima": {"endpoint": "http://prima:8080/live/live"},
            "mapping": {},
            "sources": {
                "b2c": {"store_keys": ["web"], "order_number_prefix": "W"},
                "b2b": {"store_keys": ["trade"], "company_id": "7", "order_number_prefix": "T"},
            },
        },
        environ={"S": "secret"},
    )

    b2b = settings.for_source("b2b")
    assert b2b.engine.eligibility.store_keys == frozenset({"trade"})
    assert b2b.prima is not None
    assert b2b.prima.company_id == "7"
    assert b2b.mapping is not None
    assert b2b.mapping.prima_order_number("1001") == "T1001"
    assert b2b.engine.cursor_name != settings.for_source("b2c").engine.cursor_name
    assert (b2b.engine.customers.company, settings.for_source("b2c").engine.customers.company) == (
        "7",
        "",
    )
    with pytest.raises(ConfigurationError, match="no source 'b2x'"):
        settings.for_source("b2x")
    with pytest.raises(ConfigurationError, match="one engine per source with shop="):
        SyncEngine.from_settings(settings)


def test_several_sources_need_prefixes_of_their_own() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(
            {
                "state": {"url": "memory://"},
                "sources": {
                    "a": {"order_number_prefix": "X-"},
                    "b": {"order_number_prefix": "X-"},
                    "c": {},
                    "d": {"order_number_prefix": "X"},
                },
            }
        )
    text = str(raised.value)
    assert "[sources.b] order_number_prefix: 'X-' is already the prefix of source 'a'" in text
    assert "[sources.c] order_number_prefix: required" in text
    assert "[sources.d] order_number_prefix: 'X' and the prefix of source 'a' start alike" in text


def test_the_command_runs_one_shop_at_a_time_and_says_which_to_name(tmp_path: Path) -> None:
    world = PrimaWorld()
    catalogue = seed_catalogue(world, seed=3, products=2, depots=2)
    sku = catalogue.skus[0]
    world.set_stock(sku, catalogue.depots[0].code, 100)
    ct = FakeCommercetools(other_projects=["shop-uk"])
    for project in (ct.project_key, "shop-uk"):
        ct.add_channel("prima-export", roles=("OrderExport",), project=project)
        _place(ct, project, "1001", "-".join((sku.product, *sku.matrix)))
    env = {"CT_SECRET": ct.client_secret}

    with ct.serve() as ct_url, PrimaEmulator(world).serve() as prima_url:
        _settings(tmp_path, ct, ct_url, prima_url)
        unnamed = run_cli("run", "orders", cwd=tmp_path, env=env)
        unknown = run_cli("run", "orders", "--shop", "fr", cwd=tmp_path, env=env)
        uk = run_cli("run", "orders", "--shop", "uk", "--format", "json", cwd=tmp_path, env=env)

    for refused in (unnamed, unknown):
        assert_no_traceback(refused.stderr)
        assert refused.returncode == 2
    assert "give --shop NAME" in unnamed.stderr
    assert "no source 'fr'" in unknown.stderr
    assert uk.returncode == 0, uk.stderr
    assert json.loads(uk.stdout)["posted"] == 1
    assert [o.order_number for o in world.orders()] == ["UK-1001"]


def test_a_customer_map_entry_of_one_prima_company_is_never_used_for_another() -> None:
    at = datetime(2026, 11, 21, tzinfo=UTC)
    plain = CustomerMapping(key="k", account_code="C100", updated_at=at)
    of_two = CustomerMapping(key="k", account_code=_recorded("C200", "2"), updated_at=at)

    assert _for_company(plain, "") == "C100"
    assert _for_company(plain, "2") is None  # looked up again in company 2
    assert _for_company(of_two, "2") == "C200"
    assert _for_company(of_two, "") is None
    assert _for_company(of_two, "7") is None
    assert _recorded("C100", "") == "C100"
