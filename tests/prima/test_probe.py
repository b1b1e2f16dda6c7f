"""probe_prima against the emulator: derive the names, send only reads, report, propose settings."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from attrs import evolve

from ct_prima_sync.errors import PayloadError, PrimaProtocolError
from ct_prima_sync.prima import (
    ManualClock,
    OmlinkClient,
    OmlinkConfig,
    OrderStatus,
    SkuCode,
    SoapNames,
)
from ct_prima_sync.prima._probe import ProbeKind, ProbeReport, probe_prima
from ct_prima_sync.testing import (
    PrimaEmulator,
    PrimaFault,
    PrimaFaultKind,
    PrimaFaultPlan,
    PrimaRequestKind,
    PrimaWorld,
    WsdlStyle,
    make_sales_order,
    wsdl_for,
)

from .test_emulator_wsdl_styles import ENDPOINT, TEE, names_for

SOCKS = SkuCode(product="SOCK", matrix=("WHT",))


def _world(*, per_depot: bool = True) -> PrimaWorld:
    world = PrimaWorld(per_depot_stock=per_depot)
    world.add_depot("WH1", "Main")
    for sku, count in ((TEE, 7), (SOCKS, 0)):
        world.add_product(sku)
        world.set_stock(sku, "WH1", count)
    return world


def _config_from(report: ProbeReport) -> OmlinkConfig:
    """The client configuration the report's settings describe (as the settings file reads)."""
    prima = dict(report.settings["prima"])
    return OmlinkConfig(**prima, soap=SoapNames(**report.settings["prima.soap"]))  # type: ignore[arg-type]


@pytest.mark.parametrize("style", list(WsdlStyle))
def test_the_probe_reads_each_style_and_its_settings_make_a_working_client(
    style: WsdlStyle,
) -> None:
    names = names_for(style)
    world = _world()
    emulator = PrimaEmulator(world, soap_names=names, wsdl_style=style)
    report = probe_prima(
        ENDPOINT, skus=[TEE, SOCKS], products=["TEE1"], transport=emulator.transport()
    )
    assert report.ok, report.render()
    assert report.soap.names == names
    assert [step.kind for step in report.steps] == list(ProbeKind)
    with OmlinkClient(_config_from(report), transport=emulator.transport()) as client:
        assert client.order_status("NEVER-SENT").status is OrderStatus.UNKNOWN_TO_PRIMA
        (result,) = client.submit_orders([make_sales_order("CT-9", [(TEE, 1, "WH1")])])
        assert result.accepted


def test_the_probe_sends_nothing_that_writes() -> None:
    world = _world()
    emulator = PrimaEmulator(world, soap_names=names_for(WsdlStyle.RPC_LITERAL))
    probe_prima(ENDPOINT, skus=[TEE], products=["TEE1", "SOCK"], transport=emulator.transport())
    received = world.requests()
    assert not any(record.kind.is_write for record in received)
    assert [record.kind for record in received] == [
        PrimaRequestKind.ORDER_STATUS,
        PrimaRequestKind.AVAILABLE_TO_SELL,
        PrimaRequestKind.CATALOGUE_AVAILABLE_TO_SELL,
        PrimaRequestKind.CATALOGUE_AVAILABLE_TO_SELL,
    ]
    # One product at a time, never the open range (the whole catalogue).
    assert [r.keys for r in received[2:]] == [("TEE1", "TEE1"), ("SOCK", "SOCK")]
    assert world.orders() == []


def test_the_report_shows_where_the_status_sits_and_offers_the_unknown_order_text() -> None:
    report = probe_prima(ENDPOINT, skus=[TEE], transport=PrimaEmulator(_world()).transport())
    status, stock = report.steps
    assert status.reply is not None
    assert status.reply.status == "ERROR"
    assert status.reply.status_at.endswith("@RequestStatus")
    assert status.offers == {"unknown_order_error": "Order not found"}
    assert stock.reply is not None
    assert (stock.reply.rows, stock.library) == (1, "1 stock row(s)")
    prima = report.settings["prima"]
    assert prima["unknown_order_error"] == "Order not found"
    assert prima["encoding"] == "ISO-8859-1"
    assert prima["ats_per_depot"] is True
    assert "company_id" not in prima
    assert any("ProductAvailableToSell not probed" in s for s in report.skipped)
    assert any("comwsomhandler" in q for q in report.questions)
    json.dumps(report.as_dict())  # the --format json output
    assert "Ask the Prima administrator" in report.render()


def test_stock_summed_per_sku_offers_ats_per_depot_false() -> None:
    world = _world(per_depot=False)
    report = probe_prima(ENDPOINT, skus=[TEE], transport=PrimaEmulator(world).transport())
    assert report.settings["prima"]["ats_per_depot"] is False


def test_a_sku_prima_does_not_know_is_noted() -> None:
    ghost = SkuCode(product="GHOST")
    report = probe_prima(ENDPOINT, skus=[ghost], transport=PrimaEmulator(_world()).transport())
    assert "no stock row came back for GHOST" in report.steps[1].notes


