"""Every published example payload of a resource this library reads parses into its model.

The examples live in the shared reference folder beside the repository; a payload is recognised
by its content (a page by ``results``), so a new example cannot be skipped silently: anything
unrecognised must be one of the known non-resource examples (update actions, drafts, order edits).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ct_prima_sync.commercetools import (
    parse_channel,
    parse_customer,
    parse_error_response,
    parse_inventory_entry,
    parse_message,
    parse_order,
    parse_paged,
    unparse,
)

EXAMPLES = Path(__file__).parents[1] / "data" / "commercetools_examples"

# Examples that are not a resource this library parses, and why (update actions are recognised
# by their "action" key).
NOT_RESOURCES = {
    "Common_HighPrecisionMoney.json": "a bare money value (test_models_order reads the same one)",
    "order-edits.example.json": "an OrderEdit, not an Order",
    "order-import.example.json": "an OrderImportDraft (a request body)",
    "order-update.example.json": "an update request body",
    "inventory-update.example.json": "an update request body",
}


def _parser_for(data: dict[str, Any]) -> Callable[[Any], Any] | None:
    if "statusCode" in data:
        return parse_error_response
    if "sequenceNumber" in data and "resource" in data:
        return parse_message
    if "lineItems" in data and "orderState" in data:
        return parse_order
    if "quantityOnStock" in data:
        return parse_inventory_entry
    if "isEmailVerified" in data or "authenticationMode" in data:
        return parse_customer
    if "roles" in data:
        return parse_channel
    return None


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _sample(data: dict[str, Any]) -> dict[str, Any]:
    results = data.get("results")
    return results[0] if isinstance(results, list) and results else data


def _is_resource(path: Path) -> bool:
    data = _load(path)
    return "action" not in data and path.name not in NOT_RESOURCES


def _resource_examples() -> list[Path]:
    return [path for path in sorted(EXAMPLES.glob("*.json")) if _is_resource(path)]


def test_the_examples_are_there() -> None:
    assert len(list(EXAMPLES.glob("*.json"))) == 29


@pytest.mark.parametrize("path", _resource_examples(), ids=lambda p: p.name)
def test_each_resource_example_parses_and_writes_back_unchanged(path: Path) -> None:
    data = _load(path)
    parse = _parser_for(_sample(data))
    assert parse is not None, "unrecognised example: classify it in this test"
    if "results" in data:
        parsed = parse_paged(data, parse)
        assert len(parsed.results) == len(data["results"])
    else:
        parsed = parse(data)
    assert unparse(parsed) == data


def test_every_example_left_out_is_an_action_or_a_known_non_resource() -> None:
    left_out = [p for p in sorted(EXAMPLES.glob("*.json")) if not _is_resource(p)]

    for path in left_out:
        assert "action" in _load(path) or path.name in NOT_RESOURCES
    assert {p.name for p in left_out} >= set(NOT_RESOURCES)


def test_the_walk_found_every_kind_of_resource() -> None:
    found = set()
    for path in _resource_examples():
        parser = _parser_for(_sample(_load(path)))
        if parser is not None:
            found.add(parser.__name__)
    assert found == {
        "parse_channel",
        "parse_customer",
        "parse_error_response",
        "parse_inventory_entry",
        "parse_message",
        "parse_order",
    }
