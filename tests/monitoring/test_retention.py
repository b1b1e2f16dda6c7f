"""Personal data has a retention: after the configured days no personal field remains in the
state store (the SQLite file and its log are scanned byte by byte), finance figures are
unchanged, and an erasure request removes one customer's data at once. Both are logged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ct_prima_sync.engine import (
    FakeClock,
    RetentionPolicy,
    forget_customer,
    purge_personal_data,
    scrub_detail,
)
from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.state import (
    OrderStatus,
    Owner,
    StateStore,
    customer_key_for_email,
    customer_key_for_id,
)
from ct_prima_sync.testing.scenario import SyncScenario

from .conftest import EngineFactory


def _personal(scenario: SyncScenario) -> set[bytes]:
    """Every name, address, e-mail address and phone number in the scenario's orders."""
    found: set[str] = set()
    for order in scenario.commercetools.orders():
        found.add(order["customerEmail"])
        for address in (order["shippingAddress"], order["billingAddress"]):
            found.update(
                address[k] for k in ("firstName", "lastName", "streetName", "email", "phone")
            )
    return {text.encode() for text in found}


def _store_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.name.startswith("sync"))


def _finance(store: StateStore) -> list[tuple[object, ...]]:
    ledger = [
        (r.order_number, r.status, r.prima_reference, r.totals)
        for r in store.list_orders(list(OrderStatus))
    ]
    shadow = [(r.order_number, r.verdict, r.kinds, r.totals) for r in store.list_shadow_orders()]
    return [*ledger, *shadow]


@pytest.fixture
def shadowed(sqlite_store: StateStore, make_engine: EngineFactory) -> StateStore:
    """A shadow run (copies of what would be sent: names, addresses, e-mail), then a live run."""
    engine = make_engine(sqlite_store)
    engine.rehearse(record=True)
    engine.sync_orders()
    return sqlite_store


def test_after_the_retention_period_no_personal_field_remains_in_the_database_file(
    *,
    tmp_path: Path,
    shadowed: StateStore,
    scenario: SyncScenario,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sqlite_store = shadowed
    planted = sorted(_personal(scenario))
    email = planted[0].decode()
    quoted = sqlite_store.record_exception(
        kind="PRIMA_REJECTED",
        owner=Owner.OPERATIONS,
        detail={"order_number": "WEB-03-000001", "request_error": f"(E:33) bad e-mail {email}"},
        now=clock.now(),
        order_id="order-quoted",
    )
    sqlite_store.resolve_exception(
        quoted.exception_id, note=f"phoned {email}", now=clock.now(), by="maria"
    )
    for exception in sqlite_store.list_exceptions():
        sqlite_store.resolve_exception(exception.exception_id, note="handled", now=clock.now())
    sqlite_store.compact()
    before = _store_bytes(tmp_path)
    assert [p for p in planted if p in before], "the scenario plants personal data"
    figures = _finance(sqlite_store)

    clock.advance(29 * 86400)
    assert (
        purge_personal_data(sqlite_store, policy=RetentionPolicy(days=30), clock=clock).total == 0
    )
    clock.advance(2 * 86400)
    with caplog.at_level(logging.INFO, logger="ct_prima_sync.retention"):
        counts = purge_personal_data(sqlite_store, policy=RetentionPolicy(days=30), clock=clock)

    assert counts.payloads == 50  # every order the shadow run would have sent
    assert counts.exceptions == 13
    after = _store_bytes(tmp_path)
    assert [p for p in planted if p in after] == []
    assert _finance(sqlite_store) == figures
    cleaned = sqlite_store.get_exception(quoted.exception_id)
    assert cleaned is not None
    assert cleaned.detail == {"order_number": "WEB-03-000001", "purged": True}
    assert (cleaned.resolution_note, cleaned.resolved_by) == ("(removed after 30 days)", "maria")
    (logged,) = [r for r in caplog.records if "purged" in r.getMessage()]
    assert (getattr(logged, "payloads"), getattr(logged, "exceptions")) == (50, 13)  # noqa: B009
    (run,) = [r for r in sqlite_store.list_flow_runs() if r.flow == "retention"]
    assert (run.runs, run.totals) == (2, {"exceptions": 13, "payloads": 50})


def test_an_erasure_request_removes_one_customer_at_once(
    *,
    tmp_path: Path,
    shadowed: StateStore,
    scenario: SyncScenario,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sqlite_store = shadowed
    order = next(
        o for o in scenario.commercetools.orders()
        if o.get("customerId") and o["orderNumber"] in scenario.good
    )  # fmt: skip
    email, customer = order["customerEmail"], order["customerId"]
    keys = {customer_key_for_id(customer), customer_key_for_email(email)}
    theirs = {r.order_id for r in sqlite_store.list_shadow_orders() if r.customer_key in keys}
    assert theirs
    assert sqlite_store.get_customer(customer_key_for_id(customer)) is not None
    sqlite_store.put_customer(customer_key_for_email(email), "C-GUEST", now=clock.now())
    with caplog.at_level(logging.WARNING, logger="ct_prima_sync.retention"):
        counts = forget_customer(
            sqlite_store, now=clock.now(), email=email, customer_id=customer, reference="GDPR-7"
        )
    assert counts.customers == 2
    assert counts.payloads == len(theirs)
    assert sqlite_store.get_customer(customer_key_for_id(customer)) is None
    for record in sqlite_store.list_shadow_orders():
        assert (record.payload is None) == (record.order_id in theirs or record.payload is None)
        if record.order_id in theirs:
            assert (record.payload, record.customer_key) == (None, None)
    remaining = _store_bytes(tmp_path)
    assert email.encode() not in remaining
    (logged,) = [r for r in caplog.records if r.getMessage() == "erasure request carried out"]
    assert getattr(logged, "reference") == "GDPR-7"  # noqa: B009
    assert email not in caplog.text
    with pytest.raises(ConfigurationError, match="name the customer"):
        forget_customer(sqlite_store, now=clock.now())


def test_only_codes_and_amounts_survive_in_a_scrubbed_detail() -> None:
    detail = {
        "order_number": "WEB-1",
        "message": "lines come to EUR 1.00 for Anna",
        "issues": [{"path": "lineItems[0]", "message": "Anna's item", "difference": "0.02"}],
        "request_error": "anna@example.com",
        "codes": ["InvalidInput"],
    }
    assert scrub_detail(detail) == {
        "order_number": "WEB-1",
        "codes": ["InvalidInput"],
        "issues": [{"path": "lineItems[0]", "difference": "0.02"}],
        "purged": True,
    }
