"""The Celery example's webhook: deliveries with the shared secret are queued, every other
request is refused and queues nothing, and the secret never reaches the log."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from sync_service.webhook import SECRET_ENV, SECRET_HEADER, create_app

SECRET = "a-shared-secret-of-some-length"
ORDER_CREATED = {
    "notificationType": "Message",
    "projectKey": "my-shop",
    "id": "m-1",
    "sequenceNumber": 1,
    "resource": {"typeId": "order", "id": "o-1"},
    "resourceVersion": 1,
    "type": "OrderCreated",
}


class Queue:
    """What the webhook queued, in order; ``down`` makes it refuse like a broker that is down."""

    def __init__(self, *, down: bool = False) -> None:
        self.queued: list[Mapping[str, Any]] = []
        self.down = down

    def __call__(self, payload: Mapping[str, Any]) -> str:
        if self.down:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379")
        self.queued.append(payload)
        return f"task-{len(self.queued)}"


def post(queue: Queue, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
    app = create_app(secret=SECRET, enqueue=queue)

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://webhook") as client:
            return await client.post("/commercetools/deliveries", content=body, headers=headers)

    return asyncio.run(send())


def authorised(**extra: str) -> dict[str, str]:
    return {SECRET_HEADER: SECRET, "Content-Type": "application/json", **extra}


def test_a_delivery_with_the_secret_is_queued_as_it_came() -> None:
    queue = Queue()
    response = post(queue, json.dumps(ORDER_CREATED).encode(), authorised())
    assert response.status_code == 202
    assert response.json() == {"queued": "task-1"}
    assert queue.queued == [ORDER_CREATED]


def test_a_pubsub_push_envelope_is_unwrapped() -> None:
    queue = Queue()
    data = base64.b64encode(json.dumps(ORDER_CREATED).encode()).decode()
    envelope = {"message": {"data": data, "messageId": "1"}, "subscription": "projects/p/s"}
    assert post(queue, json.dumps(envelope).encode(), authorised()).status_code == 202
    assert queue.queued == [ORDER_CREATED]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SECRET_HEADER: ""},
        {SECRET_HEADER: "wrong"},
        {SECRET_HEADER: SECRET[:-1]},
        {SECRET_HEADER: SECRET + "x"},
        {"Authorization": f"Bearer {SECRET}"},
    ],
    ids=["none", "empty", "wrong", "prefix", "longer", "other-header"],
)
def test_a_delivery_without_the_secret_is_refused_and_queues_nothing(
    headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    queue = Queue()
    with caplog.at_level(logging.DEBUG):
        response = post(queue, json.dumps(ORDER_CREATED).encode(), headers)
    assert response.status_code == 401
    assert queue.queued == []
    assert SECRET not in caplog.text
    assert SECRET not in response.text


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'"text"', b"\xff\xfe", b'{"message": {"data": "%%%"}}'],
    ids=["text", "list", "string", "bytes", "bad-base64"],
)
def test_a_body_that_is_not_a_delivery_is_refused(body: bytes) -> None:
    queue = Queue()
    response = post(queue, body, authorised())
    assert response.status_code == 400
    assert queue.queued == []


def test_a_body_too_large_is_refused() -> None:
    queue = Queue()
    response = post(queue, b"{" + b" " * (3 * 1024 * 1024) + b"}", authorised())
    assert response.status_code == 413
    assert queue.queued == []


def test_when_the_broker_is_down_the_sender_is_told_to_deliver_again() -> None:
    response = post(Queue(down=True), json.dumps(ORDER_CREATED).encode(), authorised())
    assert response.status_code == 503


def test_the_webhook_does_not_start_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    with pytest.raises(RuntimeError, match=SECRET_ENV):
        create_app(enqueue=Queue())
    monkeypatch.setenv(SECRET_ENV, "short")
    with pytest.raises(RuntimeError, match="at least 16"):
        create_app(enqueue=Queue())
