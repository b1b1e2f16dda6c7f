"""``ct-prima-sync prima probe``: first contact with an installation, as an integrator meets it.

The proof of the issue: for each WSDL style the emulator serves with unusual parameter names, a
``run`` with default SOAP settings stops with one sentence naming the SOAP mismatch (no order sent,
none blamed), ``prima probe --write-settings`` writes the installation's names into the settings
file, and the same ``run`` then posts every order.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ct_prima_sync.cli import main
from ct_prima_sync.testing import PrimaEmulator, PrimaRequestKind, WsdlStyle
from ct_prima_sync.testing._prima._http import serve_wsgi
from ct_prima_sync.testing.scenario import SCENARIO_MAPPING_TOML, SyncScenario, build_scenario

from .prima.test_emulator_wsdl_styles import names_for

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

Runner = Callable[..., tuple[int, str, str]]
SECRET_VARIABLE = "TEST_PROBE_CT_SECRET"


def in_process(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        code = main(list(argv), stdin=io.StringIO(), stdout=out, stderr=err)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return code, out.getvalue(), err.getvalue()


def as_program(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    done = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "ct_prima_sync.cli", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )
    return done.returncode, done.stdout, done.stderr


SETTINGS = """\
# Settings of the shop, kept by hand: the probe must leave this comment alone.
[state]
url = "sqlite:///{state}"

[commercetools]
project_key = "{project}"
api_url = "{ct_url}"
auth_url = "{ct_url}"
client_id = "{client_id}"
client_secret_env = "{secret}"

[prima]
endpoint = "{endpoint}"
rate_limit = 200  # the gateway allows more, but be gentle

[mapping]
file = "mapping.toml"

