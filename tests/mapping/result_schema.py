"""The JSON Schema of ``map_order_json`` results (docs/schemas/mapping-result.schema.json), for the
tests that validate every output they produce against it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from ct_prima_sync.mapping import MappingResult

SCHEMA_PATH = Path(__file__).parents[2] / "docs" / "schemas" / "mapping-result.schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
Draft202012Validator.check_schema(SCHEMA)
VALIDATOR = Draft202012Validator(SCHEMA)


def assert_valid(result: MappingResult) -> dict[str, Any]:
    """Validate the result's JSON form (through a JSON round trip) and return it."""
    data: dict[str, Any] = json.loads(result.to_json())
    errors = sorted(VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    return data
