"""The checkout extension through an HTTP client, as commercetools calls it: valid carts pass
with no actions, each refusal kind comes back as ExtensionErrors, a wrong Authorization header
is refused, malformed input is a 400 InvalidInput (never a 500), and a slow check fails open
(or, configured, closed) before commercetools' timeout."""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from ct_prima_sync.checkout import CheckoutSettings, app
from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.mapping import (
    CheckoutConfig,
    CheckoutVerdict,
    MappingConfig,
    StockCheck,
    config_hash,
    validate_checkout,
)
from ct_prima_sync.state import StockUpdate, open_store
from ct_prima_sync.testing.factories import LineSpec, ShippingSpec, make_order

pytestmark = pytest.mark.anyio

AUTH = "Bearer checkout-secret"

MAPPING = MappingConfig.from_dict(
    {
        "sku": {"rules": [{"pattern": r"(?P<product>SKU)-(?P<n>\d+)", "matrix": ["n"]}]},
        "depots": {"default": "WH1"},
        "taxes": {"codes": [{"code": "S", "rate": "0.19"}]},
        "shipping": {"default": "CARRIAGE"},
        "currencies": ["EUR"],
    }
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _cart(*skus: str, currency: str = "EUR") -> dict[str, Any]:
    order = make_order(
        lines=[LineSpec(sku=sku, quantity=2, unit_price=1000, tax_rate="0.19") for sku in skus],
        shipping=ShippingSpec(key="ship", name="Standard", price=495, tax_rate="0.19"),
        currency=currency,
    )
    order.pop("orderNumber", None)
    order.pop("orderState", None)
    order["cartState"] = "Active"
    return order


def _input(obj: object, type_id: str = "cart", action: str = "Create") -> dict[str, Any]:
    resource_id = obj.get("id") if isinstance(obj, dict) else None
    return {"action": action, "resource": {"typeId": type_id, "id": resource_id, "obj": obj}}


def _client(application: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application),
        base_url="http://checkout.test",
        headers={"Authorization": AUTH},
    )


async def test_a_valid_cart_gets_200_and_no_actions() -> None:
    async with _client(app(MAPPING_CONFIG, authorization=AUTH)) as client:
        answer = await client.post("/", json=_input(_cart("SKU-1", "SKU-2")))

    assert answer.status_code == 200
    assert answer.json() == {"actions": []}


MAPPING_CONFIG = CheckoutConfig(mapping=MAPPING)


@pytest.mark.parametrize(
    ("cart", "issue"),
    [
        (_cart("SKU-1", "UNKNOWN-7"), "UNMAPPED_SKU"),
        (_cart("SKU-1", currency="JPY"), "CURRENCY_NOT_ALLOWED"),
    ],
)
async def test_each_refusal_comes_back_as_extension_errors(
    cart: dict[str, Any], issue: str
) -> None:
    async with _client(app(MAPPING_CONFIG, authorization=AUTH)) as client:
        answer = await client.post("/", json=_input(cart))

    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert {e["extensionExtraInfo"]["issueCode"] for e in errors} == {issue}
    assert all(e["code"] == "InvalidInput" and e["message"] for e in errors)
    assert all(e["extensionExtraInfo"]["configHash"] == config_hash(MAPPING) for e in errors)


async def test_an_order_on_create_is_checked_fully() -> None:
    order = _cart("SKU-1")
    del order["cartState"]
    order["taxedPrice"]["totalGross"]["centAmount"] += 1  # one cent off

    async with _client(app(MAPPING_CONFIG, authorization=AUTH)) as client:
        answer = await client.post("/", json=_input(order, "order"))

    assert answer.status_code == 400
    codes = {e["extensionExtraInfo"]["issueCode"] for e in answer.json()["errors"]}
    assert codes == {"TOTALS_MISMATCH"}


