"""The webhook: commercetools subscription deliveries in, one Celery task each.

commercetools delivers subscription messages to a queue or event bus (Google Pub/Sub, AWS
EventBridge or SNS, Azure Event Grid, ...), and each of those can push to an HTTPS endpoint with a
header of your choosing. This app is that endpoint::

    CT_PRIMA_SYNC_WEBHOOK_SECRET=... uvicorn --factory sync_service.webhook:create_app

- ``POST /commercetools/deliveries``: the delivery as JSON, either the payload itself (a
  ``Platform`` or ``CloudEvents`` subscription format, handed on as it is) or a Pub/Sub push
  envelope (``{"message": {"data": base64}}``, unwrapped). It must carry the header
  ``X-Ct-Prima-Sync-Secret`` with the shared secret; anything else is refused with 401, and
  nothing is queued. 202 once the task is queued; 503 when the broker cannot take it, so the
  sender delivers again later.
- ``GET /healthz``: 200 (for the load balancer).

The secret is compared in constant time and never logged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SECRET_ENV: Final = "CT_PRIMA_SYNC_WEBHOOK_SECRET"  # noqa: S105 (a variable name)
SECRET_HEADER: Final = "X-Ct-Prima-Sync-Secret"  # noqa: S105 (a header name)
#: commercetools' largest message (an ``OrderCreated`` with its whole order) is well below this.
MAX_BODY_BYTES: Final = 2 * 1024 * 1024
MIN_SECRET_LENGTH: Final = 16

_log = logging.getLogger("sync_service.webhook")

Enqueue = Callable[[Mapping[str, Any]], str]


def _celery_enqueue(payload: Mapping[str, Any]) -> str:
    from .tasks import handle_delivery  # noqa: PLC0415 (tests give their own enqueue)

    return str(handle_delivery.delay(dict(payload)).id)


def create_app(*, secret: str | None = None, enqueue: Enqueue | None = None) -> Starlette:
    """The webhook app. ``secret`` defaults to ``$CT_PRIMA_SYNC_WEBHOOK_SECRET`` (required, at
    least 16 characters); ``enqueue`` (queue one payload, return its task id) to the Celery task.
    """
    if secret is None:
        secret = os.environ.get(SECRET_ENV, "")
    if len(secret) < MIN_SECRET_LENGTH:
        raise RuntimeError(
            f"set {SECRET_ENV} to a shared secret of at least {MIN_SECRET_LENGTH} characters "
            "(python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    expected = secret.encode("utf-8")
    send = enqueue or _celery_enqueue

    async def deliveries(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if not hmac.compare_digest(given, expected):
            _log.warning("refused a delivery without the shared secret from %s", _peer(request))
            return JSONResponse({"error": "unauthorised"}, status_code=401)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "body too large"}, status_code=413)
        payload = _payload(body)
        if payload is None:
            _log.warning("refused a delivery that is not a JSON object (%d bytes)", len(body))
            return JSONResponse({"error": "expected a JSON object"}, status_code=400)
        try:
            task_id = send(payload)
        except Exception as error:  # the broker is down or refuses: let the sender retry
            _log.error("could not queue a delivery: %s", type(error).__name__)
            return JSONResponse({"error": "queue unavailable"}, status_code=503)
        return JSONResponse({"queued": task_id}, status_code=202)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/commercetools/deliveries", deliveries, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def _payload(body: bytes) -> dict[str, Any] | None:
    """The subscription payload of a delivery body, or None when it is not one."""
    try:
        decoded = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(decoded, dict):
        return None
    message = decoded.get("message")
    if isinstance(message, dict) and isinstance(message.get("data"), str):  # Pub/Sub push
        try:
            inner = json.loads(base64.b64decode(message["data"], validate=True))
        except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
            return None
        return inner if isinstance(inner, dict) else None
    return decoded


def _peer(request: Request) -> str:
    return request.client.host if request.client else "an unknown peer"
