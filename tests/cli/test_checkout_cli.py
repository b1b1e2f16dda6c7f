"""``ct-prima-sync checkout register`` and ``checkout serve`` as real processes: the Extension
is created then updated in a served FakeCommercetools, bad arguments and a dead server give one
sentence and the documented exit code, and the served guard answers commercetools' calls."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ct_prima_sync.testing import FakeCommercetools
from ct_prima_sync.testing.factories import LineSpec, ShippingSpec, make_order

from .conftest import COMMAND, assert_no_traceback, run_cli, to_toml

AUTH = "Bearer 0123456789abcdef"
ENV = {"CT_PRIMA_SYNC_CHECKOUT_AUTHORIZATION": AUTH}

MAPPING = """
[sku.table]
"SKU-1" = "P1"

[depots]
default = "WH1"

[[taxes.codes]]
code = "S"
rate = "0.19"

[shipping]
default = "CARRIAGE"
"""


def _settings(folder: Path, ct_url: str, **checkout: Any) -> Path:
    (folder / "mapping.toml").write_text(MAPPING, encoding="utf-8")
    (folder / "ct.secret").write_text("fake-client-secret", encoding="utf-8")
    settings = {
        "state": {"url": "sqlite:///sync.db"},
        "commercetools": {
            "project_key": "shop",
            "api_url": ct_url,
            "auth_url": ct_url,
            "client_id": "fake-client-id",
            "client_secret_file": "ct.secret",
            "retry": {"max_attempts": 1},
            "timeouts": {"connect": 2.0, "read": 2.0},
        },
        "mapping": {"file": "mapping.toml"},
        "checkout": checkout,
    }
    path = folder / "ct-prima-sync.toml"
    path.write_text(to_toml(settings), encoding="utf-8")
    return path


@pytest.fixture
def fake() -> Iterator[tuple[FakeCommercetools, str]]:
    fake = FakeCommercetools(project_key="shop")
    with fake.serve() as url:
        yield fake, url


def test_register_creates_then_updates_the_extension(
    tmp_path: Path, fake: tuple[FakeCommercetools, str]
) -> None:
    ct, url = fake
    config = str(_settings(tmp_path, url))

    first = run_cli(
        "checkout", "register", "--config", config, "--url", "https://guard.example/",
        "--triggers", "cart:Create,Update", "order:Create", env=ENV,
    )  # fmt: skip
    second = run_cli(
        "checkout", "register", "--config", config, "--url", "https://guard.example/v2",
        "--triggers", "order:Create", "--timeout-ms", "1500", "--condition", 'country = "DE"',
        env=ENV,
    )  # fmt: skip

    assert first.returncode == 0, first.stderr
    assert "created extension 'ct-prima-sync-checkout'" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "updated extension" in second.stdout
    assert "set it to 1500" in second.stdout
    (extension,) = ct.extensions()
    assert extension["destination"] == {
        "type": "HTTP",
        "url": "https://guard.example/v2",
        "authentication": {"type": "AuthorizationHeader", "headerValue": AUTH},
    }
    assert extension["triggers"] == [
        {"resourceTypeId": "order", "actions": ["Create"], "condition": 'country = "DE"'}
    ]
    assert extension["timeoutInMs"] == 1500
    assert AUTH not in first.stdout + first.stderr + second.stdout + second.stderr


@pytest.mark.parametrize(
    ("args", "env", "problem"),
    [
        (["--triggers", "carts:Create"], ENV, "expected cart:ACTIONS or order:ACTIONS"),
        (["--triggers", "cart:Delete"], ENV, "'Delete' is not an action"),
        (["--timeout-ms", "20000"], ENV, "between 1 and 10000"),
        (["--timeout-ms", "250"], ENV, "leaves no time"),
        ([], {"CT_PRIMA_SYNC_CHECKOUT_AUTHORIZATION": ""}, "set CT_PRIMA_SYNC_CHECKOUT_AUTH"),
        (["--url", "guard.example"], ENV, "expected an http(s):// URL"),
    ],
)
def test_register_refuses_bad_arguments_in_one_sentence(
    tmp_path: Path, args: list[str], env: dict[str, str], problem: str
) -> None:
    config = str(_settings(tmp_path, "http://127.0.0.1:9"))

    done = run_cli(
        "checkout", "register", "--config", config, "--url", "https://guard.example/", *args,
        env=env,
    )  # fmt: skip

    assert done.returncode == 2, done.stderr
    assert problem in done.stderr
    assert done.stderr.count("\n") == 1
    assert_no_traceback(done.stderr)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_register_against_a_dead_commercetools_says_so_in_one_sentence(tmp_path: Path) -> None:
    config = str(_settings(tmp_path, f"http://127.0.0.1:{_free_port()}"))

    done = run_cli(
        "checkout", "register", "--config", config, "--url", "https://guard.example/", env=ENV
    )

    assert done.returncode == 1
    *_warnings, last = done.stderr.strip().splitlines()
    assert last.startswith("ct-prima-sync: error: commercetools: ")
    assert "ConnectError" in last
    assert_no_traceback(done.stderr)


def test_serve_without_a_mapping_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "ct-prima-sync.toml"
    path.write_text(to_toml({"state": {"url": "sqlite:///sync.db"}}), encoding="utf-8")

    done = run_cli("checkout", "serve", "--config", str(path), env=ENV)

    assert done.returncode == 2
    assert "needs [mapping]" in done.stderr
    assert_no_traceback(done.stderr)


def test_a_bad_checkout_section_names_the_key(tmp_path: Path) -> None:
    config = str(_settings(tmp_path, "http://127.0.0.1:9", deadline_margin_ms=100))

    done = run_cli("checkout", "serve", "--config", config, env=ENV)

    assert done.returncode == 2
    assert "[checkout] deadline_margin_ms: must be at least 300" in done.stderr
    assert_no_traceback(done.stderr)


def _cart(sku: str) -> dict[str, Any]:
    order = make_order(
        lines=[LineSpec(sku=sku, quantity=1, unit_price=1190, tax_rate="0.19")],
        shipping=ShippingSpec(key="s", name="Standard", price=495, tax_rate="0.19"),
    )
    order.pop("orderNumber")
    order["cartState"] = "Active"
    return {"action": "Create", "resource": {"typeId": "cart", "id": order["id"], "obj": order}}


def test_serve_answers_commercetools_calls(tmp_path: Path) -> None:
    port = _free_port()
    config = str(_settings(tmp_path, "http://127.0.0.1:9", port=port))
    process = subprocess.Popen(  # noqa: S603 (the command under test)
        [COMMAND, "checkout", "serve", "--config", config],
        env={**os.environ, **ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        with httpx.Client(headers={"Authorization": AUTH}, timeout=5) as client:
            while True:
                try:
                    good = client.post(url, json=_cart("SKU-1"))
                    break
                except httpx.TransportError:
                    assert process.poll() is None, process.communicate()
                    assert time.monotonic() < deadline, "checkout serve did not start"
                    time.sleep(0.1)
            bad = client.post(url, json=_cart("SKU-9"))
            stranger = client.post(url, json=_cart("SKU-1"), headers={"Authorization": "x"})
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)

    assert good.status_code == 200
    assert good.json() == {"actions": []}
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["extensionExtraInfo"]["issueCode"] == "UNMAPPED_SKU"
    assert stranger.status_code == 401
    assert f"checkout guard on http://127.0.0.1:{port}/" in out
    assert_no_traceback(err)
    assert AUTH not in out + err