@pytest.mark.parametrize("header", [None, "Bearer wrong", AUTH + " "])
async def test_a_call_without_the_registered_authorization_header_is_refused(
    header: str | None,
) -> None:
    application = app(MAPPING_CONFIG, authorization=AUTH)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://checkout.test"
    ) as client:
        headers = {"Authorization": header} if header is not None else {}
        answer = await client.post("/", json=_input(_cart("SKU-1")), headers=headers)

    assert answer.status_code == 401
    assert AUTH not in answer.text


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"\xff\xfe\x00",
        b"[1, 2]",
        json.dumps({"action": "Delete", "resource": {"typeId": "cart", "obj": {}}}).encode(),
        json.dumps({"action": "Create", "resource": {"typeId": "payment", "obj": {}}}).encode(),
        json.dumps({"action": "Create", "resource": {"typeId": "cart"}}).encode(),
        json.dumps({"action": "Create", "resource": "cart"}).encode(),
        json.dumps(_input({"id": "c-1", "cartState": "Active"})).encode(),
        json.dumps(_input({**_cart("SKU-1"), "lineItems": [{"quantity": "two"}]})).encode(),
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
async def test_malformed_input_is_a_400_invalid_input_never_a_500(body: bytes) -> None:
    async with _client(app(MAPPING_CONFIG, authorization=AUTH)) as client:
        answer = await client.post("/", content=body)

    assert answer.status_code == 400
    (error, *_) = answer.json()["errors"]
    assert error["code"] == "InvalidInput"
    assert error["message"]


