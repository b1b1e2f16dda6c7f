"""Backends the contract tests run against: FakeCommercetools and an independent peer.

The peer is ``commercetools.testing`` from the ``commercetools`` PyPI package (a community SDK's
WSGI mock of the API), served for real by werkzeug on 127.0.0.1. It routes on the Host header,
which must be ``localhost``. Where the peer is known to be wrong (see
shared/reference/commercetools.md), a test marks only the peer case as ``xfail`` and names the bug.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from ct_prima_sync.commercetools import CommercetoolsClient, CommercetoolsConfig
from ct_prima_sync.testing import FakeCommercetools

PROJECT = "contract-project"
CLIENT_ID = "contract-client"
CLIENT_SECRET = "contract-secret"


def _no_sleep(seconds: float) -> None:
    """Contract tests never wait for real time."""


class Backend:
    """One implementation of the API under test, with a raw httpx client (not yet authorised)."""

    def __init__(
        self,
        name: str,
        base_url: str,
        transport: httpx.BaseTransport | None,
        headers: dict[str, str],
    ) -> None:
        self.name = name
        self.base_url = base_url
        self.transport = transport
        self.headers = headers
        self.project = PROJECT
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self._owned: list[httpx.Client] = []

    @property
    def is_peer(self) -> bool:
        return self.name == "peer"

    def http(self) -> httpx.Client:
        """A fresh raw client for this backend."""
        return httpx.Client(base_url=self.base_url, transport=self.transport, headers=self.headers)

    def client(self) -> CommercetoolsClient:
        """The library's real client, configured for this backend; sleeps are skipped."""
        config = CommercetoolsConfig(
            project_key=PROJECT,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            api_url=self.base_url,
            auth_url=self.base_url,
            scopes=(f"manage_project:{PROJECT}",),
        )
        if self.transport is not None:
            return CommercetoolsClient(config, transport=self.transport, sleep=_no_sleep)
        http = httpx.Client(headers=self.headers)
        self._owned.append(http)
        return CommercetoolsClient(config, http_client=http, sleep=_no_sleep)

    def close(self) -> None:
        """Close the raw clients this backend made for library clients."""
        for http in self._owned:
            http.close()

    def peer_bug(self, request: pytest.FixtureRequest, reason: str, *, strict: bool = True) -> None:
        """Mark the running test as an expected failure, on the peer only, naming its bug."""
        if self.is_peer:
            request.applymarker(pytest.mark.xfail(reason=f"peer bug: {reason}", strict=strict))


class _Dispatch:
    """A WSGI app that forwards to a replaceable app: one server, a fresh backend per test."""

    def __init__(self) -> None:
        self.app: Callable[..., Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)


def _serve(dispatch: _Dispatch) -> Iterator[str]:
    werkzeug_serving = pytest.importorskip("werkzeug.serving")
    server = werkzeug_serving.make_server("127.0.0.1", 0, dispatch, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture(scope="session")
def _peer_server() -> Iterator[tuple[str, _Dispatch]]:
    pytest.importorskip("commercetools.testing.server")
    dispatch = _Dispatch()
    for base_url in _serve(dispatch):
        yield base_url, dispatch


@pytest.fixture(scope="session")
def _fake_server() -> Iterator[tuple[str, _Dispatch]]:
    dispatch = _Dispatch()
    for base_url in _serve(dispatch):
        yield base_url, dispatch


@pytest.fixture(params=["fake", "fake-http", pytest.param("peer", marks=pytest.mark.peer)])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Each contract test runs once per backend, against fresh state.

    ``fake`` is mounted in process; ``fake-http`` is the same app served over HTTP by werkzeug.
    """
    if request.param.startswith("fake"):
        fake = FakeCommercetools(
            project_key=PROJECT, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, seed=11
        )
        if request.param == "fake":
            fake_backend = Backend("fake", fake.base_url, fake.transport(), {})
        else:
            base_url, dispatch = request.getfixturevalue("_fake_server")
            dispatch.app = fake.app
            fake_backend = Backend("fake-http", base_url, None, {})
        yield fake_backend
        fake_backend.close()
        return
    from commercetools.testing.server import Server

    base_url, dispatch = request.getfixturevalue("_peer_server")
    dispatch.app = Server()  # type: ignore[no-untyped-call]
    peer = Backend("peer", base_url, None, {"Host": "localhost"})
    yield peer
    peer.close()
    dispatch.app = None


@pytest.fixture
def api(backend: Backend) -> Iterator[httpx.Client]:
    """A raw client holding a token from the backend's token endpoint."""
    with backend.http() as http:
        reply = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": f"manage_project:{PROJECT}"},
            auth=(CLIENT_ID, CLIENT_SECRET),
        )
        assert reply.status_code == 200, reply.text
        http.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"
        yield http
