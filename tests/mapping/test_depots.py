"""The depot map: channels and stores to Prima warehouses, and depots back to supply channels."""

from __future__ import annotations

import pytest
from attrs import frozen

from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.mapping._depots import NO_CHANNEL, DepotMap


@frozen
class Ref:
    id: str | None = None
    key: str | None = None


DEPOTS = DepotMap.from_dict(
    {
        "default": "WH1",
        "supply_channels": {"eu-warehouse": "WH1", "uk-warehouse": "WH2", "c-123": "WH3"},
        "distribution_channels": {"outlet": "WH3"},
        "stores": {"uk-store": "WH2"},
    }
)


def test_the_supply_channel_decides_by_key_or_by_id() -> None:
    assert DEPOTS.depot_for(supply_channel=Ref(id="x", key="uk-warehouse")) == "WH2"
    assert DEPOTS.depot_for(supply_channel=Ref(id="c-123")) == "WH3"


def test_an_unlisted_supply_channel_gives_no_depot_rather_than_a_guess() -> None:
    assert DEPOTS.depot_for(supply_channel=Ref(key="somewhere"), store_key="uk-store") is None


def test_distribution_channel_then_store_then_default() -> None:
    assert DEPOTS.depot_for(distribution_channel=Ref(key="outlet"), store_key="uk-store") == "WH3"
    assert DEPOTS.depot_for(distribution_channel=Ref(key="web"), store_key="uk-store") == "WH2"
    assert DEPOTS.depot_for(store_key="de-store") == "WH1"


def test_without_a_default_an_unmatched_line_has_no_depot() -> None:
    assert DepotMap(stores={"uk": "WH2"}).depot_for(store_key="de") is None


def test_valid_depots_default_to_every_depot_named() -> None:
    assert DEPOTS.valid == {"WH1", "WH2", "WH3"}
    assert DEPOTS.is_valid("WH2")
    assert not DEPOTS.is_valid("WH9")


def test_stock_goes_back_to_the_supply_channel_of_each_depot() -> None:
    assert DEPOTS.channel_for("WH2") == "uk-warehouse"
    assert DEPOTS.depot_for_channel("c-123") == "WH3"
    assert DEPOTS.channel_for("WH9") is None


def test_stock_channels_can_name_entries_without_a_supply_channel() -> None:
    depots = DepotMap.from_dict({"default": "WH1", "stock_channels": {"WH1": ""}})
    assert depots.channel_for("WH1") == NO_CHANNEL
    assert depots.depot_for_channel(NO_CHANNEL) == "WH1"


def test_a_depot_with_two_supply_channels_needs_stock_channels() -> None:
    with pytest.raises(ConfigurationError, match=r"depots\.stock_channels: depot WH1"):
        DepotMap.from_dict({"supply_channels": {"a": "WH1", "b": "WH1"}})
    depots = DepotMap.from_dict(
        {"supply_channels": {"a": "WH1", "b": "WH1"}, "stock_channels": {"WH1": "b"}}
    )
    assert depots.channel_for("WH1") == "b"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"default": "WH9", "valid": ["WH1"]}, r"WH9 mapped but not in depots\.valid"),
        ({"stores": {"uk": 3}}, r"depots\.stores\.uk: expected a non-empty string"),
        ({"stock_channels": {"WH1": 3}}, r"depots\.stock_channels\.WH1: expected a channel"),
        ({"stock_channels": {"WH1": "a", "WH2": "a"}}, r"channel a receives the stock of both"),
        ({"defaults": "WH1"}, r"depots\.defaults: unknown setting"),
        ("WH1", r"depots: expected a table"),
    ],
)
def test_bad_configuration_names_the_setting(data: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        DepotMap.from_dict(data)
