"""Any input gives a result or issues, never another exception: every field of a rich order is
mutated to each wrong JSON type (and removed), and each mutant maps to a result that the JSON
Schema accepts. Seeded, so a failure names its mutation and replays.

The default run tries every field with one wrong value drawn for it (seeded); the slow run tries
every field with every wrong value (about ten thousand mutants), and a thousand orders with
several fields mutated at once.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from typing import Any, Final

import pytest

from ct_prima_sync.mapping import map_order_json
from ct_prima_sync.testing.factories import random_order

from .result_schema import VALIDATOR
from .rich_order import CONFIG, rich_order

Path = tuple[str | int, ...]
_REMOVE: Final = object()

#: One value of each JSON type, and the edges of the ones the mapping computes with.
WRONG: Final[tuple[object, ...]] = (
    None,
    True,
    0,
    -1,
    2**63,
    -(2**63) - 1,
    1.5,
    "",
    "x" * 300,
    [],
    [None],
    {},
    {"type": []},
    {"centAmount": 1, "currencyCode": "EUR", "fractionDigits": 2},
    _REMOVE,
)


def _paths(value: object, path: Path = ()) -> Iterator[Path]:
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _mutate(order: dict[str, Any], path: Path, value: object) -> None:
    parent: Any = order
    for key in path[:-1]:
        parent = parent[key]
    if value is _REMOVE:
        if isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    else:
        parent[path[-1]] = copy.deepcopy(value)


def _assert_maps_to_a_valid_result(order: dict[str, Any], what: str) -> None:
    try:
        result = map_order_json(order, CONFIG)
    except Exception as exc:  # the property under test: nothing else may escape
        pytest.fail(f"{what}: {type(exc).__name__}: {exc}")
    data = json.loads(result.to_json())
    errors = [e.message for e in VALIDATOR.iter_errors(data)]
    assert not errors, f"{what}: {errors[:3]}"


BASE: Final = rich_order()
PATHS: Final = list(_paths(BASE))
# A fresh copy per mutant from the order's JSON text: a fifth of what copy.deepcopy costs (the
# copies were about a third of the slow run's time).
_BASE_TEXT: Final = json.dumps(BASE)


def _fresh_base() -> dict[str, Any]:
    order: dict[str, Any] = json.loads(_BASE_TEXT)
    return order


def test_the_rich_order_maps_cleanly() -> None:
    assert map_order_json(BASE, CONFIG).ok
    assert len(PATHS) > 400


def test_every_field_mutated_to_wrong_types_gives_a_result_never_an_exception() -> None:
    rng = random.Random(10)
    for path in PATHS:
        for value in rng.sample(WRONG, 1):
            order = _fresh_base()
            _mutate(order, path, value)
            _assert_maps_to_a_valid_result(order, f"{path} = {value!r}")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_every_field_mutated_to_every_wrong_type_gives_a_result_never_an_exception() -> None:
    # About ten thousand mutants of the rich order.
    for path in PATHS:
        for value in WRONG:
            order = _fresh_base()
            _mutate(order, path, value)
            _assert_maps_to_a_valid_result(order, f"{path} = {value!r}")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_random_orders_with_several_fields_mutated_at_once_give_results() -> None:
    rng = random.Random(2026)
    for round_ in range(1_000):
        order = random_order(round_) if round_ % 2 else _fresh_base()
        for _ in range(rng.randint(1, 4)):
            paths = list(_paths(order))
            if not paths:
                break
            path = rng.choice(paths)
            _mutate(order, path, rng.choice(WRONG))
        _assert_maps_to_a_valid_result(order, f"round {round_}")
