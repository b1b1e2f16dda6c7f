"""PrimaEmulator: a stateful Prima speaking omlink SOAP over HTTP, as a WSGI application.

POST a SOAP envelope carrying a request string (``wsomhandler`` or ``comwsomhandler``) and get
the reply string back in the same encoding as the request declares (ISO-8859-1 or UTF-8).
``GET ?wsdl`` (or ``/wsdl?targetURI=urn:omlink``) answers its WSDL in ``wsdl_style``
(document/literal qualified or unqualified, or RPC/literal) with the ``soap_names`` it speaks, and
a call that does not fit that WSDL (another operation or parameter name, namespace or order) gets
a SOAP Client fault naming what was expected, as a real SOAP stack answers. The XML on both sides
is the library's own omlink codec (its server half), so the emulator and the client agree by
construction and the emulator tests the client's real bytes.

Transport-level faults (timeouts, resets, lost replies) cannot be expressed by a WSGI response:
the application marks them with the ``X-Prima-Emulator-Fault`` header, and
:meth:`PrimaEmulator.transport` or :meth:`PrimaEmulator.serve` turn the mark into the failure.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx

from ...errors import PayloadError
from ...prima._xml import (
    Encoding,
    OmlinkCodec,
    OmlinkSchema,
    ReplyDialect,
    SoapEnvelope,
    SoapNames,
)
from ._dispatch import Route, route
from ._driving import ScenarioDriver
from ._faults import PrimaFault, PrimaFaultKind, PrimaFaultPlan
from ._hostile import bad_document, truncated
from ._http import FAULT_HEADER, FaultRaisingTransport, serve_wsgi
from ._rate_log import RequestRateLog, ServerRateLimit
from ._strict import unconfirmed_parts
from ._world import PrimaWorld
from ._wsdl import WsdlStyle, read_call, wsdl_for

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

__all__ = ["PrimaEmulator"]

_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_MAX_BODY = 16 * 1024 * 1024
_Reply = tuple[str, list[tuple[str, str]], bytes]


def _declared_encoding(text: bytes, default: Encoding) -> Encoding:
    match = _DECLARED.match(text)
    if match is None:
        return default
    name = match.group(1).decode("ascii").upper().replace("_", "-")
    if name in {"UTF-8", "UTF8"}:
        return Encoding.UTF_8
    if name in {"ISO-8859-1", "LATIN-1", "LATIN1"}:
        return Encoding.ISO_8859_1
    return default


class PrimaEmulator(ScenarioDriver):
    """An omlink web service over a :class:`PrimaWorld`, with fault injection.

    Mount it in-process with :meth:`transport` (``httpx.Client(transport=emulator.transport(),
    base_url="http://prima.test")``) or serve it on loopback with :meth:`serve`. ``schema`` and
    ``soap_names`` must match the client's configuration; ``wsdl_style`` defaults to the
    document/literal style of ``soap_names.qualified_parameters``; ``wsdl_location`` is the service
    address the WSDL publishes (default: the address it was asked at, as most installations do;
    set it to mimic one that names an internal host). Latency goes through ``sleep``;
    ``timeout_hold`` is how long a served timeout fault holds the connection (a client with a
    shorter read timeout sees a timeout; stopping the server releases it at once).
    ``arrivals`` records when each SOAP request arrived and which were answered 429
    (:class:`RequestRateLog`), so a test or a benchmark can check the rate the clients sent from
    Prima's side. ``rate_limit`` (and ``rate_burst``) puts a gateway's rate limit in front of the
    service: a request beyond it is answered 429 with ``Retry-After`` and not applied;
    :meth:`limit_rate` changes it while the emulator serves.

    Replies have the shapes a real installation gave (root ``Result``, each order's outcome on
    its ``Data`` block, ``(E:nnn)`` refusals, ``SKU``/``sku`` stock rows); a world made with
    ``legacy_replies=True`` is answered in the older documented shapes instead.

    ``strict`` refuses, with an ERROR reply as a real installation would, every request type and
    attribute no public source confirms (``_strict.py``), except the request types named in
    ``opted_in`` (``RequestTypeNames`` field names, e.g. ``{"despatch_details"}``: what a
    configuration opted in to); what it refused is listed in :attr:`refused`. The library's
    default configuration passes it.
    """

    def __init__(
        self,
        world: PrimaWorld | None = None,
        *,
        faults: PrimaFaultPlan | None = None,
        schema: OmlinkSchema | None = None,
        soap_names: SoapNames | None = None,
        wsdl_style: WsdlStyle | None = None,
        wsdl_location: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout_hold: float = 5.0,
        strict: bool = False,
        opted_in: frozenset[str] = frozenset(),
        rate_limit: float | None = None,
        rate_burst: int = 1,
    ) -> None:
        self.world = world if world is not None else PrimaWorld()
        self.strict = strict
        self.opted_in = frozenset(opted_in)
        self.refused: list[str] = []
        self._schema = schema or OmlinkSchema()
        self.faults = faults if faults is not None else PrimaFaultPlan()
        self.soap_names = soap_names or SoapNames()
        self.wsdl_style = wsdl_style or WsdlStyle.of(self.soap_names)
        if self.wsdl_style.qualified != self.soap_names.qualified_parameters:
            raise ValueError(
                f"wsdl_style {self.wsdl_style} and soap_names.qualified_parameters="
                f"{self.soap_names.qualified_parameters} disagree"
            )
        self.wsdl_location = wsdl_location
        self.timeout_hold = timeout_hold
        self._sleep = sleep
        self.arrivals = RequestRateLog()
        self._limit: ServerRateLimit | None = None
        self.limit_rate(rate_limit, burst=rate_burst)
        dialect = ReplyDialect.LEGACY if self.world.legacy_replies else ReplyDialect.RESULT
        self._codecs = {enc: OmlinkCodec(schema, enc, dialect=dialect) for enc in Encoding}
        self._envelopes = {enc: SoapEnvelope(self.soap_names, enc) for enc in Encoding}

    def limit_rate(self, rate: float | None, *, burst: int = 1) -> None:
        """From now on answer 429 to requests beyond ``rate`` per second (``burst`` at once);
        None: no limit."""
        self._limit = (
            None if rate is None else ServerRateLimit(rate, burst, clock=self.arrivals.clock)
        )

    # -- WSGI -------------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application."""
        status, headers, body = self._respond(environ)
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _respond(self, environ: WSGIEnvironment) -> _Reply:
        method = environ.get("REQUEST_METHOD", "GET")
        query = environ.get("QUERY_STRING", "")
        path = environ.get("PATH_INFO", "/")
        if method == "GET" and (query.lower() == "wsdl" or path.rstrip("/").endswith("/wsdl")):
            location = self.wsdl_location or self._asked_location(environ)
            wsdl = wsdl_for(self.soap_names, location, self.wsdl_style)
            return "200 OK", [("Content-Type", "text/xml; charset=UTF-8")], wsdl
        if method != "POST":
            return "405 Method Not Allowed", [("Allow", "GET, POST")], b""
        raw_length = str(environ.get("CONTENT_LENGTH") or "0")
        if not raw_length.isdigit():
            return "400 Bad Request", [], b""
        length = int(raw_length)
        if length > _MAX_BODY:
            return "413 Content Too Large", [], b""
        return self.handle_soap(environ["wsgi.input"].read(length))

    @staticmethod
    def _asked_location(environ: WSGIEnvironment) -> str:
        """The service address the WSDL was asked for (its URL without ``/wsdl`` and query)."""
        host = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "/")
        path = path.rstrip("/")
        return host + (path.removesuffix("/wsdl") or "/")

    def handle_soap(self, body: bytes) -> _Reply:
        """Answer one SOAP request body: (status, headers, body)."""
        outer = _declared_encoding(body, Encoding.ISO_8859_1)
        envelope = self._envelopes[outer]
        try:
            call = read_call(body, self.soap_names, self.wsdl_style)
        except PayloadError as exc:
            self.arrivals.record()  # a request all the same, of no type
            return self._soap_fault(envelope, "Client", str(exc))
        request_type = _request_type_of(call.request)
        self.arrivals.record(request_type)
        limit = self._limit
        wait = 0.0 if limit is None else limit.admit()
        if wait > 0:
            self.arrivals.record_rate_limited(request_type)
            headers = [
                ("Retry-After", str(max(1, math.ceil(wait)))),
                ("Content-Type", "text/plain"),
            ]
            return "429 Too Many Requests", headers, b"rate limited"
        encoding = _declared_encoding(call.request.encode("utf-8"), outer)
        codec, envelope = self._codecs[encoding], self._envelopes[encoding]
        if self.strict:
            unconfirmed = unconfirmed_parts(call.request, self._schema, self.opted_in)
            if unconfirmed:
                self.refused.extend(unconfirmed)
                reply = codec.encode_error_reply(
                    _request_type_of(call.request),
                    "The XML may be Invalid or may contain invalid characters. Not known to "
                    f"this installation: {', '.join(unconfirmed)}",
                )
                return self._ok(envelope, envelope.wrap_reply(reply, call.operation))
        try:
            request = codec.decode_request(call.request)
        except PayloadError as exc:
            reply = codec.encode_error_reply(_request_type_of(call.request), str(exc))
            return self._ok(envelope, envelope.wrap_reply(reply, call.operation))
        chosen = route(self.world, codec, request)
        fault = self.faults.next_fault(chosen.kind)
        if fault is None:
            self.world.record_request(chosen.kind, chosen.keys, applied=True)
            return self._ok(envelope, envelope.wrap_reply(chosen.run(), call.operation))
        return self._faulted(fault, chosen, codec, envelope, call.operation)

    def _faulted(
        self,
        fault: PrimaFault,
        chosen: Route,
        codec: OmlinkCodec,
        envelope: SoapEnvelope,
        operation: str,
    ) -> _Reply:
        if fault.delay:
            self._sleep(fault.delay)
        applied = fault.applies_request
        self.world.record_request(chosen.kind, chosen.keys, applied=applied, fault=fault.kind.value)
        reply = chosen.run() if applied else ""
        kind = fault.kind
        if kind is PrimaFaultKind.LATENCY:
            return self._ok(envelope, envelope.wrap_reply(reply, operation))
        if kind is PrimaFaultKind.ERROR_REPLY:
            error = codec.encode_error_reply(chosen.request_type, fault.message)
            return self._ok(envelope, envelope.wrap_reply(error, operation))
        if kind is PrimaFaultKind.RATE_LIMITED:
            self.arrivals.record_rate_limited(chosen.request_type)
            headers = [("Retry-After", str(fault.retry_after)), ("Content-Type", "text/plain")]
            return "429 Too Many Requests", headers, b"rate limited"
        if kind is PrimaFaultKind.SERVER_ERROR:
            body = envelope.wrap_fault("Server", "simulated server error")
            return f"{fault.status} Server Error", [("Content-Type", envelope.content_type)], body
        if kind.is_hostile_reply:
            return self._ok(envelope, self._bad_body(fault, codec, envelope, reply, operation))
        mark = "timeout" if kind is PrimaFaultKind.TIMEOUT else "lost" if applied else "reset"
        return "599 Transport Fault", [(FAULT_HEADER, mark)], b""

    def _bad_body(
        self,
        fault: PrimaFault,
        codec: OmlinkCodec,
        envelope: SoapEnvelope,
        reply: str,
        operation: str,
    ) -> bytes:
        encoding = codec.encoding
        if fault.kind is PrimaFaultKind.TRUNCATED_XML:
            if fault.in_reply:
                whole = reply or codec.encode_error_reply("", "simulated")
                cut = truncated(whole.encode(encoding.value)).decode(encoding.value, "ignore")
                return envelope.wrap_reply(cut, operation)
            return truncated(envelope.wrap_reply(reply or "<Reply/>", operation))
        document = bad_document(fault.kind, encoding)
        if fault.in_reply:
            return envelope.wrap_reply(document, operation)
        return document.encode(encoding.value)

    @staticmethod
    def _ok(envelope: SoapEnvelope, body: bytes) -> _Reply:
        return "200 OK", [("Content-Type", envelope.content_type)], body

    @staticmethod
    def _soap_fault(envelope: SoapEnvelope, code: str, text: str) -> _Reply:
        body = envelope.wrap_fault(code, text)
        return "500 Internal Server Error", [("Content-Type", envelope.content_type)], body

    # -- mounting and serving ---------------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        """An httpx transport into this emulator, in process, with transport faults raised."""
        return FaultRaisingTransport(httpx.WSGITransport(app=self))

    @contextmanager
    def serve(self, host: str = "127.0.0.1", *, port: int = 0) -> Iterator[str]:
        """Serve over real HTTP on ``port`` (0: a free one) of ``host``; yields the base URL,
        stops on exit."""
        with serve_wsgi(self, host, self.timeout_hold, port) as url:
            yield url


_REQUEST_TYPE = re.compile(r"""RequestType\s*=\s*["']([^"'<>]{1,64})["']""")


def _request_type_of(text: str) -> str:
    match = _REQUEST_TYPE.search(text)
    return match.group(1) if match else ""
