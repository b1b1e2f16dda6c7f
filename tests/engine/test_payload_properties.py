"""Properties of the pure parts behind handle_message and several shops: any JSON object a
host hands over is read as an order or ignored with a reason (never an AttributeError), and
prefixes the settings accept never let two shops' order numbers meet."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from ct_prima_sync.engine._payloads import IgnoredPayload, OrderPayload, read_payload
from ct_prima_sync.settings import SourceSettings
from ct_prima_sync.settings._sources import source_problems

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
KEYS = st.sampled_from(
    ["notificationType", "resource", "typeId", "id", "order", "specversion", "data", "type"]
)
PAYLOADS = st.recursive(
    st.dictionaries(KEYS | st.text(max_size=5), JSON, max_size=5),
    lambda inner: st.dictionaries(KEYS, inner | JSON, max_size=5),
    max_leaves=10,
)


@given(PAYLOADS)
@example({"resource": {"typeId": "order", "id": "o-1"}})
@example({"specversion": "1.0", "data": {"resource": {"typeId": "order", "id": "o-1"}}})
@example({"notificationType": "ResourceUpdated", "resource": {"typeId": "order", "id": ""}})
def test_any_object_is_an_order_payload_or_ignored_with_a_reason(payload: dict[str, Any]) -> None:
    result = read_payload(payload)
    if isinstance(result, IgnoredPayload):
        assert result.reason
        assert len(result.reason) < 120
    else:
        assert isinstance(result, OrderPayload)
        assert result.order_id


PREFIXES = st.lists(st.text("AB-1", min_size=1, max_size=3), min_size=2, max_size=4, unique=True)
NUMBERS = st.text("AB-1", max_size=4)


@given(PREFIXES, NUMBERS, NUMBERS)
@example(["A", "A-"], "-1", "1")
def test_accepted_prefixes_never_give_two_shops_the_same_prima_number(
    prefixes: list[str], one: str, other: str
) -> None:
    sources = {f"s{i}": SourceSettings(order_number_prefix=p) for i, p in enumerate(prefixes)}
    if source_problems(sources):
        return  # refused by the settings: nothing runs
    for first in prefixes:
        for second in prefixes:
            if first != second:
                assert first + one != second + other
