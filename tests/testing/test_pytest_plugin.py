"""The pytest plugin as a host's test suite meets it: loaded through its entry point, the
docs/testing.md example passing as written, fixtures wired to one fake clock, factories that
never hand out the same order twice, fakes that say which faults fired and what they answered."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from ct_prima_sync.engine import FakeClock, SyncEngine
from ct_prima_sync.prima import OmlinkClient
from ct_prima_sync.testing import FakeCommercetools
from ct_prima_sync.testing.factories import make_order, make_payment
from ct_prima_sync.testing.pytest_plugin import START, OrderFactory, ServedPrima
from ct_prima_sync.testing.scenario import connect_commercetools

DOC = Path(__file__).parents[2] / "docs" / "testing.md"


def _host_example() -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- host-test -->\n```python\n(.*?)```", text, re.DOTALL)
    assert match, "docs/testing.md lost its host test example"
    return match.group(1)


def _run_pytest(folder: Path, *, autoload: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_host.py"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_documented_host_test_is_short_and_passes_through_the_installed_plugin(
    tmp_path: Path,
) -> None:
    example = _host_example()
    assert len(example.strip().splitlines()) < 20
    (tmp_path / "test_host.py").write_text(example, encoding="utf-8")

    run = _run_pytest(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout

    without = _run_pytest(tmp_path, autoload=False)  # the entry point is what brings the fixtures
    assert without.returncode != 0
    assert "fixture 'sync_engine' not found" in without.stdout


def test_the_factory_places_a_new_order_each_call_dated_by_the_fake_clock(
    order_factory: OrderFactory, fake_commercetools: FakeCommercetools, fake_clock: FakeClock
) -> None:
    first = order_factory()
    fake_clock.advance(60)
    second = order_factory(quantity=3)

    assert first["id"] != second["id"]
    assert first["orderNumber"] != second["orderNumber"]
    assert first["createdAt"] == "2026-11-21T09:00:00.000Z"
    assert second["createdAt"] == "2026-11-21T09:01:00.000Z"
    assert len(fake_commercetools.orders()) == 2


def test_make_order_and_make_payment_without_a_seed_never_repeat_an_id() -> None:
    orders = [make_order() for _ in range(50)]
    assert len({o["id"] for o in orders}) == 50
    assert len({o["orderNumber"] for o in orders}) == 50
    assert make_order(seed=7) == make_order(seed=7)
    assert make_payment(100)["id"] != make_payment(100)["id"]


def test_adding_an_order_the_fake_already_has_is_refused(
    fake_commercetools: FakeCommercetools,
) -> None:
    order = make_order()
    fake_commercetools.add_order(order)
    with pytest.raises(ValueError, match="already has an order with id"):
        fake_commercetools.add_order(order)
    with pytest.raises(ValueError, match="already has an order numbered"):
        fake_commercetools.add_order({**make_order(), "orderNumber": order["orderNumber"]})
    assert len(fake_commercetools.orders()) == 1


def test_fault_records_say_which_faults_fired_and_requests_carry_their_status(
    fake_commercetools: FakeCommercetools, fake_clock: FakeClock, order_factory: OrderFactory
) -> None:
    order = order_factory()
    fault = fake_commercetools.faults.fail(503, method="GET", path="/orders/", times=1)
    with connect_commercetools(fake_commercetools, sleep=fake_clock.sleep) as client:
        assert client.orders.get(order["id"]).id == order["id"]  # retried past the fault

    (fired,) = fake_commercetools.faults.fired
    assert fired.fault is fault
    assert (fired.kind, fired.method) == ("status", "GET")
    answers = [(r.status, r.fault) for r in fake_commercetools.requests if "/orders/" in r.path]
    assert answers == [(503, "status"), (200, None)]


def test_the_fakes_serve_on_a_chosen_port(
    fake_commercetools: FakeCommercetools, prima_emulator: ServedPrima
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with fake_commercetools.serve(port=port) as url:
        assert url == f"http://127.0.0.1:{port}"
        answer = httpx.post(f"{url}/oauth/token", data={"grant_type": "client_credentials"})
        assert answer.status_code == 401  # the fake wants its client credentials
    wsdl = httpx.get(f"{prima_emulator.config.endpoint}?wsdl")
    assert wsdl.status_code == 200
    with OmlinkClient(prima_emulator.config) as client:  # the real client, over HTTP
        assert sorted(d.code for d in client.list_depots()) == ["WH1", "WH2"]


def test_every_fixture_shares_the_one_fake_clock(
    sync_engine: SyncEngine,
    fake_clock: FakeClock,
    fake_commercetools: FakeCommercetools,
    order_factory: OrderFactory,
) -> None:
    assert fake_clock.now() == START
    fake_clock.advance(3600)
    order = order_factory()

    (stored,) = fake_commercetools.orders()
    assert stored["createdAt"] == order["createdAt"] == "2026-11-21T10:00:00.000Z"
    assert stored["lastModifiedAt"].startswith("2026-11-21T10:00:00")
    summary = sync_engine.sync_orders()
    assert (summary.posted, summary.finished_at) == (1, START + timedelta(hours=1))