class _Blocked:
    """A validator stuck until released: a check slower than the deadline, with no real wait
    beyond the deadline itself."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> CheckoutVerdict:
        self.release.wait(10)
        return validate_checkout(*args, **kwargs)


@pytest.fixture
def blocked() -> Iterator[_Blocked]:
    validator = _Blocked()
    yield validator
    validator.release.set()


# timeoutInMs 350 with the 300 ms margin: a 50 ms deadline.
FAST = CheckoutSettings(timeout_in_ms=350, deadline_margin_ms=300)


async def test_a_slow_check_fails_open_with_a_warning(
    blocked: _Blocked, caplog: pytest.LogCaptureFixture
) -> None:
    application = app(MAPPING_CONFIG, authorization=AUTH, settings=FAST, validator=blocked)
    with caplog.at_level(logging.WARNING, logger="ct_prima_sync.checkout"):
        async with _client(application) as client:
            answer = await client.post("/", json=_input(_cart("UNKNOWN-1")))

    assert answer.status_code == 200
    assert answer.json() == {"actions": []}
    assert "fail open" in caplog.text
    assert application.state.checkout.late == 1


async def test_a_slow_check_fails_closed_when_configured(blocked: _Blocked) -> None:
    settings = CheckoutSettings(timeout_in_ms=350, deadline_margin_ms=300, fail_open=False)
    application = app(MAPPING_CONFIG, authorization=AUTH, settings=settings, validator=blocked)
    async with _client(application) as client:
        answer = await client.post("/", json=_input(_cart("SKU-1")))

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["extensionExtraInfo"]["issueCode"] == "CHECK_TIMED_OUT"


@pytest.mark.parametrize(
    ("timeout", "margin", "problem"),
    [(2000, 299, "at least 300"), (300, 300, "raise timeout_in_ms"), (10_001, 300, "10,000")],
)
def test_the_deadline_stays_at_least_300_ms_below_the_timeout(
    timeout: int, margin: int, problem: str
) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        CheckoutSettings(timeout_in_ms=timeout, deadline_margin_ms=margin)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _inline(work: Callable[[], None]) -> None:
    work()  # background refreshes run at once, so the test sees their effect


async def test_the_configuration_is_cached_and_refreshed_and_the_verdict_hash_follows(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = _Clock()
    loaded = [MAPPING]

    def load() -> CheckoutConfig:
        return CheckoutConfig(mapping=loaded[-1])

    settings = CheckoutSettings(refresh_seconds=30)
    application = app(load, authorization=AUTH, settings=settings, clock=clock, spawn=_inline)
    wider = MappingConfig.from_dict(
        {**_raw_mapping(), "sku": {"rules": [{"pattern": r"(?P<product>[A-Z]+)-\d+"}]}}
    )
    cart = _cart("OTHER-1")
    caplog.set_level(logging.WARNING, logger="ct_prima_sync.checkout")
    async with _client(application) as client:
        first = await client.post("/", json=_input(cart))
        loaded.append(wider)
        clock.now = 10.0
        cached = await client.post("/", json=_input(cart))  # not due: still the old rules
        clock.now = 31.0
        await client.post("/", json=_input(cart))  # due: reloads behind this call
        fresh = await client.post("/", json=_input(cart))

    assert first.status_code == cached.status_code == 400
    assert cached.json()["errors"][0]["extensionExtraInfo"]["configHash"] == config_hash(MAPPING)
    assert fresh.status_code == 200
    assert (
        f"configuration changed ({config_hash(wider)}, was {config_hash(MAPPING)})" in caplog.text
    )


def _raw_mapping() -> dict[str, Any]:
    return {
        "depots": {"default": "WH1"},
        "taxes": {"codes": [{"code": "S", "rate": "0.19"}]},
        "shipping": {"default": "CARRIAGE"},
        "currencies": ["EUR"],
    }


async def test_a_failing_reload_keeps_the_last_good_configuration(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = _Clock()
    calls = []

    def load() -> CheckoutConfig:
        calls.append(1)
        if len(calls) > 1:
            raise ConfigurationError("mapping.toml: sku.rules[0].pattern: not a valid pattern")
        return MAPPING_CONFIG

    application = app(load, authorization=AUTH, clock=clock, spawn=_inline)
    clock.now = 1000.0
    with caplog.at_level(logging.WARNING, logger="ct_prima_sync.checkout"):
        async with _client(application) as client:
            answer = await client.post("/", json=_input(_cart("SKU-1")))

    assert answer.status_code == 200
    assert "last good one stays in use" in caplog.text
    assert application.state.checkout.config.failures == 1


async def test_the_stock_check_reads_the_last_snapshot_minus_pending() -> None:
    store = open_store("memory://")
    now = datetime(2026, 1, 5, tzinfo=UTC)
    store.upsert_stock([StockUpdate(sku="SKU-1", depot="WH1", last_ats=1)], now=now)
    config = CheckoutConfig(mapping=MAPPING, stock=StockCheck.REFUSE)
    async with _client(app(config, store, authorization=AUTH)) as client:
        short = await client.post("/", json=_input(_cart("SKU-1")))  # two wanted, one left
        unknown = await client.post("/", json=_input(_cart("SKU-2")))  # no snapshot: passes

    assert short.status_code == 400
    (error,) = short.json()["errors"]
    assert error["extensionExtraInfo"]["issueCode"] == "OUT_OF_STOCK"
    assert unknown.status_code == 200


async def test_the_stock_snapshot_is_cached_and_refreshed() -> None:
    store = open_store("memory://")
    now = datetime(2026, 1, 5, tzinfo=UTC)
    store.upsert_stock([StockUpdate(sku="SKU-1", depot="WH1", last_ats=1)], now=now)
    clock = _Clock()
    config = CheckoutConfig(mapping=MAPPING, stock=StockCheck.REFUSE)
    settings = CheckoutSettings(stock_refresh_seconds=60)
    application = app(
        config, store, authorization=AUTH, settings=settings, clock=clock, spawn=_inline
    )
    cart = _cart("SKU-1")
    async with _client(application) as client:
        first = await client.post("/", json=_input(cart))
        store.upsert_stock([StockUpdate(sku="SKU-1", depot="WH1", last_ats=50)], now=now)
        clock.now = 30.0
        cached = await client.post("/", json=_input(copy.deepcopy(cart)))
        clock.now = 61.0
        await client.post("/", json=_input(cart))  # due: re-read behind this call
        fresh = await client.post("/", json=_input(cart))

    assert first.status_code == cached.status_code == 400
    assert fresh.status_code == 200


def _broken(*args: Any, **kwargs: Any) -> CheckoutVerdict:
    raise RuntimeError("a fault of the guard's own")


async def test_a_fault_in_the_check_is_answered_by_the_deadline_policy_never_a_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    application = app(MAPPING_CONFIG, authorization=AUTH, validator=_broken)
    closed = app(
        MAPPING_CONFIG,
        authorization=AUTH,
        validator=_broken,
        settings=CheckoutSettings(fail_open=False),
    )
    with caplog.at_level(logging.WARNING, logger="ct_prima_sync.checkout"):
        async with _client(application) as client:
            opened = await client.post("/", json=_input(_cart("SKU-1")))
        async with _client(closed) as client:
            refused = await client.post("/", json=_input(_cart("SKU-1")))

    assert opened.status_code == 200
    assert refused.status_code == 400
    assert application.state.checkout.failed == 1
    assert "failed (RuntimeError)" in caplog.text
    assert "could not be checked; accepted (fail open)" in caplog.text
