"""The omlink client: PrimaGateway over SOAP/XML with httpx.

Lifecycle: a context manager; ``close()`` is idempotent and a closed client refuses work. The
transport is the only I/O seam: pass an ``httpx.Client`` (not closed by this client) or an
``httpx`` transport (``MockTransport``, ``WSGITransport``).

What failures mean (``docs/prima.md`` has the table):

- no connection, connect timeout, no rate-limit slot within ``max_wait``, HTTP 429: surely not
  applied (``PrimaUnavailableError.may_have_been_applied`` False);
- read timeout, connection reset after sending, HTTP 5xx, SOAP Server fault: may have been applied;
- ``RequestStatus="ERROR"`` or a SOAP Client fault: :class:`PrimaRejectedError`;
- anything unreadable: :class:`PrimaProtocolError`.

Read-only requests are retried with backoff (honouring ``Retry-After``). Order submission,
customer creation and journal posting are sent once: the caller resolves ambiguity (the engine
asks ``order_status`` before sending an order again).
"""

from __future__ import annotations

import logging
import os
import random as _random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from http.cookiejar import CookieJar
from typing import TypeVar

import httpx
from attrs import evolve

from ..errors import (
    PayloadError,
    PrimaProtocolError,
    PrimaRateLimitedError,
    PrimaRejectedError,
    PrimaReplyTooLargeError,
    PrimaUnavailableError,
)
from ._ats import iter_catalogue_chunks, total_per_sku
from ._config import OmlinkConfig
from ._flow import ConcurrencyLimiter, FlowControl, RateLimiter
from ._models import (
    CustomerDetails,
    Depot,
    DespatchDetails,
    JournalBatch,
    JournalPostingResult,
    OrderStatus,
    OrderStatusReport,
    PrimaCustomer,
    SalesOrder,
    SkuCode,
    StockLevel,
    SubmitResult,
)
from ._order_changes import ReturnLine
from ._retry import classify_status, classify_transport_error, retry_delay
from ._xml import (
    AtsRangeRequest,
    AtsSkusRequest,
    CancelOrderRequest,
    CustomerCreateRequest,
    CustomerFindRequest,
    DepotListRequest,
    DespatchDetailsRequest,
    OmlinkCodec,
    OmlinkRequest,
    OrderReturnRequest,
    OrderStatusRequest,
    PostJournalRequest,
    SoapEnvelope,
    SubmitOrdersRequest,
)

__all__ = ["OmlinkClient", "random_unique_id"]

_T = TypeVar("_T")
_LOG = logging.getLogger("ct_prima_sync.prima")


#: The response headers that can set a cookie (``http.cookiejar`` reads these two, in any case).
_SET_COOKIE = frozenset({b"set-cookie", b"set-cookie2"})


class _SetCookieJar(httpx.Cookies):
    """The cookie jar of the HTTP client an :class:`OmlinkClient` makes for itself: httpx's own,
    except that a response without a ``Set-Cookie`` (or ``Set-Cookie2``) header is not handed to
    ``http.cookiejar``, which would find nothing in it after building a copy of its headers and
    of its request (about a tenth of a request's CPU). Cookies Prima (or a gateway in front of
    it) sets are kept and sent back as before."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if any(key.lower() in _SET_COOKIE for key, _ in response.headers.raw):
            super().extract_cookies(response)


class _OmlinkHttp(httpx.Client):
    """The HTTP client an :class:`OmlinkClient` makes for itself: an ``httpx.Client`` whose jar is
    a :class:`_SetCookieJar` (also after ``cookies`` is set)."""

    def __init__(self, *, transport: httpx.BaseTransport | None, timeout: httpx.Timeout) -> None:
        super().__init__(transport=transport, timeout=timeout)
        self._jar = _SetCookieJar(super().cookies)

    @property
    def cookies(self) -> httpx.Cookies:
        """The cookies kept (as ``httpx.Client.cookies``)."""
        return self._jar

    @cookies.setter
    def cookies(
        self, cookies: httpx.Cookies | CookieJar | dict[str, str] | list[tuple[str, str]]
    ) -> None:
        self._jar = _SetCookieJar(cookies)


def random_unique_id() -> str:
    """A random version-4 UUID in hex, as ``uuid.uuid4().hex`` (without building a ``UUID``)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 4122 variant
    return raw.hex()


