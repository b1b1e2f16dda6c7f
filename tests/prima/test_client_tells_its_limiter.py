"""The omlink client tells its limiter how each request went (how long Prima took, whether it
struggled), so an adaptive budget can slow down; a request never sent is not reported."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import pytest

from ct_prima_sync.errors import PrimaRejectedError, PrimaUnavailableError
from ct_prima_sync.prima import FlowControl, ManualClock, OmlinkClient, OmlinkConfig
from ct_prima_sync.prima._xml import OmlinkCodec, SoapEnvelope


class _Told(FlowControl):
    def __init__(self, *, grant: bool = True) -> None:
        super().__init__(None, None)
        self.grant = grant
        self.told: list[tuple[str, float, bool]] = []

    @contextlib.contextmanager
    def slot(
        self, max_wait: float | None = None, request_type: str | None = None
    ) -> Iterator[bool]:
        yield self.grant

    def observe(self, request_type: str, *, seconds: float, struggled: bool) -> None:
        self.told.append((request_type, seconds, struggled))


def _client(answer: httpx.Response | Exception, flow: FlowControl) -> OmlinkClient:
    clock = ManualClock()

    def handler(_request: httpx.Request) -> httpx.Response:
        clock.advance(0.25)  # Prima takes a quarter second
        if isinstance(answer, Exception):
            raise answer
        return answer

    config = OmlinkConfig(endpoint="http://prima.test/omlink")
    return OmlinkClient(
        config, transport=httpx.MockTransport(handler), flow=flow, clock=clock, sleep=clock.sleep
    )


def _ok() -> httpx.Response:
    reply = OmlinkCodec().encode_depot_list_reply([])
    return httpx.Response(200, content=SoapEnvelope().wrap_reply(reply))


@pytest.mark.parametrize(
    ("answer", "struggled"),
    [
        (_ok(), False),
        (httpx.Response(429, headers={"Retry-After": "0"}), True),
        (httpx.Response(503), True),
        (httpx.ReadTimeout("slow"), True),
    ],
    ids=["answered", "429", "503", "timeout"],
)
def test_each_request_sent_is_reported_with_its_time_and_whether_prima_struggled(
    answer: httpx.Response | Exception, struggled: bool
) -> None:
    flow = _Told()
    client = _client(answer, flow)
    with contextlib.suppress(PrimaUnavailableError):
        client.list_depots()
    assert flow.told
    request_type, seconds, seen = flow.told[0]
    assert request_type == "DepotList"
    assert seconds == pytest.approx(0.25)
    assert seen is struggled


def test_a_refusal_is_an_answer_not_a_struggle() -> None:
    flow = _Told()
    reply = OmlinkCodec().encode_error_reply("DepotList", "no such depot list")
    client = _client(httpx.Response(200, content=SoapEnvelope().wrap_reply(reply)), flow)
    with pytest.raises(PrimaRejectedError):
        client.list_depots()
    assert [seen for _, _, seen in flow.told] == [False]


def test_a_request_the_limiter_held_back_is_not_reported() -> None:
    flow = _Told(grant=False)
    with pytest.raises(PrimaUnavailableError, match="not sent"):
        _client(_ok(), flow).list_depots()
    assert flow.told == []
