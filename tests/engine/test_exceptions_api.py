"""The exception queue as a host's code works it: every record about an order names the order
number, ``detail`` has the documented keys of its kind, kinds are checked, one exception can be
retried by its id."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ct_prima_sync.engine import DETAIL_TYPES, ProblemKind, SyncEngine, detail_type
from ct_prima_sync.errors import ExceptionNotFoundError, UnknownKindError
from ct_prima_sync.mapping import IssueCode
from ct_prima_sync.state import OrderStatus, StateStore
from ct_prima_sync.testing.scenario import SyncScenario

EngineFactory = Callable[..., SyncEngine]


def _keys(kind: str) -> frozenset[str]:
    typed = detail_type(kind)
    return frozenset(typed.__required_keys__ | typed.__optional_keys__)


def test_every_exception_about_an_order_names_it_and_has_its_kinds_documented_keys(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    engine = make_engine(store)
    engine.sync_orders()

    records = engine.exceptions()
    assert len(records) == len(scenario.bad)
    for record in records:
        assert record.kind in DETAIL_TYPES
        assert record.detail["order_number"] in scenario.bad
        assert set(record.detail) <= _keys(record.kind), record.kind


def test_a_kind_is_given_as_its_enum_or_its_string_and_a_typo_is_refused(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    engine = make_engine(store)
    engine.sync_orders()

    by_enum = engine.exceptions(kind=IssueCode.UNMAPPED_SKU)
    assert by_enum
    assert by_enum == engine.exceptions(kind="UNMAPPED_SKU")
    assert engine.exceptions(kind=ProblemKind.PRIMA_UNAVAILABLE) == []
    with pytest.raises(
        UnknownKindError, match=r"unknown exception kind 'UNMAPED_SKU'.*UNMAPPED_SKU"
    ):
        engine.exceptions(kind="UNMAPED_SKU")
    with pytest.raises(UnknownKindError):
        engine.retry_exceptions(kind="nope")


def test_one_exception_is_retried_by_its_id_and_the_next_run_sends_its_order(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    engine = make_engine(store)
    engine.sync_orders()
    first, second = engine.exceptions()[:2]

    assert engine.retry_exception(first.exception_id) == 1

    assert store.get_order(first.order_id).status is OrderStatus.NEW  # type: ignore[arg-type,union-attr]
    assert store.get_order(second.order_id).status is OrderStatus.EXCEPTED  # type: ignore[arg-type,union-attr]
    summary = engine.process_backlog()
    assert summary.processed == 1  # only that order: the cause is not fixed, so it is back
    assert len(engine.exceptions()) == len(scenario.bad)


def test_retrying_an_unknown_or_resolved_exception_says_so(
    scenario: SyncScenario, store: StateStore, make_engine: EngineFactory
) -> None:
    engine = make_engine(store)
    engine.sync_orders()
    record = engine.exceptions()[0]
    engine.resolve_exception(record.exception_id, note="fixed by hand in Prima")

    with pytest.raises(ExceptionNotFoundError, match="no exception #999999"):
        engine.retry_exception(999999)
    with pytest.raises(ExceptionNotFoundError, match="resolved already"):
        engine.retry_exception(record.exception_id)
