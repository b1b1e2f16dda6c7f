"""Optimistic concurrency: what is re-sent after a 409, and when the 409 is raised instead."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from ct_prima_sync.commercetools import (
    AddQuantity,
    ChangeQuantity,
    InventoryUpdateAction,
    SetExpectedDelivery,
    SetRestockableInDays,
    update_with_conflict_retry,
)
from ct_prima_sync.errors import ConcurrentModificationError, ConfigurationError


class Resource:
    """An update endpoint that refuses the first ``conflicts`` calls with a 409."""

    def __init__(self, conflicts: int, *, report_version: bool = True) -> None:
        self.conflicts = conflicts
        self.report_version = report_version
        self.sent: list[tuple[int, list[InventoryUpdateAction]]] = []

    def update(self, version: int, actions: Sequence[InventoryUpdateAction]) -> str:
        self.sent.append((version, list(actions)))
        if len(self.sent) <= self.conflicts:
            raise ConcurrentModificationError(
                "conflict",
                correlation_id="cid",
                current_version=version + 10 if self.report_version else None,
            )
        return f"applied at {version}"


def test_absolute_actions_are_resent_with_the_version_the_conflict_reported() -> None:
    resource = Resource(conflicts=2)
    actions = [
        SetExpectedDelivery(expected_delivery=datetime(2026, 12, 1, tzinfo=UTC)),
        SetRestockableInDays(restockable_in_days=2),
    ]
    result = update_with_conflict_retry(version=1, actions=actions, update=resource.update)
    assert result == "applied at 21"
    assert [v for v, _ in resource.sent] == [1, 11, 21]
    assert all(a == actions for _, a in resource.sent)


def test_relative_actions_are_re_decided_on_a_fresh_read() -> None:
    resource = Resource(conflicts=1)
    rereads: list[str] = []

    def reread() -> tuple[int, Sequence[AddQuantity]]:
        rereads.append("read")
        return 30, [AddQuantity(quantity=2)]

    result = update_with_conflict_retry(
        version=1, actions=[AddQuantity(quantity=3)], update=resource.update, reread=reread
    )
    assert result == "applied at 30"
    assert rereads == ["read"]
    assert resource.sent[1] == (30, [AddQuantity(quantity=2)])


def test_a_quantity_to_set_is_decided_again_on_a_fresh_read_not_resent_unchanged() -> None:
    """The figure sent was worked out from the entry's reservations: after a 409 they may differ,
    so a fresh read decides the figure (here a reservation of 2 was released meanwhile)."""
    resource = Resource(conflicts=1)
    with pytest.raises(ConcurrentModificationError):
        update_with_conflict_retry(
            version=1, actions=[ChangeQuantity(quantity=12)], update=resource.update
        )
    assert len(resource.sent) == 1
    resource = Resource(conflicts=1)
    result = update_with_conflict_retry(
        version=1,
        actions=[ChangeQuantity(quantity=12)],
        update=resource.update,
        reread=lambda: (11, [ChangeQuantity(quantity=10)]),
    )
    assert result == "applied at 11"
    assert resource.sent == [
        (1, [ChangeQuantity(quantity=12)]),
        (11, [ChangeQuantity(quantity=10)]),
    ]


def test_a_mix_of_absolute_and_relative_actions_is_treated_as_relative() -> None:
    resource = Resource(conflicts=1)
    with pytest.raises(ConcurrentModificationError):
        update_with_conflict_retry(
            version=1,
            actions=[SetRestockableInDays(restockable_in_days=1), AddQuantity(quantity=1)],
            update=resource.update,
        )
    assert len(resource.sent) == 1


def test_absolute_actions_need_a_reread_when_the_conflict_reported_no_version() -> None:
    days = SetRestockableInDays(restockable_in_days=1)
    resource = Resource(conflicts=1, report_version=False)
    with pytest.raises(ConcurrentModificationError):
        update_with_conflict_retry(version=1, actions=[days], update=resource.update)
    resource = Resource(conflicts=1, report_version=False)
    result = update_with_conflict_retry(
        version=1, actions=[days], update=resource.update, reread=lambda: (4, [days])
    )
    assert result == "applied at 4"


def test_nothing_is_sent_when_the_fresh_read_shows_nothing_left_to_do() -> None:
    resource = Resource(conflicts=1)
    result = update_with_conflict_retry(
        version=1,
        actions=[AddQuantity(quantity=3)],
        update=resource.update,
        reread=lambda: (9, []),
    )
    assert result is None
    assert len(resource.sent) == 1


def test_attempts_are_bounded_and_the_last_conflict_is_raised() -> None:
    resource = Resource(conflicts=100)
    with pytest.raises(ConcurrentModificationError) as caught:
        update_with_conflict_retry(
            version=1,
            actions=[SetRestockableInDays(restockable_in_days=1)],
            update=resource.update,
            max_attempts=4,
        )
    assert len(resource.sent) == 4
    assert caught.value.current_version == 41


def test_max_attempts_below_one_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        update_with_conflict_retry(version=1, actions=[], update=Resource(0).update, max_attempts=0)