[engine]
initial_cursor = "{since}"
"""


@contextmanager
def _shop(tmp_path: Path, style: WsdlStyle) -> Iterator[tuple[SyncScenario, Path, str]]:
    """A commercetools fake and an installation speaking unusual names in ``style``, served."""
    scenario = build_scenario(orders=6, seed=11)
    emulator = PrimaEmulator(scenario.world, soap_names=names_for(style), wsdl_style=style)
    (tmp_path / "mapping.toml").write_text(SCENARIO_MAPPING_TOML, encoding="utf-8")
    with scenario.commercetools.serve() as ct_url, emulator.serve() as prima_url:
        endpoint = f"{prima_url}/live/live"
        settings = tmp_path / "sync.toml"
        settings.write_text(
            SETTINGS.format(
                state=tmp_path / "sync.db",
                project=scenario.commercetools.project_key,
                ct_url=ct_url,
                client_id=scenario.commercetools.client_id,
                secret=SECRET_VARIABLE,
                endpoint=endpoint,
                since=(scenario.first_order_at - timedelta(days=1)).isoformat(),
            ),
            encoding="utf-8",
        )
        yield scenario, settings, endpoint


def _the_proof(tmp_path: Path, style: WsdlStyle, run: Runner) -> None:
    with _shop(tmp_path, style) as (scenario, settings, endpoint):
        env = {SECRET_VARIABLE: scenario.commercetools.client_secret}

        code, out, err = run("run", "orders", "--config", str(settings), env=env)
        assert code == 2, err
        assert "Traceback" not in err
        last = err.strip().splitlines()[-1]
        assert last.startswith("ct-prima-sync: error: Prima's SOAP service refused")
        assert "do not match this installation's WSDL" in last
        assert "prima probe" in last
        assert scenario.world.orders() == []

        sku = str(scenario.world.skus()[0])
        code, out, err = run(
            "prima", "probe", "--endpoint", endpoint, "--sku", sku, "--write-settings",
            str(settings),
        )  # fmt: skip
        assert code == 0, out + err
        assert f"wrote [prima] and [prima.soap] to {settings}" in err
        written = tomllib.loads(settings.read_text(encoding="utf-8"))
        assert written["prima"]["soap"]["request_parameter"] == "pcRequestXML"
        assert written["prima"]["rate_limit"] == 200  # what was there stays
        assert settings.read_text(encoding="utf-8").startswith("# Settings of the shop")
        assert not any(r.kind.is_write for r in scenario.world.requests())

        code, out, err = run(
            "run", "orders", "--config", str(settings), "--format", "json", env=env
        )
        assert code == 0, err
        assert json.loads(out)["posted"] == len(scenario.good)
        assert {o.order_number for o in scenario.world.orders()} == set(scenario.good)


@pytest.mark.parametrize("style", list(WsdlStyle))
def test_probe_then_run_posts_orders_that_failed_before_in_every_style(
    tmp_path: Path, style: WsdlStyle
) -> None:
    _the_proof(tmp_path, style, in_process)


@pytest.mark.slow
@pytest.mark.parametrize("style", list(WsdlStyle))
def test_probe_then_run_as_programs_in_every_style(tmp_path: Path, style: WsdlStyle) -> None:
    """The same proof with the real command in subprocesses (the default run does it in process,
    and runs the probe as a program against dead and wrong endpoints below)."""
    _the_proof(tmp_path, style, as_program)


def test_the_json_report_and_skus_from_the_mapping(tmp_path: Path) -> None:
    mapping = tmp_path / "probe-mapping.toml"
    mapping.write_text(
        '[sku.table]\n"ct-tee" = "TEE1/BLK/M"\n"ct-sock" = "SOCK/WHT"\n', encoding="utf-8"
    )
    with _shop(tmp_path, WsdlStyle.DOCUMENT_QUALIFIED) as (scenario, _, endpoint):
        code, out, err = in_process(
            "prima", "probe", "--endpoint", endpoint, "--mapping", str(mapping), "--format", "json"
        )
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] is True
    assert report["soap"]["style"] == "document/literal"
    assert [p["kind"] for p in report["probes"]] == ["OrderStatus", "MultiAvailableToSell"]
    assert report["probes"][1]["asked"] == ["SOCK/WHT", "TEE1/BLK/M"]
    kinds = [r.kind for r in scenario.world.requests()]
    assert kinds == [PrimaRequestKind.ORDER_STATUS, PrimaRequestKind.AVAILABLE_TO_SELL]


def test_secrets_come_from_the_environment_and_only_their_names_are_written(
    tmp_path: Path,
) -> None:
    settings = tmp_path / "new.toml"
    with _shop(tmp_path, WsdlStyle.DOCUMENT_QUALIFIED) as (_, _, endpoint):
        code, out, err = in_process(
            "prima", "probe", "--endpoint", endpoint, "--username", "sync",
            "--password-env", "TEST_PROBE_PASSWORD", "--write-settings", str(settings),
            env={"TEST_PROBE_PASSWORD": "hunter2"},
        )  # fmt: skip
        assert code == 0, err
        text = settings.read_text(encoding="utf-8")
        assert 'password_env = "TEST_PROBE_PASSWORD"' in text
        assert "hunter2" not in text + out + err

        code, _, err = in_process(
            "prima", "probe", "--endpoint", endpoint, "--password-env", "NO_SUCH_PROBE_VARIABLE"
        )
    assert code == 2
    assert "NO_SUCH_PROBE_VARIABLE is not set" in err


def test_settings_that_cannot_be_merged_are_left_alone(tmp_path: Path) -> None:
    settings = tmp_path / "inline.toml"
    original = 'prima = { endpoint = "http://x" }\n'
    settings.write_text(original, encoding="utf-8")
    with _shop(tmp_path, WsdlStyle.DOCUMENT_QUALIFIED) as (_, _, endpoint):
        code, _, err = in_process(
            "prima", "probe", "--endpoint", endpoint, "--write-settings", str(settings)
        )
    assert code == 2
    assert "were not changed" in err
    assert settings.read_text(encoding="utf-8") == original


# -- dead and wrong endpoints, as programs ---------------------------------------------------------


def _page(status: str, content_type: str, body: bytes) -> Callable[..., list[bytes]]:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        start_response(status, [("Content-Type", content_type)])
        return [body]

    return app


@contextmanager
def _serving(app: Callable[..., list[bytes]]) -> Iterator[str]:
    with serve_wsgi(app, "127.0.0.1", 1.0) as url:
        yield url


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


WRONG_ENDPOINTS = [
    (
        _page("200 OK", "text/html", b"<html><title>Welcome to nginx!</title></html>"),
        "answered with an HTML page titled 'Welcome to nginx!' instead of a WSDL",
    ),
    (_page("404 Not Found", "text/plain", b"no such path"), "answered HTTP 404 Not Found"),
    (
        _page("200 OK", "text/xml", b"<health status='up'/>"),
        "answered something that is not a WSDL",
    ),
]


@pytest.mark.parametrize(("app", "found"), WRONG_ENDPOINTS)
def test_a_wrong_endpoint_ends_in_one_sentence_with_exit_2(
    app: Callable[..., list[bytes]], found: str
) -> None:
    with _serving(app) as url:
        code, out, err = in_process("prima", "probe", "--endpoint", f"{url}/live/live")
    _one_sentence(code, out, err, found)


@pytest.mark.slow
@pytest.mark.parametrize(("app", "found"), WRONG_ENDPOINTS)
def test_a_wrong_endpoint_ends_in_one_sentence_with_exit_2_as_a_program(
    app: Callable[..., list[bytes]], found: str
) -> None:
    with _serving(app) as url:
        code, out, err = as_program("prima", "probe", "--endpoint", f"{url}/live/live")
    _one_sentence(code, out, err, found)


def _one_sentence(code: int, out: str, err: str, found: str) -> None:
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("ct-prima-sync: error: ")
    assert found in err


def test_a_dead_endpoint_ends_in_one_sentence_with_exit_2() -> None:
    port = _closed_port()
    code, out, err = as_program("prima", "probe", "--endpoint", f"http://127.0.0.1:{port}/x/x")
    assert (code, out) == (2, "")
    assert err == (
        f"ct-prima-sync: error: nothing listens at 127.0.0.1:{port} (connection refused): "
        "check the host and port\n"
    )


def test_a_tls_failure_ends_in_one_sentence_with_exit_2() -> None:
    emulator = PrimaEmulator()
    with emulator.serve() as url:  # plain HTTP, asked for with https://
        code, out, err = as_program(
            "prima", "probe", "--endpoint", url.replace("http://", "https://") + "/live/live"
        )
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "the TLS handshake with 127.0.0.1:" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--endpoint", "ftp://prima/live"], "endpoint must be an http:// or https:// URL"),
        (
            ["--endpoint", "http://prima/x", "--sku", "/M"],
            "--sku '/M': a Prima SKU needs a product",
        ),
        (["--endpoint", "http://prima/x", "--product", " "], "--product needs a product code"),
        (["--endpoint", "http://prima/x", "--mapping", "/no/such/mapping.toml"], "cannot read"),
    ],
)
def test_usage_errors_are_one_sentence_and_nothing_is_sent(argv: list[str], message: str) -> None:
    code, out, err = in_process("prima", "probe", *argv)
    assert (code, out) == (2, "")
    assert err.startswith("ct-prima-sync: error: ")
    assert message in err
    assert err.count("\n") == 1