def test_a_company_id_probes_through_the_company_operation() -> None:
    names = names_for(WsdlStyle.DOCUMENT_QUALIFIED)
    emulator = PrimaEmulator(_world(), soap_names=names)
    bodies: list[bytes] = []
    inner = emulator.transport()

    def record(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        return inner.handle_request(request)

    report = probe_prima(ENDPOINT, company_id="02", transport=httpx.MockTransport(record))
    assert report.ok
    assert report.settings["prima"]["company_id"] == "02"
    assert all(b"comwsomhandler" in body and b">02<" in body for body in bodies[1:])
    assert not any("--company-id" in q for q in report.questions)


def test_latency_is_measured_and_a_slow_service_gets_a_longer_read_timeout() -> None:
    clock = ManualClock()
    faults = PrimaFaultPlan()
    faults.script(PrimaRequestKind.ORDER_STATUS, PrimaFault(kind=PrimaFaultKind.LATENCY, delay=9.0))
    emulator = PrimaEmulator(_world(), faults=faults, sleep=clock.sleep)
    report = probe_prima(ENDPOINT, transport=emulator.transport(), clock=clock)
    assert report.steps[0].latency_ms == 9000.0
    assert report.settings["prima"]["read_timeout"] == 90.0


def test_a_quick_service_keeps_the_default_read_timeout() -> None:
    report = probe_prima(ENDPOINT, transport=PrimaEmulator(_world()).transport())
    assert "read_timeout" not in report.settings["prima"]


def test_a_location_other_than_the_address_asked_is_reported() -> None:
    emulator = PrimaEmulator(_world(), wsdl_location="http://prima-internal:8080/live/live")
    report = probe_prima(ENDPOINT, transport=emulator.transport())
    assert report.wsdl.location == "http://prima-internal:8080/live/live"
    assert any("prima-internal" in note and ENDPOINT in note for note in report.notes)
    assert report.settings["prima"]["endpoint"] == ENDPOINT


def test_a_wsdl_that_does_not_match_the_service_shows_in_the_failed_requests() -> None:
    served = names_for(WsdlStyle.DOCUMENT_QUALIFIED)
    emulator = PrimaEmulator(_world(), soap_names=served)
    published = wsdl_for(evolve(served, request_parameter="Other"), ENDPOINT)
    inner = emulator.transport()

    def lying(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, content=published)
        return inner.handle_request(request)

    report = probe_prima(ENDPOINT, transport=httpx.MockTransport(lying))
    assert not report.ok
    (step,) = report.steps
    assert "refused the call made with the names read from the WSDL" in step.outcome
    assert "pcRequestXML" in step.outcome


def _answering(response: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: response


@pytest.mark.parametrize(
    ("response", "sentence"),
    [
        (
            httpx.Response(
                404,
                html="<html><head><title>Apache Tomcat - Error report</title></head></html>",
            ),
            "answered HTTP 404 Not Found titled 'Apache Tomcat - Error report' instead of a "
            "WSDL: check the instance path",
        ),
        (
            httpx.Response(200, html="<html><head><title>Sign in</title></head><body/></html>"),
            "answered with an HTML page titled 'Sign in' instead of a WSDL",
        ),
        (httpx.Response(200, content=b""), "answered HTTP 200 OK with an empty body"),
        (
            httpx.Response(200, content=b"<status>up</status>"),
            "answered something that is not a WSDL: not a WSDL: the document's root element "
            "is <status>",
        ),
        (
            httpx.Response(200, content=b"Service is running"),
            "answered something that is not a WSDL: not well-formed XML",
        ),
        (
            httpx.Response(
                200,
                content=wsdl_for(
                    evolve(SoapNames(), operation="ping", company_operation="pong"), ENDPOINT
                ),
            ),
            "describes no omlink operation (wsomhandler, comwsomhandler); its operations: "
            "ping, pong",
        ),
    ],
)
def test_a_wrong_endpoint_ends_in_one_sentence_saying_what_was_found(
    response: httpx.Response, sentence: str
) -> None:
    with pytest.raises(PrimaProtocolError) as caught:
        probe_prima(ENDPOINT, transport=httpx.MockTransport(_answering(response)))
    message = str(caught.value)
    assert sentence in message
    assert "\n" not in message


def test_a_redirect_to_a_login_page_names_where_it_led() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/login":
            return httpx.Response(200, html="<html><title>Login</title></html>")
        return httpx.Response(302, headers={"Location": "http://prima.test/login"})

    with pytest.raises(PrimaProtocolError, match=r"redirected to http://prima\.test/login"):
        probe_prima(ENDPOINT, transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"products": [" "]}, "needs a code"),
        ({"skus": [TEE] * 21}, "at most 20 SKUs"),
        ({"products": ["A", "B", "C", "D", "E", "F"]}, "at most 5 products"),
    ],
)
def test_bad_probe_arguments_are_refused_before_anything_is_sent(
    kwargs: dict[str, object], message: str
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500)

    with pytest.raises(PayloadError, match=message):
        probe_prima(ENDPOINT, transport=httpx.MockTransport(handler), **kwargs)  # type: ignore[arg-type]
    assert seen == []


def test_the_first_contact_example_in_the_docs_runs_as_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    docs = Path(__file__).parents[2] / "docs" / "prima.md"
    blocks = re.findall(r"```python\n(.*?)```", docs.read_text(encoding="utf-8"), re.DOTALL)
    (example,) = [block for block in blocks if "probe_prima" in block]
    exec(compile(example, str(docs), "exec"), {})  # noqa: S102 (our own documentation)
    assert "Read-only requests (nothing that writes was sent):" in capsys.readouterr().out
