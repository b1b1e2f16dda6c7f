"""docs/checkout.md as written: its ``[checkout]`` settings are valid settings, its shopper
messages are the ones the guard sends, and the developer example runs."""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path

from ct_prima_sync.mapping import CheckoutConfig, MappingConfig, validate_checkout
from ct_prima_sync.mapping._checkout import DEFAULT_MESSAGES
from ct_prima_sync.settings import parse_settings

DOC = (Path(__file__).parents[2] / "docs" / "checkout.md").read_text(encoding="utf-8")


def test_the_checkout_settings_in_the_guide_are_valid() -> None:
    (block,) = [b for b in re.findall(r"```toml\n(.*?)```", DOC, re.S) if "[checkout]" in b]
    text = "\n".join(line.removeprefix("   ") for line in block.splitlines())
    data = tomllib.loads(text, parse_float=Decimal)

    settings = parse_settings(
        {"state": {"url": "memory://"}, "mapping": {}, **data}, path=None, environ={}
    )

    assert settings.checkout.url == "https://checkout-guard.example.com/"
    assert settings.checkout.deadline_seconds == 1.7
    assert settings.mapping is not None
    config = settings.checkout.checkout_config(settings.mapping)
    assert config.messages["UNMAPPED_SKU"]["de"].startswith("Dieser Artikel")


def test_the_guide_lists_the_messages_the_guard_sends() -> None:
    for message in DEFAULT_MESSAGES.values():
        assert message in DOC


def test_the_developer_example_runs() -> None:
    verdict = validate_checkout({"id": "c", "cartState": "Active"}, MappingConfig())
    status, body = verdict.to_response()

    assert (verdict.ok, status) == (False, 400)
    assert body["errors"][0]["code"] == "InvalidInput"
    assert CheckoutConfig(mapping=MappingConfig()).mapping_hash == verdict.config_hash
