"""The ASGI app commercetools calls as an API Extension (``POST /``, an ``ExtensionInput``).

Answers (docs/checkout.md):

- 200 ``{"actions": []}``: the cart or order may go on (also past the deadline, failing open);
- 400 ``{"errors": [ExtensionError, ...]}``: refused, each error with ``InvalidInput``, a message
  the shop can show and ``extensionExtraInfo`` naming the issue, line and configuration hash;
  a body that is not an ExtensionInput is refused the same way (never a 500);
- 401: the ``Authorization`` header is not the one registered.

The check runs in a worker thread under a deadline ``deadline_margin_ms`` (at least 300 ms)
before the Extension's ``timeoutInMs``. Past it the answer is "valid" with a warning logged
(``fail_open``, the default: a slow check never costs a sale) or, with ``fail_open = false``, a
refusal; a check that fails with an error of the guard's own is answered the same way. Prima is
never called: the check uses the cached mapping configuration and, when the stock check is on,
the state store's last stock snapshot.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..mapping._checkout import (
    CheckoutConfig,
    CheckoutVerdict,
    ExtensionError,
    StockCheck,
    validate_checkout,
)
from ..state import StateStore
from ._cache import Clock, RefreshingValue, StockCache
from ._input import MAX_INPUT_BYTES, BadInput, read_extension_input
from ._settings import CheckoutSettings

__all__ = ["Validator", "app"]

_LOG = logging.getLogger("ct_prima_sync.checkout")

#: The validator the app calls (``validate_checkout``'s signature); tests inject a slow one.
Validator = Callable[..., CheckoutVerdict]


def _invalid(message: str, path: str = "") -> JSONResponse:
    error = ExtensionError(
        message=message,
        extra_info={"issueCode": "INVALID_INPUT", **({"path": path} if path else {})},
    )
    return JSONResponse({"errors": [error.to_json()]}, status_code=400)


class _Checkout:
    def __init__(
        self,
        *,
        config: RefreshingValue[CheckoutConfig],
        stock: StockCache | None,
        settings: CheckoutSettings,
        authorization: str | None,
        validator: Validator,
        clock: Clock,
    ) -> None:
        self.config = config
        self.stock = stock
        self.settings = settings
        self.authorization = authorization
        self.validator = validator
        self.clock = clock
        self.late = 0
        """Calls answered by the deadline policy instead of a verdict."""
        self.failed = 0
        """Calls whose check raised (answered by the same policy, logged with the traceback)."""

    def _authorised(self, request: Request) -> bool:
        if self.authorization is None:
            return True
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), self.authorization.encode())

    def _check(self, obj: Mapping[str, Any], kind: Literal["cart", "order"]) -> CheckoutVerdict:
        config = self.config.get()
        stock = None
        if self.stock is not None and config.stock is not StockCheck.OFF:
            stock = self.stock.view()
        return self.validator(obj, config, stock=stock, resource=kind)

    async def handle(self, request: Request) -> Response:
        """Answer one extension call."""
        started = self.clock()
        if not self._authorised(request):
            _LOG.warning("checkout: refused a call without the registered Authorization header")
            return JSONResponse(
                {"errors": [{"code": "Unauthorized", "message": "wrong Authorization header"}]},
                status_code=401,
            )
        body = await request.body()
        if len(body) > MAX_INPUT_BYTES:
            return _invalid(f"the input is larger than {MAX_INPUT_BYTES:,} bytes")
        call = read_extension_input(body)
        if isinstance(call, BadInput):
            _LOG.info("checkout: not an ExtensionInput: %s", call.message)
            return _invalid(call.message, call.path)
        verdict: CheckoutVerdict | None = None
        try:
            with anyio.move_on_after(self.settings.deadline_seconds):
                verdict = await anyio.to_thread.run_sync(
                    self._check, call.obj, call.type_id, abandon_on_cancel=True
                )
        except Exception as exc:
            # A fault of the guard's own must not stop the shop: answered as a late check is.
            self.failed += 1
            _LOG.error(
                "checkout: checking %s %s failed (%s)",
                call.type_id,
                call.resource_id,
                type(exc).__name__,
                exc_info=True,
            )
            return self._late(call.type_id, call.resource_id, reason="could not be checked")
        if verdict is None:
            return self._late(call.type_id, call.resource_id)
        status, answer = verdict.to_response()
        elapsed_ms = (self.clock() - started) * 1000
        if verdict.ok:
            if verdict.warnings:
                _LOG.warning(
                    "checkout: %s %s passes with a stock warning (%s)",
                    call.type_id,
                    call.resource_id,
                    ", ".join(str(w.extra_info.get("sku", "")) for w in verdict.warnings),
                )
            _LOG.debug(
                "checkout: %s %s valid in %.1f ms (configuration %s)",
                call.type_id,
                call.resource_id,
                elapsed_ms,
                verdict.config_hash,
            )
        else:
            _LOG.info(
                "checkout: refused %s %s: %s (configuration %s)",
                call.type_id,
                call.resource_id,
                ", ".join(sorted({str(e.extra_info.get("issueCode")) for e in verdict.errors})),
                verdict.config_hash,
            )
        return JSONResponse(answer, status_code=status)

    def _late(self, kind: str, resource_id: str | None, *, reason: str = "") -> Response:
        self.late += 1
        why = reason or f"not checked within {self.settings.deadline_seconds * 1000:.0f} ms"
        if self.settings.fail_open:
            _LOG.warning(
                "checkout: %s %s %s; accepted (fail open): the order run will still check it",
                kind,
                resource_id,
                why,
            )
            return JSONResponse({"actions": []}, status_code=200)
        _LOG.warning("checkout: %s %s %s; refused (fail closed)", kind, resource_id, why)
        error = ExtensionError(
            message="The order could not be checked in time; please try again.",
            extra_info={"issueCode": "CHECK_TIMED_OUT"},
        )
        return JSONResponse({"errors": [error.to_json()]}, status_code=400)


def app(
    config: CheckoutConfig | Callable[[], CheckoutConfig],
    store: StateStore | None = None,
    *,
    settings: CheckoutSettings | None = None,
    authorization: str | None,
    validator: Validator = validate_checkout,
    clock: Clock = time.monotonic,
    spawn: Callable[[Callable[[], None]], None] | None = None,
) -> Starlette:
    """The checkout extension as an ASGI app (Starlette; the ``checkout`` extra).

    ``config`` is the validator's configuration, or a function that loads it (called now, then
    again in the background every ``settings.refresh_seconds``; a failed reload keeps the last
    good one). ``store`` is the state store whose stock snapshot the stock check reads (needed
    only when the check is on). ``authorization`` is the exact ``Authorization`` header value
    commercetools must send; ``None`` turns the check off (for local tests only).
    ``validator``, ``clock`` and ``spawn`` (how background refreshes start) are for tests.
    """
    settings = settings or CheckoutSettings()
    source = config if callable(config) else (lambda: config)
    in_use: list[str] = []

    def load() -> CheckoutConfig:
        loaded = source()
        if in_use and in_use[-1] != loaded.mapping_hash:
            _LOG.warning(
                "checkout: the mapping configuration changed (%s, was %s): verdicts from now on "
                "carry the new hash",
                loaded.mapping_hash,
                in_use[-1],
            )
        in_use.append(loaded.mapping_hash)
        del in_use[:-1]
        return loaded

    cached = RefreshingValue(load, every=settings.refresh_seconds, clock=clock, spawn=spawn)
    stock = (
        StockCache(store, every=settings.stock_refresh_seconds, clock=clock, spawn=spawn)
        if store is not None
        else None
    )
    checkout = _Checkout(
        config=cached,
        stock=stock,
        settings=settings,
        authorization=authorization,
        validator=validator,
        clock=clock,
    )
    application = Starlette(routes=[Route("/", checkout.handle, methods=["POST"])])
    application.state.checkout = checkout
    return application
