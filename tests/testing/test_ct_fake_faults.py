"""Scripted faults, request recording and serving the fake over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ct_prima_sync.testing import CommercetoolsFault, FakeCommercetools

PROJECT = "test-project"


@pytest.fixture
def fake() -> FakeCommercetools:
    return FakeCommercetools(project_key=PROJECT, seed=3)


def authorise(http: httpx.Client, fake: FakeCommercetools) -> None:
    reply = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(fake.client_id, fake.client_secret),
    )
    http.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"


@pytest.fixture
def api(fake: FakeCommercetools) -> Iterator[httpx.Client]:
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        authorise(http, fake)
        yield http


def test_a_scripted_503_fires_the_given_number_of_times(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    fake.faults.fail(503, method="GET", path="/orders", times=2)
    statuses = [api.get(f"/{PROJECT}/orders").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert api.get(f"/{PROJECT}/inventory").status_code == 200


def test_skip_lets_the_first_matching_requests_through(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    fake.faults.fail(502, path="/inventory", skip=1)
    statuses = [api.get(f"/{PROJECT}/inventory").status_code for _ in range(3)]
    assert statuses == [200, 502, 200]


def test_rate_limiting_answers_429_with_retry_after(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    fake.faults.rate_limit(retry_after=7)
    reply = api.get(f"/{PROJECT}/orders")
    assert reply.status_code == 429
    assert reply.headers["Retry-After"] == "7"
    assert reply.json()["statusCode"] == 429


def test_a_409_storm_reports_the_true_current_version_and_changes_nothing(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    entry = fake.add_inventory("S", 5)
    fake.faults.conflict(path="/inventory/", times=3)
    body = {"version": 1, "actions": [{"action": "changeQuantity", "quantity": 9}]}
    replies = [api.post(f"/{PROJECT}/inventory/{entry['id']}", json=body) for _ in range(4)]
    assert [r.status_code for r in replies] == [409, 409, 409, 200]
    assert all(r.json()["errors"][0]["currentVersion"] == 1 for r in replies[:3])
    assert fake.inventory_entry("S")["quantityOnStock"] == 9


def test_latency_goes_through_the_injected_sleep(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    fake.faults.latency(2.5, times=2)
    for _ in range(3):
        api.get(f"/{PROJECT}/orders")
    assert fake.slept == [2.5, 2.5]


def test_a_custom_sleep_receives_the_delay() -> None:
    delays: list[float] = []
    fake = FakeCommercetools(sleep=delays.append)
    fake.faults.latency(0.25)
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        authorise(http, fake)
    assert delays == [0.25]
    assert fake.slept == []


def test_connection_errors_never_reach_the_fake(fake: FakeCommercetools, api: httpx.Client) -> None:
    fake.faults.connect_error(method="POST", path="/inventory")
    with pytest.raises(httpx.ConnectError):
        api.post(f"/{PROJECT}/inventory", json={"sku": "S", "quantityOnStock": 1})
    assert fake.inventory_entries() == []


def test_a_read_timeout_after_send_applies_the_change_and_loses_the_answer(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    fake.faults.read_timeout(method="POST", path="/inventory")
    with pytest.raises(httpx.ReadTimeout):
        api.post(f"/{PROJECT}/inventory", json={"sku": "S", "quantityOnStock": 1})
    assert [e["sku"] for e in fake.inventory_entries()] == ["S"]


def test_random_faults_are_repeatable_with_a_seed() -> None:
    def run() -> list[int | str]:
        fake = FakeCommercetools()
        outcomes: list[int | str] = []
        with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
            authorise(http, fake)
            fake.faults.randomly(seed=42, probability=0.5)
            for _ in range(30):
                try:
                    outcomes.append(http.get(f"/{PROJECT}/orders").status_code)
                except httpx.ConnectError:
                    outcomes.append("reset")
        return outcomes

    first = run()
    assert first == run()
    assert {200, 503, 429, "reset"} <= set(first)


def test_clear_disarms_every_fault(fake: FakeCommercetools, api: httpx.Client) -> None:
    fake.faults.fail(times=None)
    fake.faults.randomly(seed=1, probability=1.0)
    fake.faults.clear()
    assert api.get(f"/{PROJECT}/orders").status_code == 200


def test_faults_can_be_built_and_added_directly(fake: FakeCommercetools, api: httpx.Client) -> None:
    fake.faults.add(CommercetoolsFault(kind="status", status=500, path=r"/orders$"))
    assert api.get(f"/{PROJECT}/orders").status_code == 500


def test_requests_are_recorded_without_the_authorization_header(
    fake: FakeCommercetools, api: httpx.Client
) -> None:
    api.get(
        f"/{PROJECT}/orders",
        params={"where": 'orderNumber = "A"'},
        headers={"X-Correlation-ID": "c-1"},
    )
    token_request, query = fake.requests
    assert token_request.path == "/oauth/token"
    assert token_request.body == b""
    assert query.method == "GET"
    assert query.path == f"/{PROJECT}/orders"
    assert query.query == {"where": ('orderNumber = "A"',)}
    assert query.headers["x-correlation-id"] == "c-1"
    assert "authorization" not in query.headers
    assert fake.client_secret not in repr(fake.requests)
    fake.clear_requests()
    assert fake.requests == []


def test_the_correlation_id_is_echoed(api: httpx.Client) -> None:
    reply = api.get(f"/{PROJECT}/orders", headers={"X-Correlation-ID": "abc"})
    assert reply.headers["X-Correlation-ID"] == "abc"


def test_the_fake_serves_over_http_on_localhost(fake: FakeCommercetools) -> None:
    fake.faults.rate_limit(retry_after=1, path="/inventory")
    with fake.serve() as base_url, httpx.Client(base_url=base_url) as http:
        assert base_url.startswith("http://127.0.0.1:")
        authorise(http, fake)
        created = http.post(f"/{PROJECT}/inventory", json={"sku": "S", "quantityOnStock": 2})
        assert created.status_code == 429
        created = http.post(f"/{PROJECT}/inventory", json={"sku": "S", "quantityOnStock": 2})
        assert created.status_code == 201
        assert http.get(f"/{PROJECT}/inventory/{created.json()['id']}").json()["sku"] == "S"


def test_the_repr_shows_no_credentials(fake: FakeCommercetools) -> None:
    assert fake.client_secret not in repr(fake)