class OmlinkClient:
    """A :class:`~ct_prima_sync.prima.PrimaGateway` speaking Prima's omlink web service.

    Thread-safe: one client (and its rate limit and concurrency cap) can serve a thread pool.
    ``clock``, ``sleep`` and ``random`` drive the flow control and retry backoff (inject them in
    tests); ``unique_id`` makes each send's ``UniqueId``; ``flow`` replaces the limiter built
    from the configuration (to share one across clients).
    """

    def __init__(
        self,
        config: OmlinkConfig,
        *,
        http: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        flow: FlowControl | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        unique_id: Callable[[], str] = random_unique_id,
        logger: logging.Logger | None = None,
    ) -> None:
        if http is not None and transport is not None:
            raise TypeError("pass either http or transport, not both")
        self.config = config
        self._codec = OmlinkCodec(config.schema, config.encoding)
        self._envelope = SoapEnvelope(config.soap, config.encoding)
        self._owns_http = http is None
        self._timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
        self._http = http or _OmlinkHttp(transport=transport, timeout=self._timeout)
        self._flow = flow or FlowControl(
            RateLimiter(config.rate_limit, config.burst, clock=clock, sleep=sleep),
            ConcurrencyLimiter(config.max_concurrency),
        )
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self._unique_id = unique_id
        self._log = logger or _LOG
        self._closed = False
        self._lock = threading.Lock()
        self._auth = httpx.BasicAuth(config.username, config.password) if config.username else None
        self._url: tuple[str, httpx.URL] | None = None  # the endpoint as last parsed
        self._headers_for: tuple[OmlinkConfig, httpx.Headers] | None = None  # as last built
        #: What ``build_request(timeout=self._timeout)`` would put in each request's extensions.
        self._timeout_extension = self._timeout.as_dict()

    @property
    def flow(self) -> FlowControl:
        """The limiter every request of this client goes through (the one given as ``flow``, or
        the in-process one built from the configuration)."""
        return self._flow

    # -- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> OmlinkClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the HTTP client (if this client made it). Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._owns_http:
            self._http.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<OmlinkClient {self.config.endpoint} {state}>"

    # -- the wire -------------------------------------------------------------------------------

    def _headers(self) -> httpx.Headers:
        """The request's own headers, built once (again only if ``config`` is replaced); httpx
        copies them into each request, merged with the HTTP client's."""
        config = self.config
        if self._headers_for is None or self._headers_for[0] is not config:
            headers = {
                "Content-Type": self._envelope.content_type,
                "SOAPAction": self._envelope.soap_action(config.company_id),
            }
            if config.header_name:
                headers[config.header_name] = config.header_value
            self._headers_for = (config, httpx.Headers(headers))
        return self._headers_for[1]

    def _endpoint_url(self) -> httpx.URL:
        """The endpoint, parsed once (again only if ``config`` changes it)."""
        endpoint = self.config.endpoint
        if self._url is None or self._url[0] != endpoint:
            self._url = (endpoint, httpx.URL(endpoint))
        return self._url[1]

    def _post(self, body: bytes) -> tuple[httpx.Response, bytes]:
        """POST ``body`` and read the reply, streaming, up to ``max_reply_bytes``: the response
        (closed: its status and headers) and its content, decoded."""
        request = self._http.build_request(
            "POST",
            self._endpoint_url(),
            content=body,
            headers=self._headers(),
            extensions={"timeout": dict(self._timeout_extension)},
        )
        if self._auth is None:  # leave a given httpx.Client's own auth alone
            response = self._http.send(request, stream=True)
        else:
            response = self._http.send(request, stream=True, auth=self._auth)
        try:
            content = self._read_bounded(response)
        finally:
            response.close()
        return response, content

    def _read_bounded(self, response: httpx.Response) -> bytes:
        limit = self.config.max_reply_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(int(declared))
        chunks: list[bytes] = []
        received = 0
        for chunk in response.iter_bytes():
            received += len(chunk)
            if received > limit:
                raise self._too_large(received)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, received: int) -> PrimaReplyTooLargeError:
        limit = self.config.max_reply_bytes
        return PrimaReplyTooLargeError(
            f"Prima's reply is larger than max_reply_bytes ({limit} bytes; {received} had "
            "arrived): refused without reading the rest; raise max_reply_bytes if replies this "
            "large are expected",
            limit=limit,
            received=received,
        )

    def _send_once(self, request_type: str, body: bytes, attempt: int) -> bytes:
        if self._closed:
            raise PrimaUnavailableError(
                "the OmlinkClient is closed; create a new one", may_have_been_applied=False
            )
        started = self._clock()
        outcome = "error"
        sent_at: float | None = None  # when the request went out (after its slot)
        struggled = False
        try:
            with self._flow.slot(self.config.max_wait, request_type) as granted:
                if not granted:
                    outcome = "throttled"
                    raise PrimaRateLimitedError(
                        f"no rate-limit slot for {request_type} within max_wait; not sent",
                        may_have_been_applied=False,
                    )
                try:
                    sent_at = self._clock()
                    response, content = self._post(body)
                except httpx.TransportError as exc:
                    outcome = type(exc).__name__
                    struggled = True
                    raise classify_transport_error(exc, request_type) from None
                except RuntimeError:  # httpx: the HTTP client was closed; nothing was sent
                    raise PrimaUnavailableError(
                        "the HTTP client was closed; create a new client",
                        may_have_been_applied=False,
                    ) from None
            outcome = str(response.status_code)
            if response.status_code >= 300:
                error = classify_status(response, request_type)
                if response.status_code == 500:
                    # SOAP 1.1 servers send faults as HTTP 500: read the fault if there is one.
                    try:
                        self._envelope.unwrap_reply(content, request_type)
                    except (PrimaRejectedError, PrimaUnavailableError) as fault:
                        error = fault
                    except PrimaProtocolError:
                        pass
                if isinstance(error, PrimaRateLimitedError) and error.retry_after:
                    self._flow.pause(error.retry_after)
                struggled = isinstance(error, PrimaUnavailableError)
                if error is not None:
                    raise error
            return content
        finally:
            ended = self._clock()
            if sent_at is not None and outcome != "error":
                self._flow.observe(request_type, seconds=ended - sent_at, struggled=struggled)
            millis = round((ended - started) * 1000, 1)
            self._log.info(
                "prima request %s attempt %d: %s in %.0f ms",
                request_type,
                attempt,
                outcome,
                millis,
                extra={
                    "prima_request_type": request_type,
                    "prima_attempt": attempt,
                    "prima_outcome": outcome,
                    "prima_duration_ms": millis,
                },
            )

    def _call(self, request: OmlinkRequest, *, read_only: bool) -> tuple[bytes, str]:
        """Send ``request``; the HTTP body and the request type. Retries only if read-only."""
        request_type = self._codec.request_type_of(request)
        body = self._envelope.wrap_request(
            self._codec.encode_request(request), self.config.company_id
        )
        attempt = 1
        while True:
            try:
                return self._send_once(request_type, body, attempt), request_type
            except PrimaUnavailableError as exc:
                delay = (
                    retry_delay(exc, attempt, self.config.retry, self._random)
                    if read_only
                    else None
                )
                if delay is None:
                    raise
            if delay > 0:
                self._sleep(delay)
            attempt += 1

    def _read(self, request: OmlinkRequest, decode: Callable[[str], _T]) -> _T:
        body, request_type = self._call(request, read_only=True)
        return decode(self._envelope.unwrap_reply(body, request_type))

    def _write(self, request: OmlinkRequest, decode: Callable[[str], _T]) -> _T:
        # Prima received the write; an unreadable (or too large) answer leaves its effect unknown.
        request_type = self._codec.request_type_of(request)
        try:
            body, request_type = self._call(request, read_only=False)
            return decode(self._envelope.unwrap_reply(body, request_type))
        except PrimaProtocolError as exc:
            raise PrimaUnavailableError(
                f"Prima's answer to {request_type} was unreadable ({exc}); it may have been "
                "applied: check before sending it again",
                may_have_been_applied=True,
            ) from None

    # -- PrimaGateway ---------------------------------------------------------------------------

    def submit_orders(self, orders: Sequence[SalesOrder]) -> list[SubmitResult]:
        """Submit orders in one ``MultiNewOrder``, sent once (never retried by the client)."""
        if not orders:
            return []
        request = SubmitOrdersRequest(
            orders=tuple(orders), unique_ids=tuple(self._unique_id() for _ in orders)
        )
        numbers = [o.order_number for o in orders]
        return self._write(request, lambda r: self._codec.decode_submit_reply(r, numbers))

    def order_status(self, order_number: str) -> OrderStatusReport:
        """The order's status; ``UNKNOWN_TO_PRIMA`` when Prima answers ERROR (see config)."""
        try:
            report = self._read(
                OrderStatusRequest(order_number=order_number),
                self._codec.decode_order_status_reply,
            )
        except PrimaRejectedError as exc:
            marker = self.config.unknown_order_error.lower()
            if marker and marker not in exc.request_error.lower():
                raise
            return OrderStatusReport(order_number=order_number, status=OrderStatus.UNKNOWN_TO_PRIMA)
        if report.order_number != order_number:
            report = evolve(report, order_number=order_number)
        return report

    def despatch_details(self, order_number: str) -> DespatchDetails:
        """What has been despatched for the order."""
        return self._read(
            DespatchDetailsRequest(order_number=order_number), self._codec.decode_despatch_reply
        )

    def _levels(self, levels: list[StockLevel]) -> list[StockLevel]:
        return levels if self.config.ats_per_depot else total_per_sku(levels)

    def available_to_sell(self, skus: Sequence[SkuCode]) -> list[StockLevel]:
        """ATS of the given SKUs via ``MultiAvailableToSell``, ``ats_chunk_size`` SKUs a request."""
        size = self.config.ats_chunk_size
        levels: list[StockLevel] = []
        for start in range(0, len(skus), size):
            chunk = AtsSkusRequest(skus=tuple(skus[start : start + size]))
            levels += self._read(chunk, lambda r: self._codec.decode_ats_reply(r, skus=True))
        return self._levels(levels)

    def iter_available_to_sell(self, *, chunk_size: int | None = None) -> Iterator[StockLevel]:
        """ATS of the whole catalogue, ``chunk_size`` rows a request (default: the config's)."""
        size = chunk_size if chunk_size is not None else self.config.ats_chunk_size
        if size < 1:
            raise PayloadError("chunk_size must be at least 1", path="chunk_size")

        return self._iter_catalogue(size)

    def _iter_catalogue(self, size: int) -> Iterator[StockLevel]:
        if not self.config.schema.ats_max_rows_attribute:
            # No row cap is known to the installation: the open range answers the whole
            # catalogue at once (as real installations do); hand it on in chunks.
            rows = self._levels(self._read(AtsRangeRequest(), self._codec.decode_ats_reply))
            for start in range(0, len(rows), size):
                yield from rows[start : start + size]
            return

        def fetch(product_from: str, max_rows: int) -> list[StockLevel]:
            request = AtsRangeRequest(product_from=product_from, max_rows=max_rows)
            return self._read(request, self._codec.decode_ats_reply)

        for chunk in iter_catalogue_chunks(fetch, size):
            yield from self._levels(chunk)

    def find_customer(self, *, account_code: str = "", email: str = "") -> PrimaCustomer | None:
        """The customer with this account code, else this e-mail; None if Prima has neither."""
        if not account_code and not email:
            raise PayloadError("find_customer needs an account code or an e-mail address")
        return self._read(
            CustomerFindRequest(account_code=account_code, email=email),
            self._codec.decode_customer_find_reply,
        )

    def create_customer(self, details: CustomerDetails) -> PrimaCustomer:
        """Create a customer account (sent once: look it up before creating it again)."""
        return self._write(
            CustomerCreateRequest(details=details), self._codec.decode_customer_create_reply
        )

    def list_depots(self) -> list[Depot]:
        """Every depot Prima knows."""
        return self._read(DepotListRequest(), self._codec.decode_depot_list_reply)

    def post_journal(self, batch: JournalBatch) -> JournalPostingResult:
        """Post a journal batch (sent once; Prima de-duplicates on the batch id)."""
        return self._write(PostJournalRequest(batch=batch), self._codec.decode_journal_reply)

    # -- PrimaOrderChanges (site-specific requests) ----------------------------------------------

    def cancel_order(self, order_number: str, *, reason: str = "") -> None:
        """Ask Prima to cancel an order (``CancelOrder``, site-specific; sent once)."""
        request = CancelOrderRequest(order_number=order_number, reason=reason)
        kind = self._codec.request_type_of(request)
        self._write(request, lambda reply: self._codec.decode_ack_reply(reply, kind))

    def record_return(self, order_number: str, lines: Sequence[ReturnLine]) -> None:
        """Report returned quantities (``OrderReturn``, site-specific; sent once, Prima keeps a
        return reference once)."""
        request = OrderReturnRequest(order_number=order_number, lines=tuple(lines))
        kind = self._codec.request_type_of(request)
        self._write(request, lambda reply: self._codec.decode_ack_reply(reply, kind))
